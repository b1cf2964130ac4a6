"""Writes make bench's output (scripts/bench/bench.py's lines) into docs/performance.md, between
its `<!-- make bench: begin -->` and `<!-- make bench: end -->` markers, with the date."""

import datetime
import sys
from pathlib import Path

BEGIN, END = "<!-- make bench: begin -->", "<!-- make bench: end -->"


def main(output_path, doc_path):
    output = Path(output_path).read_text().strip()
    doc = Path(doc_path)
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{doc_path} has no {BEGIN} … {END} block to write the table into")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    today = datetime.date.today().isoformat()
    block = f"{BEGIN}\nWritten by `make bench` on {today}:\n\n{output}\n{END}"
    doc.write_text(head + block + tail)


if __name__ == "__main__":
    main(*sys.argv[1:])

"""No phone number or email address, whole, in any log line the functions wrote during
make test's browser and schemathesis runs (.local/*-watch.log: the functions' own JSON log
lines under cargo lambda watch; .local/*-local-api.log: the local HTTP API). A log keeps a
phone's last three digits and an email's domain at most (shared/src/redact.rs). Run by
scripts/test/test.sh after those runs; alone, it fails for want of logs."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PHONE = re.compile(r"\+\d{7,15}")
# A local part of at least one character the masked form ("…@domain") does not have.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


# The examples the validation messages give (shared/src/domain.rs: "e.g. +447700900123",
# "an address such as ann@example.com"): documentation, nobody's contact.
EXAMPLES = {"+447700900123", "ann@example.com"}


def contacts_in(line):
    found = PHONE.findall(line) + [m.group(0) for m in EMAIL.finditer(line)]
    return [contact for contact in found if contact not in EXAMPLES]


def log_lines():
    """The JSON log lines of this run's local stacks, by file."""
    for path in sorted((ROOT / ".local").glob("*-watch.log")) + sorted((ROOT / ".local").glob("*-local-api.log")):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            try:
                json.loads(line)
            except ValueError:
                continue  # cargo lambda's own lines
            yield f"{path.name}:{number}", line


def test_the_scanner_finds_whole_contacts_and_passes_masked_ones():
    assert contacts_in('{"contact":"phone#+447700900106"}') == ["+447700900106"]
    assert contacts_in('{"email":"ann.e@acme.example"}') == ["ann.e@acme.example"]
    assert contacts_in('{"contact":"phone#…106","email":"email#…@acme.example"}') == []
    assert contacts_in('{"at":"2026-12-02T23:11:27Z","request_id":"1c6ef55b0e1544="}') == []
    assert contacts_in('{"reason":"email must be an address such as ann@example.com."}') == []


def test_no_log_line_of_this_run_holds_a_contact():
    lines = list(log_lines())
    assert len(lines) > 50, f"only {len(lines)} log lines found: run make test, which writes them"
    found = [(where, contacts_in(line)) for where, line in lines if contacts_in(line)]
    assert found == [], "\n".join(f"{where}: {contacts}" for where, contacts in found[:20])

"""make prune: what the checkout's debug build no longer uses, removed from target/debug.

Cargo never deletes an artefact: every change of a dependency, a feature or a flag leaves
the old units beside the new ones, and rustc's incremental state of a crate stays after
the crate has changed hashes. Over a long session target/ grows without bound. This asks
cargo itself which units the one debug build is made of (`cargo build --workspace
--all-targets --message-format=json`, nothing compiled when the build is fresh; it is
built first when it is not), then removes every unit of deps/, build/ and .fingerprint/
whose hash is not among them, and the incremental state no compilation has used for a day
(a crate compiled since keeps its own). Prints the folder's size before and after.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HASH = re.compile(r"-([0-9a-f]{16})(?:\.[A-Za-z0-9.]+)?$")
DAY = 24 * 3600


def size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def hash_of(name: str):
    found = HASH.search(name)
    return found.group(1) if found else None


def units_in_use() -> set[str]:
    """The hashes of every unit of the debug build, as cargo reports them."""
    command = ["cargo", "build", "--workspace", "--all-targets", "--message-format=json"]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    used, uplifted = set(), set()
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        paths = list(message.get("filenames") or [])
        if message.get("executable"):
            paths.append(message["executable"])
        if message.get("out_dir"):
            paths.append(str(Path(message["out_dir"]).parent))
        for path in paths:
            hashed = [unit for part in Path(path).parts if (unit := hash_of(part)) is not None]
            used.update(hashed)
            if not hashed and os.path.exists(path):
                # A binary is reported where cargo puts it for use (target/debug/NAME), a hard
                # link to its unit in deps/: that unit is found by the file they share.
                uplifted.add(os.stat(path).st_ino)
    deps = Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "debug/deps"
    for entry in deps.iterdir() if deps.is_dir() else ():
        if entry.stat().st_ino in uplifted and (unit := hash_of(entry.name)) is not None:
            used.add(unit)
    if not used:
        sys.exit("make prune: cargo named no unit of the build; nothing removed")
    return used


def remove(path: Path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def main():
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    profile = target / "debug"
    before = size(target)
    used = units_in_use()
    removed = 0
    for folder in ("deps", "build", ".fingerprint"):
        for entry in (profile / folder).iterdir() if (profile / folder).is_dir() else ():
            unit = hash_of(entry.name)
            if unit is not None and unit not in used:
                remove(entry)
                removed += 1
    now = time.time()
    stale = 0
    incremental = profile / "incremental"
    for entry in incremental.iterdir() if incremental.is_dir() else ():
        newest = max((child.stat().st_mtime for child in entry.iterdir()), default=entry.stat().st_mtime)
        if now - newest > DAY:
            remove(entry)
            stale += 1
    after = size(target)
    print(f"make prune: {removed} unused units and {stale} day-old incremental states removed; "
          f"{target}: {before / 2**30:.1f} GiB before, {after / 2**30:.1f} GiB after")


if __name__ == "__main__":
    main()

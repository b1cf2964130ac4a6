"""Two checkouts of the repository on one machine each run their own code.

Two clones of this checkout (as it is, uncommitted changes included), one of them changed
where the local HTTP API shows it: a line it prints at start (compiled in) and the console
page it serves (read at run time from the checkout it was built in). Each builds `local-api`
with `make build` in turn, a, b, a, b, as a developer with a second clone for a review would;
then each clone's `local-api`, from the target folder its own Makefile names, is started
and must show that clone's change and not the other's. With one target folder shared by
every checkout the last build is "fresh" and both clones run the same binary.

What the point needs is built, and no more: each clone's target folder begins as a copy of
this checkout's build (its dependencies compiled, with their times kept), so that each clone
compiles only the workspace's own crates that `local-api` is made of, whose sources in the
clone are newer than anything copied. A clone that ran the copied binary would show this
checkout's `local-api`, without b's change: the last assertion fails, as it does with the
old shared folder.
"""

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARK = "built from checkout b"


def run(*args, cwd, env=None):
    return subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def user_environment():
    """The environment of a developer's shell: nothing that make test itself exported."""
    env = dict(os.environ)
    for name in list(env):
        if name in ("CARGO_TARGET_DIR", "RUSTC_WRAPPER", "SCCACHE_DIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
            del env[name]
    return env


def clone(into: Path) -> Path:
    """A clone of this checkout with its uncommitted changes, sharing its tools (.tools)."""
    run("git", "clone", "-q", str(ROOT), str(into), cwd=ROOT)
    diff = run("git", "diff", "HEAD", "--binary", cwd=ROOT)
    if diff:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=into, input=diff, text=True, check=True)
    for untracked in run("git", "ls-files", "--others", "--exclude-standard", cwd=ROOT).splitlines():
        (into / untracked).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / untracked, into / untracked)
    # The virtual environment is a tool, not a build of the checkout: shared, not reinstalled.
    (into / ".tools").symlink_to(ROOT / ".tools")
    return into


def seed(checkout: Path, built: Path):
    """The checkout's target folder begins as a copy of `built`'s debug build, times kept
    (cargo then finds the dependencies fresh); the incremental state of the workspace's own
    crates is left behind. Nothing when this checkout has not built yet."""
    profile = built / "debug"
    if not (profile / "deps").is_dir():
        return
    into = target_dir(checkout) / "debug"
    if into.exists():
        return  # a folder another checkout has seeded already: shared, which the tests catch
    into.mkdir(parents=True)
    for part in ("deps", "build", ".fingerprint"):
        subprocess.run(["cp", "-a", str(profile / part), str(into / part)], check=True)


def target_dir(checkout: Path) -> Path:
    """Where this checkout's Makefile sends cargo's builds."""
    printed = run(
        "make", "-s", "--no-print-directory", "--eval=print-target-dir: ; @echo $(CARGO_TARGET_DIR)",
        "print-target-dir", cwd=checkout, env=user_environment(),
    )
    return Path(printed.strip())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_api_of(checkout: Path):
    """Starts the checkout's built local-api; returns (what it printed at start, its console page)."""
    api, console = free_port(), free_port()
    env = user_environment() | {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # never called: the page needs no emulator
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "USER_POOL_ID": "eu-west-1_checkout",
        "USER_POOL_CLIENT_ID": "checkout",
        "API_URL": f"http://127.0.0.1:{api}",
        "CONSOLE_URL": f"http://127.0.0.1:{console}",
    }
    binary = target_dir(checkout) / "debug/local-api"
    process = subprocess.Popen([str(binary)], cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line)
            if line.startswith("reference console on"):
                break
        assert printed and printed[-1].startswith("reference console on"), f"{binary} did not start: {''.join(printed)}"
        with urllib.request.urlopen(f"http://127.0.0.1:{console}/index.html", timeout=10) as page:
            return "".join(printed), page.read().decode()
    finally:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory):
    base = tmp_path_factory.mktemp("checkouts")
    # Two copies of this checkout's build (about 3 GB each): removed whatever happens, a
    # failed build included, so that runs do not pile them up on the machine's disk.
    try:
        a, b = clone(base / "a"), clone(base / "b")
        for checkout in (a, b):
            seed(checkout, target_dir(ROOT))
        local_api = b / "local/src/bin/local-api.rs"
        source = local_api.read_text()
        assert 'println!("reference console on {console_url}");' in source
        local_api.write_text(source.replace(
            'println!("reference console on {console_url}");',
            f'println!("{MARK}");\n    println!("reference console on {{console_url}}");',
        ))
        page = b / "console/public/index.html"
        page.write_text(page.read_text().replace("</body>", f"<!-- {MARK} --></body>"))
        for checkout in (a, b, a, b):
            subprocess.run(["make", "-s", "build", "TARGETS=--bin local-api"], cwd=checkout,
                           env=user_environment(), check=True, stdout=subprocess.DEVNULL)
        yield a, b
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_each_checkout_builds_into_a_folder_of_its_own(checkouts):
    a, b = checkouts
    assert target_dir(a) != target_dir(b)
    assert target_dir(a).resolve().is_relative_to(a.resolve())
    assert target_dir(b).resolve().is_relative_to(b.resolve())


def test_the_unchanged_checkout_runs_its_own_code(checkouts):
    a, _ = checkouts
    printed, page = local_api_of(a)
    assert MARK not in printed
    assert MARK not in page


def test_the_changed_checkout_runs_its_change(checkouts):
    _, b = checkouts
    printed, page = local_api_of(b)
    assert MARK in printed, "b's local-api is not built from b's sources"
    assert MARK in page, "b's local-api serves another checkout's console"

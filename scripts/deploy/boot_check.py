"""Boot check of the built bootstraps: every function of infra/template.yaml must have its
`bootstrap` under BUILD_DIR, for ARCH, needing no glibc above what provided.al2023 ships
(2.34) nor libm.so.6 (see shared/src/pow.rs), hardened (position-independent, full RELRO,
a non-executable stack: `hardening_problems`), and must start as Lambda starts it (under
qemu-user when it is not this machine's architecture) against a local Runtime API with the
functions' environment, and answer its requests as the fixtures say.

usage: boot_check.py BUILD_DIR ARCH ENV_FILE
ENV_FILE holds the functions' environment for a provisioned and seeded emulator
(`devstack up --env-file`).
"""

import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
from runtime_api import RuntimeApi, lambda_environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
GLIBC_MAX = (2, 34)  # provided.al2023
ELF_MACHINES = {62: "x86_64", 183: "arm64"}
QEMU = {"arm64": ("/usr/bin/qemu-aarch64-static", "/usr/aarch64-linux-gnu")}


def http_status(expected_status, check=None):
    def verify(kind, body):
        if kind != "response" or not isinstance(body, dict):
            return f"expected an HTTP response, got {kind}: {body!r:.300}"
        if body.get("statusCode") != expected_status:
            return f"expected status {expected_status}, got {body.get('statusCode')}: {body.get('body')!r:.300}"
        return check(json.loads(body.get("body") or "null")) if check else None
    return verify


def lists_the_seed(page):
    members = (page or {}).get("members") or []
    if not members:
        return f"expected the seeded members, got {page!r:.300}"
    return None


def returns_the_event(event):
    def verify(kind, body):
        if kind != "response" or body != event:
            return f"a Cognito trigger must answer its event unchanged, got {kind}: {body!r:.300}"
        return None
    return verify


def reconciles(kind, body):
    if kind != "response" or not isinstance(body, dict):
        return f"expected a pass report, got {kind}: {body!r:.300}"
    return None


def audits_drift(kind, body):
    if kind != "response" or not isinstance(body, dict) or not body.get("membersChecked"):
        return f"expected a drift report over the seeded members, got {kind}: {body!r:.300}"
    return None


def publishes(kind, body):
    if kind != "response" or body != {"batchItemFailures": []}:
        return f"expected every entry published, got {kind}: {body!r:.300}"
    return None


def fixture(binary, name):
    return json.loads((ROOT / "events" / binary / f"{name}.json").read_text())


def cases(binary):
    """(name, event, verify) for each request a function gets in the check."""
    if binary == "member-verified":
        event = fixture(binary, "unknown-user")
        return [("unknown-user", event, returns_the_event(event))]
    if binary == "reconciler":
        return [("scheduled", fixture(binary, "scheduled"), reconciles)]
    if binary == "drift-audit":
        return [("scheduled", fixture(binary, "scheduled"), audits_drift)]
    if binary == "publish-events":
        return [("new-entries", fixture(binary, "new-entries"), publishes)]
    found = [("no-authorizer", fixture(binary, "no-authorizer"), http_status(401))]
    if binary == "list-members":
        found.append(("admin-lists", fixture(binary, "admin-lists"), http_status(200, lists_the_seed)))
    return found


class Loader(yaml.SafeLoader):
    pass


Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def functions():
    template = yaml.load((ROOT / "infra" / "template.yaml").read_text(), Loader=Loader)
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            yield logical_id, resource["Metadata"]["BuildProperties"]["Binary"]


def elf_arch(path):
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return "not ELF"
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "other")


def hardening_problems(path):
    """What an executable lacks of the hardening every function must have: a position-
    independent executable (its code and data at a random address, ASLR), full RELRO (its
    relocated pointers read-only once loaded: a GNU_RELRO segment and BIND_NOW, so no lazy
    binding leaves the GOT writable), and a stack that cannot be executed (GNU_STACK
    without E). rustc gives all of them by default; this says that the link kept them."""
    header = subprocess.run(["readelf", "-W", "-h", str(path)], check=True, capture_output=True, text=True).stdout
    segments = subprocess.run(["readelf", "-W", "-l", str(path)], check=True, capture_output=True, text=True).stdout
    dynamic = subprocess.run(["readelf", "-W", "-d", str(path)], check=True, capture_output=True, text=True).stdout
    problems = []
    if not re.search(r"Type:\s+DYN ", header) or not re.search(r"\(FLAGS_1\).*\bPIE\b", dynamic):
        problems.append("not a position-independent executable")
    if "GNU_RELRO" not in segments:
        problems.append("no RELRO segment")
    if not re.search(r"\(FLAGS\).*\bBIND_NOW\b", dynamic) and not re.search(r"\(FLAGS_1\).*\bNOW\b", dynamic):
        problems.append("no BIND_NOW (partial RELRO only)")
    stack = re.search(r"GNU_STACK\s+(?:\S+\s+){5}(\S+)", segments)
    if not stack:
        problems.append("no GNU_STACK segment (an executable stack by default)")
    elif "E" in stack.group(1):
        problems.append("an executable stack")
    return problems


def relative_relocations(path):
    """How many R_*_RELATIVE relocations the dynamic loader applies at each start."""
    text = subprocess.run(["readelf", "-W", "-r", str(path)], check=True, capture_output=True, text=True).stdout
    return sum(1 for line in text.splitlines() if "_RELATIVE" in line)


def needed_libraries(path):
    """The shared libraries the executable names (DT_NEEDED)."""
    text = subprocess.run(["readelf", "-W", "-d", str(path)], check=True, capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", text)


# shared::pow defines the one libm function the SDK calls, so that no cold start loads libm.
NOT_NEEDED = ("libm.so.6",)


def highest_glibc(path):
    """The highest GLIBC_x.y version the executable needs, from its version-needs section."""
    text = subprocess.run(["readelf", "-W", "-V", str(path)], check=True, capture_output=True, text=True).stdout
    versions = {tuple(int(n) for n in m.split(".")) for m in re.findall(r"GLIBC_([0-9]+(?:\.[0-9]+)+)", text)}
    return max(versions) if versions else None


def read_env(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value
    return env


def command_for(bootstrap, arch):
    host = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine())
    if arch == host:
        return [str(bootstrap)], {}
    qemu, sysroot = QEMU[arch]
    return [qemu, str(bootstrap)], {"QEMU_LD_PREFIX": sysroot}


def boot(logical_id, binary, bootstrap, arch, function_env):
    api = RuntimeApi(function_name=logical_id)
    command, extra = command_for(bootstrap, arch)
    env = {"PATH": "/usr/bin:/bin", **function_env, **extra, **lambda_environment(logical_id, api.address)}
    log = open(ROOT / ".local" / f"boot-{binary}.log", "w")
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    problems = []
    try:
        for name, event, verify in cases(binary):
            try:
                kind, body = api.invoke(event, timeout=120)
            except TimeoutError:
                code = process.poll()
                problems.append(f"{name}: no answer" + (f" (exited with {code})" if code is not None else ""))
                break
            problem = verify(kind, body)
            if problem:
                problems.append(f"{name}: {problem}")
        if api.init_error is not None:
            problems.append(f"init error: {api.init_error!r:.300}")
    finally:
        process.kill()
        process.wait()
        log.close()
        api.close()
    init_ms = (api.first_next_at - started) * 1000 if api.first_next_at else None
    return problems, init_ms


def refuses_a_missing_bundle(bootstrap, arch, function_env):
    """Started with an AWS_CA_BUNDLE that names no file, a function stops at its cold start,
    before asking for an event, and its log names the variable."""
    api = RuntimeApi(function_name="bad-bundle")
    command, extra = command_for(bootstrap, arch)
    env = {"PATH": "/usr/bin:/bin", **function_env, **extra, **lambda_environment("bad-bundle", api.address),
           "AWS_CA_BUNDLE": "/nonexistent/bundle.pem"}
    try:
        result = subprocess.run(command, env=env, capture_output=True, timeout=120)
    finally:
        api.close()
    problems = []
    if result.returncode == 0:
        problems.append("exited 0")
    if api.first_next_at is not None:
        problems.append("asked for an event")
    if b"AWS_CA_BUNDLE" not in result.stdout + result.stderr:
        problems.append("did not name AWS_CA_BUNDLE")
    return problems


def main():
    build_dir, arch, env_file = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    function_env = read_env(env_file)
    failures = 0
    for logical_id, binary in functions():
        bootstrap = build_dir / logical_id / "bootstrap"
        if not bootstrap.is_file():
            print(f"{logical_id}: FAIL no bootstrap at {bootstrap}")
            failures += 1
            continue
        problems = []
        machine = elf_arch(bootstrap)
        if machine != arch:
            problems.append(f"built for {machine}, not {arch}")
        glibc = highest_glibc(bootstrap)
        if glibc is None:
            problems.append("needs no versioned glibc symbol: not the dynamically linked executable expected")
        elif glibc > GLIBC_MAX:
            problems.append(f"needs GLIBC_{'.'.join(map(str, glibc))}, above provided.al2023's 2.34")
        needed = needed_libraries(bootstrap)
        problems += [f"needs {library} (see shared/src/pow.rs)" for library in needed if library in NOT_NEEDED]
        relocations = relative_relocations(bootstrap)
        hardening = hardening_problems(bootstrap)
        problems += hardening
        init_ms = None
        if not problems:
            boot_problems, init_ms = boot(logical_id, binary, bootstrap, arch, function_env)
            problems += boot_problems
        size = bootstrap.stat().st_size
        glibc_text = "GLIBC_" + ".".join(map(str, glibc)) if glibc else "no glibc"
        init_text = f"init {init_ms:.0f} ms" if init_ms is not None else "not started"
        verdict = "ok" if not problems else "FAIL " + "; ".join(problems)
        print(f"{logical_id}: {machine}, {size} bytes, {glibc_text}, needs {' '.join(needed)},"
              f"{' PIE, full RELRO, NX stack,' if not hardening else ''} {relocations} relative relocations, {init_text}"
              f"{' under qemu' if command_for(bootstrap, arch)[1] else ''}: {verdict}")
        failures += bool(problems)
    bootstrap = build_dir / "ListMembersFunction" / "bootstrap"
    if bootstrap.is_file():
        problems = refuses_a_missing_bundle(bootstrap, arch, function_env)
        print("ListMembersFunction with AWS_CA_BUNDLE naming no file: "
              + ("ok (stopped at its cold start, naming it)" if not problems else "FAIL " + "; ".join(problems)))
        failures += bool(problems)
    if failures:
        print(f"boot check: {failures} function(s) failed (logs: .local/boot-*.log)")
        return 1
    print("boot check: every function started and answered")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""make bench: cold start, per-request cost, memory and size of every function beside two
baselines built with the same release profile (bench-hello: lambda_runtime; bench-echo:
lambda_http), each release binary started as Lambda starts it, against a local Runtime API
(scripts/lib/runtime_api.py), in one run, side by side.

usage: bench.py RELEASE_DIR ENV_FILE [ROUNDS]

- init: exec → the first `GET /next` (the end of the function's init), the median of ROUNDS
  (default 51) cold starts, the binaries taken in turn within each round; beside it the
  median of the page faults each process took by then (its rusage);
- cold first answer: exec → list-members' first answer (a 200 from the seeded emulator),
  the median of 9 cold starts; the echo's beside it;
- warm: p50 and p99 of 200 requests answered without an AWS call (an event with no
  authorizer: every HTTP function answers 401 at once; the echo answers its path), and
  list-members' p50/p99 of 200 real lists against the emulator;
- peak RSS: VmHWM after 200 real lists (the echo: after its 200 requests);
- size: the stripped executables (x86_64 here), and the arm64 bootstraps of make sam-build.
Targets, as ratios in this run: init <= 1.5x hello, size <= 6 MiB, peak RSS <=
2x echo, warm <= 1.5x echo. Prints the table, then each target met or not.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
from boot_check import Loader, functions, read_env  # noqa: E402
from runtime_api import RuntimeApi, lambda_environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
MIB = 1024 * 1024
FIRST_ANSWERS = 9


def http_functions():
    """The binaries API Gateway invokes (an `HttpApi` event in the template): the others (the
    sign-in trigger, the stream consumer, the scheduled passes) take no HTTP event."""
    import yaml

    template = yaml.load((ROOT / "infra" / "template.yaml").read_text(), Loader=Loader)
    return {
        resource["Metadata"]["BuildProperties"]["Binary"]
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
        and any(event.get("Type") == "HttpApi" for event in (resource["Properties"].get("Events") or {}).values())
    }


def fixture(name):
    return json.loads((ROOT / "events" / name).read_text())


def start(binary, env):
    api = RuntimeApi(function_name=binary.name)
    full_env = {"PATH": "/usr/bin:/bin", **env, **lambda_environment(binary.name, api.address)}
    started = time.monotonic()
    process = subprocess.Popen([str(binary)], env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return api, process, started


def stop(api, process):
    process.kill()
    process.wait()
    api.close()


def cold_init(binary, env):
    """Milliseconds from exec to the first `GET /next`, and the process's page faults by then
    (killed at once, so the count is its init's: minor faults from the kernel's accounting)."""
    api, process, started = start(binary, env)
    try:
        if not api.first_next.wait(10):
            raise RuntimeError(f"{binary.name} did not ask for an event")
        took = (api.first_next_at - started) * 1000
        process.kill()
        _, process.returncode, usage = os.wait4(process.pid, 0)
        return took, usage.ru_minflt
    finally:
        stop(api, process)


def cold_answer(binary, env, event):
    api, process, started = start(binary, env)
    try:
        kind, body = api.invoke(event, timeout=30)
        took = (time.monotonic() - started) * 1000
        return took, kind, body
    finally:
        stop(api, process)


def warm(binary, env, event, count=200):
    """Per-request times (ms) after one warm-up, and the peak RSS (bytes) afterwards."""
    api, process, _ = start(binary, env)
    try:
        api.invoke(event, timeout=30)
        times = []
        for _ in range(count):
            began = time.monotonic()
            kind, body = api.invoke(event, timeout=30)
            times.append((time.monotonic() - began) * 1000)
            if kind != "response":
                raise RuntimeError(f"{binary.name}: {body}")
        status = Path(f"/proc/{process.pid}/status").read_text()
        hwm = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:"))
        return times, hwm
    finally:
        stop(api, process)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    release, env_file = Path(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 51
    env = read_env(env_file)
    logical = {binary: name for name, binary in functions()}
    names = ["bench-hello", "bench-echo"] + sorted(logical)
    binaries = {name: release / name for name in names}

    inits = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            inits[name].append(cold_init(binaries[name], env))
    init = {name: statistics.median(took for took, _ in values) for name, values in inits.items()}
    faults = {name: statistics.median(count for _, count in values) for name, values in inits.items()}
    # The roots the functions trust are compiled in (shared::trust, six certificates);
    # AWS_CA_BUNDLE swaps in a bundle. What naming Debian's whole bundle (~140 roots) costs:
    bundle = {**env, "AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"}
    init_bundle = statistics.median(
        [cold_init(binaries[name], bundle)[0] for _ in range(rounds) for name in ("list-members",)])

    admin_lists = fixture("list-members/admin-lists.json")
    no_authorizer = fixture("list-members/no-authorizer.json")
    firsts, echo_firsts = [], []
    for _ in range(FIRST_ANSWERS):
        took, kind, body = cold_answer(binaries["list-members"], env, admin_lists)
        if kind != "response" or body.get("statusCode") != 200:
            raise RuntimeError(f"list-members' first answer is not a 200: {body}")
        firsts.append(took)
        echo_firsts.append(cold_answer(binaries["bench-echo"], env, no_authorizer)[0])
    first_list, first_echo = statistics.median(firsts), statistics.median(echo_firsts)

    warm_401 = {}
    http = http_functions()
    for name in ["bench-echo"] + [n for n in names if n in http]:
        times, _ = warm(binaries[name], env, no_authorizer)
        warm_401[name] = (percentile(times, 50), percentile(times, 99))
    list_times, list_rss = warm(binaries["list-members"], env, admin_lists)
    _, echo_rss = warm(binaries["bench-echo"], env, no_authorizer)

    arm64 = {}
    for binary, name in logical.items():
        bootstrap = ROOT / "infra/.aws-sam/build" / name / "bootstrap"
        if bootstrap.exists():
            arm64[binary] = bootstrap.stat().st_size

    hello, (echo_p50, echo_p99) = init["bench-hello"], warm_401["bench-echo"]
    print(f"machine: {os.uname().machine}, {os.cpu_count()} cores; {rounds} cold starts each, in turn; 200 warm requests")
    print()
    print("| binary | init ms | × hello | page faults | warm 401 p50/p99 ms | × echo p50 | x86_64 MiB | arm64 MiB |")
    print("|---|---|---|---|---|---|---|---|")
    failures = []
    for name in names:
        size = binaries[name].stat().st_size
        p50, p99 = warm_401.get(name, (None, None))
        ratio_init = init[name] / hello
        warm_text = f"{p50:.3f} / {p99:.3f}" if p50 is not None else "–"
        warm_ratio = f"{p50 / echo_p50:.2f}" if p50 is not None else "–"
        arm = f"{arm64[name] / MIB:.2f}" if name in arm64 else "–"
        print(f"| {name} | {init[name]:.2f} | {ratio_init:.2f} | {faults[name]:.0f} | {warm_text} | {warm_ratio}"
              f" | {size / MIB:.2f} | {arm} |")
        if name in logical:
            if ratio_init > 1.5:
                failures.append(f"{name}: init {ratio_init:.2f}× hello (target 1.5×)")
            if size > 6 * MIB:
                failures.append(f"{name}: {size / MIB:.2f} MiB on x86_64 (target 6 MiB)")
            if name in arm64 and arm64[name] > 6 * MIB:
                failures.append(f"{name}: {arm64[name] / MIB:.2f} MiB on arm64 (target 6 MiB)")
            if p50 is not None and p50 / echo_p50 > 1.5:
                failures.append(f"{name}: warm {p50 / echo_p50:.2f}× echo (target 1.5×)")
    print()
    print(f"init with AWS_CA_BUNDLE naming Debian's bundle instead of the compiled-in roots: list-members "
          f"{init_bundle:.2f} ms ({init_bundle / hello:.2f}× hello)")
    print(f"cold first answer (median of {FIRST_ANSWERS}): list-members {first_list:.1f} ms (exec → a 200 list from the emulator); "
          f"echo {first_echo:.1f} ms (exec → its answer, no AWS call)")
    print(f"list-members, 200 real lists against the emulator: p50 {percentile(list_times, 50):.2f} ms, "
          f"p99 {percentile(list_times, 99):.2f} ms")
    print(f"peak RSS: list-members {list_rss / MIB:.2f} MiB after 200 lists; echo {echo_rss / MIB:.2f} MiB "
          f"({list_rss / echo_rss:.2f}×)")
    if list_rss / echo_rss > 2:
        failures.append(f"list-members: peak RSS {list_rss / echo_rss:.2f}× echo (target 2×)")
    print()
    if failures:
        print("targets missed:\n  " + "\n  ".join(failures))
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())

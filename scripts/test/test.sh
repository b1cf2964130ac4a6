#!/usr/bin/env bash
# make test: every check and every test, in stages that each print their time (and write it
# to .local/stages.txt). The first stage is make check (scripts/test/check.sh): the one debug
# build is made there, and every later stage uses what it built, compiling nothing again.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
: > .local/stages.txt
start=$SECONDS
status=0

# Every AWS call each function makes, as IAM sees it (tests/src/calls.rs; tests/infra/test_iam.py),
# and every response, as OpenAPI must describe it (tests/infra/test_openapi.py).
export MEMBERS_RESPONSE_LOG="$PWD/.local/responses.jsonl"
export MEMBERS_CALL_LOG="$PWD/.local/calls.jsonl"
: > "$MEMBERS_RESPONSE_LOG"
: > "$MEMBERS_CALL_LOG"

MAKE_TEST=1 stage "check (make check)" scripts/test/check.sh || status=$?
if ! [ -x "${CARGO_TARGET_DIR:-target}/debug/local-api" ]; then
  echo "the build failed: nothing to test" >&2
  exit 1
fi

echo "== emulator"
trap stop_moto EXIT
start_moto "$(free_port)" .local/test-moto.log
echo "moto on $AWS_ENDPOINT_URL"
emulator_tests() {
  cargo test --workspace --test emulator --no-fail-fast 2>&1 | tee .local/test.log
}
stage "emulator tests" emulator_tests || status=1
stop_moto

recorded() {
  python -m pytest -q -p no:cacheprovider tests/infra -m recorded 2>&1 | tee .local/infra.log
}
stage "recorded infra checks" recorded || status=1

browser() { scripts/test/browser-test.sh 2>&1 | tee .local/browser.log; }
stage "browser" browser || status=1

fuzz=passed
stage "contract fuzz" scripts/test/contract-fuzz.sh > .local/fuzz.log 2>&1 || { fuzz=failed; status=1; }
grep -E "generated|Seed|^=+ " .local/fuzz.log | tail -n 3 || true
echo "schemathesis: $fuzz (log: .local/fuzz.log)"

logs() { python -m pytest -q -p no:cacheprovider tests/logs 2>&1 | tee .local/logs.log; }
stage "no contacts in logs" logs || status=1

checkouts() { python -m pytest -q -p no:cacheprovider tests/checkouts 2>&1 | tee .local/checkouts.log; }
stage "two checkouts" checkouts || status=1

# One closing line with the totals over every Rust test binary (make check's and the
# emulator's), the infra, browser, log and checkout checks, and the fuzzer.
rust_totals() {
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
       END { printf "%d %d\n", p, f }' "$@"
}
read -r rust_passed rust_failed < <(rust_totals .local/check-tests.log .local/test.log)
read -r emulator_passed _ < <(rust_totals .local/test.log)
pytest_passed() { (grep -oE '[0-9]+ passed' "$1" || true) | tail -n 1 | cut -d' ' -f1; }
pytest_failed() { (grep -oE '[0-9]+ (failed|error)' "$1" || true) | awk '{ n += $1 } END { print n + 0 }'; }
passed=$rust_passed failed=$rust_failed
for log in .local/infra-static.log .local/infra.log .local/browser.log .local/logs.log .local/checkouts.log; do
  passed=$((passed + $(pytest_passed "$log" | sed 's/^$/0/'))); failed=$((failed + $(pytest_failed "$log")))
done
passed=$((passed + $([ "$fuzz" = passed ] && echo 1 || echo 0)))
failed=$((failed + $([ "$fuzz" = failed ] && echo 1 || echo 0)))
echo
echo "stages:"
cat .local/stages.txt
echo "make test took $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
echo "tests: $passed passed, $failed failed" | tee .local/summary
for log in .local/infra-static.log .local/infra.log .local/browser.log .local/logs.log .local/checkouts.log; do
  [ -n "$(pytest_passed "$log")" ] || { echo "no test passed in $log" >&2; status=1; }
done
if [ "$failed" -gt 0 ] || [ "${emulator_passed:-0}" -eq 0 ] || [ "${rust_passed:-0}" -eq 0 ]; then
  status=1
fi
exit "$status"

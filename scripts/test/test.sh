#!/usr/bin/env bash
# make test: every check and every test, starting the emulator they need.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local

echo "== cfn-lint infra/template.yaml"
cfn-lint infra/template.yaml

echo "== cargo fmt --check, cargo clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== emulator"
trap stop_moto EXIT
start_moto "$(free_port)" .local/test-moto.log
echo "moto on $AWS_ENDPOINT_URL"

echo "== cargo build (the binaries the smoke test serves) and cargo test"
cargo build --workspace --bins
status=0
export MEMBERS_RESPONSE_LOG="$PWD/.local/responses.jsonl"
: > "$MEMBERS_RESPONSE_LOG"
# Every AWS call each function makes, as IAM sees it (tests/src/calls.rs; tests/infra/test_iam.py).
export MEMBERS_CALL_LOG="$PWD/.local/calls.jsonl"
: > "$MEMBERS_CALL_LOG"
cargo test --workspace --no-fail-fast 2>&1 | tee .local/test.log || status=$?

echo "== infra checks: the SAM transform, IAM against the recorded calls, layout, responses against infra/openapi.yaml"
python -m pytest -q -p no:cacheprovider tests/infra 2>&1 | tee .local/infra.log || status=$?

echo "== the reference console in a real browser (Debian's chromium, Playwright)"
scripts/test/browser-test.sh 2>&1 | tee .local/browser.log || status=$?

echo "== infra/openapi.yaml against the local HTTP API, fuzzed by schemathesis (fixed seed)"
if scripts/test/contract-fuzz.sh > .local/fuzz.log 2>&1; then fuzz=passed; else fuzz=failed; status=1; fi
grep -E "generated|Seed|^=+ " .local/fuzz.log | tail -n 3 || true
echo "schemathesis: $fuzz (log: .local/fuzz.log)"

echo "== no contact data in the functions' log lines of the browser and schemathesis runs"
python -m pytest -q -p no:cacheprovider tests/logs 2>&1 | tee .local/logs.log || status=$?

echo "== each checkout runs its own code (two clones built in turn with make build)"
python -m pytest -q -p no:cacheprovider tests/checkouts 2>&1 | tee .local/checkouts.log || status=$?

# One closing line with the totals over every test binary, the infra and browser checks.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d %d\n", p, f }' .local/test.log > .local/rust-totals
read -r rust_passed rust_failed < .local/rust-totals
infra_passed=$( (grep -oE '[0-9]+ passed' .local/infra.log || true) | tail -n 1 | cut -d' ' -f1)
infra_failed=$( (grep -oE '[0-9]+ (failed|error)' .local/infra.log || true) | awk '{ n += $1 } END { print n + 0 }')
browser_passed=$( (grep -oE '[0-9]+ passed' .local/browser.log || true) | tail -n 1 | cut -d' ' -f1)
browser_failed=$( (grep -oE '[0-9]+ (failed|error)' .local/browser.log || true) | awk '{ n += $1 } END { print n + 0 }')
logs_passed=$( (grep -oE '[0-9]+ passed' .local/logs.log || true) | tail -n 1 | cut -d' ' -f1)
logs_failed=$( (grep -oE '[0-9]+ (failed|error)' .local/logs.log || true) | awk '{ n += $1 } END { print n + 0 }')
checkouts_passed=$( (grep -oE '[0-9]+ passed' .local/checkouts.log || true) | tail -n 1 | cut -d' ' -f1)
checkouts_failed=$( (grep -oE '[0-9]+ (failed|error)' .local/checkouts.log || true) | awk '{ n += $1 } END { print n + 0 }')
passed=$((rust_passed + ${infra_passed:-0} + ${browser_passed:-0} + ${logs_passed:-0} + ${checkouts_passed:-0} + $([ "$fuzz" = passed ] && echo 1 || echo 0)))
failed=$((rust_failed + infra_failed + browser_failed + logs_failed + checkouts_failed + $([ "$fuzz" = failed ] && echo 1 || echo 0)))
echo "tests: $passed passed, $failed failed" | tee .local/summary
if [ "$failed" -gt 0 ] || [ "${rust_passed:-0}" -eq 0 ] || [ -z "${infra_passed:-}" ] || [ -z "${browser_passed:-}" ] \
  || [ -z "${logs_passed:-}" ] || [ -z "${checkouts_passed:-}" ]; then
  status=1
fi
exit "$status"

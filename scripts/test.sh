#!/usr/bin/env bash
# make test: every check and every test, starting the emulator they need.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
mkdir -p .local

echo "== cfn-lint infra/template.yaml"
cfn-lint infra/template.yaml

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== emulator"
trap stop_moto EXIT
start_moto "$(free_port)" .local/test-moto.log
echo "moto on $AWS_ENDPOINT_URL"

echo "== cargo build (the binaries the smoke test serves) and cargo test"
cargo build --workspace --bins
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee .local/test.log || status=$?

# One closing line with the totals over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f; exit (f > 0 || p == 0) }' .local/test.log || status=1
exit "$status"

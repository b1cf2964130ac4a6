#!/usr/bin/env bash
# make check: the fast lane, with no emulator, no browser and no network. Format; the
# template's lint; the one debug build of every target (clippy's lints run in it, `-D
# warnings`; the Makefile says how); every Rust test that needs no emulator (each crate's unit
# tests, each rule's tests on the fakes in functions/*/tests/rule.rs, the fixtures they read);
# and the static checks of the template, OpenAPI and the layout (tests/infra, not `recorded`).
# make test runs it as its first stage; the Rust tests' output is in .local/check-tests.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
[ -n "${MAKE_TEST:-}" ] || : > .local/stages.txt
status=0
stage "format" cargo fmt --all --check || status=1
stage "template lint" cfn-lint infra/template.yaml || status=1
stage "build and lint" cargo build --workspace --all-targets --quiet || exit 1
# Every test target but the emulator's (tests/tests/emulator/), under the same selection as the
# build, so that nothing is compiled again.
rust_tests() {
  cargo test --quiet --workspace --lib --test rule --no-fail-fast 2>&1 | tee .local/check-tests.log
}
stage "tests without emulator" rust_tests || status=1
static_infra() {
  python -m pytest -q -p no:cacheprovider tests/infra -m "not recorded" 2>&1 | tee .local/infra-static.log
}
stage "static infra checks" static_infra || status=1
if [ -z "${MAKE_TEST:-}" ]; then
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
       END { printf "rust tests: %d passed, %d failed\n", p, f }' .local/check-tests.log
fi
exit "$status"

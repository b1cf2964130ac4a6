#!/usr/bin/env bash
# make bench: every function and two baselines built with the release profile, measured side
# by side against a seeded emulator of their own (scripts/bench/bench.py says what and how).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
# The deployed executables and the baselines only: each is a whole-program optimisation, and
# the operators' tools beside some functions (backfills, bootstrap-admin) are not measured.
selection=(-p bench-hello --bin bench-hello -p bench-echo --bin bench-echo)
for function in functions/*/; do selection+=(-p "$(basename "$function")" --bin "$(basename "$function")"); done
cargo build --release --quiet "${selection[@]}"
trap stop_moto EXIT
start_moto "$(free_port)" .local/bench-moto.log
devstack up --env-file .local/bench-env >/dev/null
status=0
python scripts/bench/bench.py "${CARGO_TARGET_DIR:-target}/release" .local/bench-env "${ROUNDS:-51}" \
  | tee .local/bench.txt || status=$?
# The table goes into the performance doc as measured, targets met or not: nobody pastes it.
python scripts/bench/bench_doc.py .local/bench.txt docs/performance.md
exit "$status"

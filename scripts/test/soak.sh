#!/usr/bin/env bash
# make soak: the randomised concurrent workload of make test, long: 10,000 operations with
# faults at random AWS calls (WORKLOAD_OPERATIONS, WORKLOAD_SEED, WORKLOAD_FAULT_RATE and
# WORKLOAD_WORKERS change it). Prints operations, answers by status, and each invariant;
# then the hostile-input property tests with 10,000 cases per route.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
trap stop_moto EXIT
start_moto "$(free_port)" .local/soak-moto.log
export WORKLOAD_OPERATIONS="${WORKLOAD_OPERATIONS:-10000}"
cargo test --workspace --test emulator -- workload:: --nocapture 2>&1 | tee .local/soak.log | grep -vE '^\s+(Compiling|Finished|Running)'
# And 10,000 hostile requests per route, each checked for a documented answer, and nothing
# changed by any of them.
PROPTEST_CASES="${PROPTEST_CASES:-10000}" cargo test --workspace --test emulator -- hostile:: --nocapture 2>&1 | tee -a .local/soak.log | grep -vE '^\s+(Compiling|Finished|Running)'

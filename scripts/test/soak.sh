#!/usr/bin/env bash
# make soak: the randomised concurrent workload of make test, long: 10,000 operations with
# faults at random AWS calls (WORKLOAD_OPERATIONS, WORKLOAD_SEED, WORKLOAD_FAULT_RATE and
# WORKLOAD_WORKERS change it). Prints operations, answers by status, and each invariant;
# then the hostile-input property tests with 10,000 cases per route (PROPTEST_CASES), the
# routes in two streams, each against an emulator of its own: the emulator answers one
# request at a time, so one stream leaves a core idle while it waits. Prints each part's time.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
: > .local/soak.log
quiet() { grep -vE '^\s+(Compiling|Finished|Running)'; }
emulator_tests() { cargo test --quiet --workspace --test emulator -- "$@" 2>&1; }

pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; stop_moto; }
trap stop_all EXIT
start=$SECONDS
start_moto "$(free_port)" .local/soak-moto.log
export WORKLOAD_OPERATIONS="${WORKLOAD_OPERATIONS:-10000}"
emulator_tests workload:: --nocapture | tee -a .local/soak.log | quiet
echo "workload: $((SECONDS - start)) s" | tee -a .local/soak.log

# And 10,000 hostile requests per route, each checked for a documented answer, and nothing
# changed by any of them: one test per route, dealt in turn to two streams.
start=$SECONDS
export PROPTEST_CASES="${PROPTEST_CASES:-10000}"
listing=$(emulator_tests hostile:: --list) || { echo "$listing" >&2; exit 1; }
routes=($(echo "$listing" | grep -oE '^hostile::[a-z_]+'))
halves=("" "")
for i in "${!routes[@]}"; do halves[i % 2]+=" ${routes[i]}"; done
status=0
first_emulator=$AWS_ENDPOINT_URL
first_moto=$MOTO_PID
start_moto "$(free_port)" .local/soak-moto-2.log
pids+=("$MOTO_PID")
MOTO_PID=$first_moto
second_emulator=$AWS_ENDPOINT_URL
for stream in 0 1; do
  endpoint=$first_emulator
  [ "$stream" = 1 ] && endpoint=$second_emulator
  # shellcheck disable=SC2086 # the half is a list of test names
  AWS_ENDPOINT_URL=$endpoint emulator_tests ${halves[stream]} --exact --nocapture > ".local/soak-hostile-$stream.log" &
  pids+=($!)
done
for pid in "${pids[@]: -2}"; do wait "$pid" || status=1; done
cat .local/soak-hostile-0.log .local/soak-hostile-1.log | tee -a .local/soak.log | grep -E "hostile input|test result|panicked|FAILED"
echo "hostile input, ${#routes[@]} routes: $((SECONDS - start)) s" | tee -a .local/soak.log
exit "$status"

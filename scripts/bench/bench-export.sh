#!/usr/bin/env bash
# make bench-export: an export's rows a second and peak memory at 10 000 and 100 000 entries,
# and a million extrapolated against the function's 900 s (tests/src/bin/bench-export.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
trap stop_moto EXIT
start_moto "$(free_port)" .local/bench-export-moto.log
local_bin bench-export | tee .local/bench-export.txt

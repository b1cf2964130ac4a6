#!/usr/bin/env bash
# make bench-scale: AWS calls and DynamoDB items read of a page, two searches and two
# reconciler passes, at 1 000 and 10 000 members (tests/src/bin/bench-scale.rs says how).
# Counts, not times: the debug build make test made serves.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
trap stop_moto EXIT
start_moto "$(free_port)" .local/bench-scale-moto.log
local_bin bench-scale

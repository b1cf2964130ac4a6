#!/usr/bin/env bash
# make dev: the emulator on 127.0.0.1, provisioned from infra/template.yaml and seeded with
# the demo organisations, and every function served by `cargo lambda watch`. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MOTO_PORT="${MOTO_PORT:-5005}"
INVOKE_PORT="${INVOKE_PORT:-9000}"
mkdir -p .local
if port_in_use "$INVOKE_PORT"; then
  echo "port $INVOKE_PORT is already in use on 127.0.0.1: stop what holds it, or set INVOKE_PORT" >&2
  exit 1
fi
trap stop_moto EXIT
trap 'exit 130' INT TERM
start_moto "$MOTO_PORT" .local/moto.log
echo "emulator: $AWS_ENDPOINT_URL (log: .local/moto.log)"
devstack up --env-file .local/env

cat <<EOT

The demo stack is up. In another terminal, from this folder:

  export PATH="\$PWD/.tools/venv/bin:\$PATH"
  cargo lambda invoke cancel-invitation -P $INVOKE_PORT --data-file events/cancel-invitation/admin-cancels-unverified.json
  cargo lambda invoke cancel-invitation -P $INVOKE_PORT --data-file events/cancel-invitation/verified-target.json

Every file under events/<function>/ does what its name says. The functions' environment
is in .local/env; Ctrl-C here stops the functions and the emulator.

EOT
cargo lambda watch -A 127.0.0.1 -P "$INVOKE_PORT" --env-file .local/env

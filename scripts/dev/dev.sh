#!/usr/bin/env bash
# make dev: the emulator on 127.0.0.1, provisioned from infra/template.yaml and seeded with
# the demo organisations, every function served by `cargo lambda watch`, and in front of
# them the local HTTP API and the reference console. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh

MOTO_PORT="${MOTO_PORT:-5005}"
INVOKE_PORT="${INVOKE_PORT:-9000}"
# `cargo lambda invoke` sends to [::1]:9000 unless told otherwise, so the functions are
# served on the IPv6 loopback: plain `cargo lambda invoke` works, and nothing listens
# beyond this machine.
INVOKE_ADDRESS="${INVOKE_ADDRESS:-::1}"
mkdir -p .local
if port_in_use "$INVOKE_PORT" || port_in_use "$INVOKE_PORT" ::1; then
  echo "port $INVOKE_PORT is already in use on 127.0.0.1: stop what holds it, or set INVOKE_PORT" >&2
  exit 1
fi
export API_URL="${API_URL:-http://127.0.0.1:3000}" CONSOLE_URL="${CONSOLE_URL:-http://127.0.0.1:8080}"
export LAMBDA_API_URL="${LAMBDA_API_URL:-http://127.0.0.1:9001}"
for url in "$API_URL" "$CONSOLE_URL" "$LAMBDA_API_URL"; do
  if port_in_use "${url##*:}"; then
    echo "port ${url##*:} is already in use on 127.0.0.1: stop what holds it, or set API_URL / CONSOLE_URL / LAMBDA_API_URL" >&2
    exit 1
  fi
done
trap stop_moto EXIT
trap 'exit 130' INT TERM
start_moto "$MOTO_PORT" .local/moto.log
echo "emulator: $AWS_ENDPOINT_URL (log: .local/moto.log)"
# Where cargo lambda watch serves the functions (local-api's Lambda API, at LAMBDA_API_URL,
# passes export-audit-log's invocations of itself to it).
export INVOKE_URL="http://$( [[ $INVOKE_ADDRESS == *:* ]] && echo "[$INVOKE_ADDRESS]" || echo "$INVOKE_ADDRESS" ):$INVOKE_PORT"
devstack up --env-file .local/env

# The local HTTP API and the reference console, in front of what cargo lambda watch serves.
set -a; source .local/env; set +a
local_bin local-api > .local/local-api.log 2>&1 &
LOCAL_API_PID=$!
# The audit table's stream into publish-events, as Lambda's mapping runs it on AWS.
local_bin audit-stream > .local/audit-stream.log 2>&1 &
AUDIT_STREAM_PID=$!
trap 'kill $LOCAL_API_PID $AUDIT_STREAM_PID 2>/dev/null || true; stop_moto' EXIT

cat <<EOT

The demo stack is up.

  console:   $CONSOLE_URL   (sign in as Ada: +447700900101 / $SEED_PASSWORD)
  HTTP API:  $API_URL       (routes and JWT authorizer from infra/template.yaml)

In another terminal, from this folder:

  export PATH="\$PWD/.tools/venv/bin:\$PATH"
  cargo lambda invoke invite-user --data-file events/invite-user/admin-invites-member.json
  cargo lambda invoke list-members --data-file events/list-members/admin-lists.json
  cargo lambda invoke resend-invitation --data-file events/resend-invitation/admin-resends-invitation.json
  cargo lambda invoke resend-invitation --data-file events/resend-invitation/resend-again-at-once.json
  cargo lambda invoke cancel-invitation --data-file events/cancel-invitation/admin-cancels-unverified.json
  cargo lambda invoke list-members --data-file events/list-members/admin-lists.json
  cargo lambda invoke list-audit-log --data-file events/list-audit-log/admin-reads-log.json

Every audit entry becomes an event on the bus ($EVENT_BUS_NAME; docs/events.md): a local
rule delivers each to the queue EVENTS_TAP_QUEUE_URL (.local/env), the stream's log is
.local/audit-stream.log.

Every file under events/<function>/ does what its name says. The functions' environment
is in .local/env; Ctrl-C here stops the functions and the emulator.

EOT
cargo lambda watch --invoke-address "$INVOKE_ADDRESS" --invoke-port "$INVOKE_PORT" --env-file .local/env

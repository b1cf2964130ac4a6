# Helpers shared by the scripts: sourced, not run.

# The emulator speaks AWS to any client; these are its (dummy) credentials and region,
# unless the caller chose others.
export AWS_REGION="${AWS_REGION:-eu-west-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
unset AWS_PROFILE AWS_SESSION_TOKEN

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_in_use PORT [HOST]: whether something listens there (HOST defaults to 127.0.0.1).
port_in_use() {
  python3 -c '
import socket, sys
host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
family = socket.AF_INET6 if ":" in host else socket.AF_INET
try:
    s = socket.socket(family)
except OSError:
    sys.exit(1)
sys.exit(0 if s.connect_ex((host, int(sys.argv[1]))) == 0 else 1)' "$@"
}

# start_moto PORT LOG: starts the emulator (pool and client ids derived from their names,
# so that make dev's pool id, and the issuer the fixtures carry, are the same every time) on 127.0.0.1:PORT in the background, sets
# MOTO_PID and AWS_ENDPOINT_URL, and waits until it answers.
start_moto() {
  local port=$1 log=$2
  if port_in_use "$port"; then
    echo "port $port is already in use on 127.0.0.1: stop what holds it, or set MOTO_PORT" >&2
    return 1
  fi
  # moto's server, one request at a time (scripts/lib/emulator.py says why).
  MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY=HASH MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY=HASH \
    python scripts/lib/emulator.py 127.0.0.1 "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/moto-api/data.json", timeout=1)' "$AWS_ENDPOINT_URL" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "the emulator did not start; see $log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "the emulator did not answer on $AWS_ENDPOINT_URL within 20 s; see $log" >&2
  return 1
}

stop_moto() {
  if [ -n "${MOTO_PID:-}" ]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
}

# The local environment's binaries, from the one debug build (make build): run as built, not
# through `cargo run -p members-local`, which resolves that package's features alone and so
# compiles a second copy of the workspace (docs/builds.md).
local_bin() {
  local binary="${CARGO_TARGET_DIR:-target}/debug/$1"
  if ! [ -x "$binary" ]; then
    echo "$binary is not built: run make build first (make dev and make test do)" >&2
    return 2
  fi
  "$binary" "${@:2}"
}

devstack() {
  local_bin devstack "$@"
}

# stage NAME COMMAND...: runs one stage of make check or make test, announced by its name and
# closed with the seconds it took, so that a slow run says where its time went. Returns the
# command's status; the times also go to .local/stages.txt.
stage() {
  local name=$1 start=$SECONDS status=0
  shift
  echo "== $name"
  "$@" || status=$?
  printf '%-28s %5d s%s\n' "$name" $((SECONDS - start)) "$([ "$status" = 0 ] || echo "  (failed: $status)")" \
    | tee -a .local/stages.txt
  return "$status"
}

# Sourced by the scripts that test against a local stack of their own (browser-test.sh,
# contract-fuzz.sh): the emulator, provisioned and seeded, the functions under cargo lambda
# watch (each built first as watch builds it), the local HTTP API and the console, on free
# loopback ports. Sets env_file, API_URL, CONSOLE_URL; stops all of it on exit.
source scripts/lib/lib.sh
mkdir -p .local
env_file=.local/${LOCAL_STACK_NAME:?}-env
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  stop_moto
}
trap cleanup EXIT
start_moto "$(free_port)" ".local/$LOCAL_STACK_NAME-moto.log"
export API_URL="http://127.0.0.1:$(free_port)" CONSOLE_URL="http://127.0.0.1:$(free_port)"
# local-api's Lambda Invoke API, for export-audit-log invoking itself (written to the env
# file as AWS_ENDPOINT_URL_LAMBDA).
export LAMBDA_API_URL="http://127.0.0.1:$(free_port)"
devstack up --env-file "$env_file" >/dev/null
# cargo lambda watch runs `cargo run --bin <function>` at a function's first request, which
# resolves features for that one package: a build of the whole workspace is not that build,
# and a fresh checkout would compile each function while a test waits. Built here first,
# the same way, one package at a time.
for function in $(ls functions); do
  [ -f "functions/$function/Cargo.toml" ] && cargo build --quiet --manifest-path Cargo.toml --bin "$function"
done
invoke_port=$(free_port)
setsid cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
  --env-file "$env_file" > ".local/$LOCAL_STACK_NAME-watch.log" 2>&1 &
pids+=($!)
(
  set -a; source "$env_file"; set +a
  INVOKE_URL="http://127.0.0.1:$invoke_port" exec setsid "${CARGO_TARGET_DIR:-target}/debug/local-api"
) > ".local/$LOCAL_STACK_NAME-local-api.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  if port_in_use "${CONSOLE_URL##*:}" && port_in_use "$invoke_port"; then break; fi
  sleep 0.2
done

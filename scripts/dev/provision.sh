#!/usr/bin/env bash
# make provision: creates the template's tables and user pool on the endpoint named by
# AWS_ENDPOINT_URL and writes the functions' environment to .local/env.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  echo "make provision needs AWS_ENDPOINT_URL, the endpoint of a running AWS-compatible emulator" >&2
  exit 2
fi
source scripts/lib/lib.sh
devstack provision --env-file .local/env --prefix "${STACK_PREFIX:-dev}"

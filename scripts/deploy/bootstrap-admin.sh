#!/usr/bin/env bash
# make bootstrap-admin ORG=… NAME=… PHONE=… [EMAIL=…]: the first administrator of an
# organisation, written by the invite path's own code (functions/invite-user/src/bootstrap.rs).
#
# Against the deployed stack (STACK, default org-members; AWS credentials and AWS_REGION as
# for `sam deploy`): the pool and tables come from the stack's outputs. Against a local
# stack: ENV_FILE=.local/env names its environment instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${ORG:?ORG=<organisation id> is required}" "${NAME:?NAME=<full name> is required}" "${PHONE:?PHONE=<E.164 phone> is required}"

COMMAND=bootstrap-admin
source scripts/deploy/stack-env.sh
args=(--org "$ORG" --name "$NAME" --phone "$PHONE")
[ -n "${EMAIL:-}" ] && args+=(--email "$EMAIL")
"${CARGO_TARGET_DIR:-target}/debug/bootstrap-admin" "${args[@]}"

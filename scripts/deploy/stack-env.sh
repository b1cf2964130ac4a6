#!/usr/bin/env bash
# Sourced by the operator's commands (make bootstrap-admin, make migrate): the environment
# the functions get, for the stack they act on. Against the deployed stack (STACK, default
# org-members; AWS credentials and AWS_REGION as for `sam deploy`): from the stack's
# outputs. Against a local stack: ENV_FILE=.local/env names its environment instead.
# $COMMAND names the caller in messages.
if [ -n "${ENV_FILE:-}" ]; then
  set -a
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  set +a
else
  stack="${STACK:-org-members}"
  region_flag=()
  [ -n "${AWS_REGION:-}" ] && region_flag=(--region "$AWS_REGION")
  outputs=$(sam list stack-outputs --stack-name "$stack" --output json "${region_flag[@]}") || {
    echo "make ${COMMAND:-it}: cannot read the outputs of stack $stack (deployed? credentials?)" >&2
    exit 2
  }
  eval "$(python3 - "$outputs" <<'PY'
import json, shlex, sys
outputs = {o["OutputKey"]: o["OutputValue"] for o in json.loads(sys.argv[1])}
names = {"UserPoolId": "USER_POOL_ID", "TokenIssuer": "TOKEN_ISSUER", "InvitationValidityDays": "INVITATION_VALIDITY_DAYS",
         "MembersTableName": "MEMBERS_TABLE", "AuditTableName": "AUDIT_TABLE",
         "ContactsTableName": "CONTACTS_TABLE", "IdempotencyTableName": "IDEMPOTENCY_TABLE",
         "SearchTableName": "SEARCH_TABLE", "JobsTableName": "JOBS_TABLE", "QuotasTableName": "QUOTAS_TABLE", "OrgsTableName": "ORGS_TABLE",
         "AdminGroupName": "ADMIN_GROUP", "FunctionTimeoutSeconds": "FUNCTION_TIMEOUT_SECONDS"}
missing = [key for key in names if key not in outputs]
if missing:
    sys.exit(f"the stack has no output {', '.join(missing)}: deploy this version first")
for key, variable in names.items():
    print(f"export {variable}={shlex.quote(outputs[key])}")
PY
)"
fi

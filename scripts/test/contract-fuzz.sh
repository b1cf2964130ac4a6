#!/usr/bin/env bash
# The OpenAPI description checked by a fuzzer nobody here wrote: schemathesis, against a
# local stack of its own (scripts/dev/local-stack.sh), with the seed's administrator's real ID
# token; every phase but the stateful one, a fixed seed. API Gateway answers an undeclared
# method 404, as the local gateway does, so schemathesis' `unsupported_method` check (it
# expects 405) is left out.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOCAL_STACK_NAME=fuzz source scripts/dev/local-stack.sh
token=$(
  set -a; source "$env_file"; set +a
  python - <<'PY'
import os, boto3
cognito = boto3.client("cognito-idp", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
answer = cognito.admin_initiate_auth(
    UserPoolId=os.environ["USER_POOL_ID"], ClientId=os.environ["USER_POOL_CLIENT_ID"],
    AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "acme-admin", "PASSWORD": os.environ["SEED_PASSWORD"]})
print(answer["AuthenticationResult"]["IdToken"])
PY
)
st run infra/openapi.yaml --url "$API_URL" -H "Authorization: Bearer $token" \
  --checks all --exclude-checks unsupported_method --phases examples,coverage,fuzzing \
  --seed "${FUZZ_SEED:-20261202}" --max-examples "${FUZZ_EXAMPLES:-25}" --no-color "$@"

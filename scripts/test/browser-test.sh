#!/usr/bin/env bash
# The browser tests (tests/browser): a local stack of their own, as make dev starts it
# (scripts/dev/local-stack.sh), then pytest driving Debian's chromium.
# Expects the debug binaries built (make test builds them first).
set -euo pipefail
cd "$(dirname "$0")/../.."
LOCAL_STACK_NAME=browser source scripts/dev/local-stack.sh
BROWSER_ENV_FILE="$env_file" python -m pytest -q -p no:cacheprovider tests/browser "$@"

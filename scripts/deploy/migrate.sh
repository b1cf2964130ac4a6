#!/usr/bin/env bash
# make migrate: the data migrations a release may need, idempotent and resumable (driver:
# shared/src/backfill.rs). The Log's entries written before its action index get the
# orgAction it is keyed by (functions/list-audit-log/src/backfill.rs); the memberships from
# before the search table get their search terms (shared/src/store/search_index.rs). Run after deploying; run again after a stop to
# go on from where it stopped. STACK / ENV_FILE as for make bootstrap-admin.
set -euo pipefail
cd "$(dirname "$0")/../.."
COMMAND=migrate
source scripts/deploy/stack-env.sh
mkdir -p .local
"${CARGO_TARGET_DIR:-target}/debug/backfill-org-action" --position "${POSITION_DIR:-.local}/backfill-org-action.position"
"${CARGO_TARGET_DIR:-target}/debug/backfill-search-terms" --position "${POSITION_DIR:-.local}/backfill-search-terms.position"

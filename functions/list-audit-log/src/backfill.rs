//! `make migrate`: entries written before the Log's action index (`byAction`) are given the
//! `orgAction` it is keyed by, a page at a time ([`shared::store::DynamoStore::backfill_org_action`]).
//! The position after each page is kept in a file, so a run that stops (a timeout, Ctrl-C,
//! lost credentials) goes on from there when run again; a run that reaches the end removes
//! it. Running it again on a migrated table reads it and changes nothing.

use shared::backfill::{Totals, run};
use shared::store::DynamoStore;
use std::path::Path;

/// Items one page reads.
pub const PAGE: i32 = 500;

/// Runs the backfill from the position kept in `position` (if any) to the end, or for at
/// most `max_pages` pages; the position file says where the next run starts.
pub async fn backfill(
    store: &DynamoStore,
    position: &Path,
    page: i32,
    max_pages: Option<usize>,
) -> Result<Totals, Box<dyn std::error::Error + Send + Sync>> {
    run("backfill-org-action", position, max_pages, |start| store.backfill_org_action(start, page)).await
}

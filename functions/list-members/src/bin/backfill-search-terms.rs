//! `make migrate`: writes the search terms of the memberships from before the search table
//! (`shared::store::search_index`), 100 memberships a page.
//!
//! usage: backfill-search-terms [--position FILE]   (default .local/backfill-search-terms.position)

/// Memberships one page reads (each writes its terms: a few `BatchWriteItem`s).
const PAGE: i32 = 100;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    shared::backfill::command("backfill-search-terms", |store, start| async move {
        store.backfill_search_terms(start, PAGE).await
    })
    .await
}

//! `make migrate`: gives the Log's entries written before its action index the `orgAction`
//! the index is keyed by (see `list_audit_log::backfill`).
//!
//! usage: backfill-org-action [--position FILE]   (default .local/backfill-org-action.position)

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    shared::backfill::command("backfill-org-action", |store, start| async move {
        store.backfill_org_action(start, list_audit_log::backfill::PAGE).await
    })
    .await
}

//! `make migrate`: gives the Log's entries written before its action index the `orgAction`
//! the index is keyed by (see `list_audit_log::backfill`). The environment names the tables
//! as the functions' does (scripts/migrate.sh fills it from the deployed stack's outputs, or
//! from `.local/env`).
//!
//! usage: backfill-org-action [--position FILE]   (default .local/backfill-org-action.position)

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut position = std::path::PathBuf::from(".local/backfill-org-action.position");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--position", Some(path)) => position = path.into(),
            _ => {
                eprintln!("usage: backfill-org-action [--position FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let deps = match shared::Deps::from_env().await {
        Ok(deps) => deps,
        Err(problem) => {
            eprintln!("backfill-org-action: {problem}");
            return ExitCode::from(2);
        }
    };
    match list_audit_log::backfill::backfill(&deps.store, &position, list_audit_log::backfill::PAGE, None).await {
        Ok(totals) => {
            println!(
                "{}",
                serde_json::json!({"pages": totals.pages, "updated": totals.updated, "unreadable": totals.unreadable})
            );
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("backfill-org-action: {problem} (run again to go on from {})", position.display());
            ExitCode::FAILURE
        }
    }
}

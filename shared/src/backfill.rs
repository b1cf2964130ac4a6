//! `make migrate`'s driver: runs one migration a page at a time from the position kept in
//! a file, so that a run that stops (a timeout, Ctrl-C, lost credentials) goes on from
//! there when run again; a run that reaches the end removes the file. Each migration's page
//! is idempotent: running one again on a migrated table reads it and changes nothing.

use crate::ports::StoreError;
use crate::store::{Backfilled, DynamoStore};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::Path;

pub type Key = HashMap<String, AttributeValue>;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    pub pages: usize,
    pub updated: usize,
    pub unreadable: usize,
}

/// Runs `page` from the position kept in `position` (if any) to the end, or for at most
/// `max_pages` pages; the position file says where the next run starts.
pub async fn run<F, Fut>(
    name: &str,
    position: &Path,
    max_pages: Option<usize>,
    mut page: F,
) -> Result<Totals, Box<dyn std::error::Error + Send + Sync>>
where
    F: FnMut(Option<Key>) -> Fut,
    Fut: Future<Output = Result<Backfilled, StoreError>>,
{
    let mut start = match std::fs::read_to_string(position) {
        Ok(text) => Some(from_position(&text)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(format!("read {}: {error}", position.display()).into()),
    };
    let mut totals = Totals::default();
    loop {
        let done = page(start).await?;
        totals.pages += 1;
        totals.updated += done.updated;
        totals.unreadable += done.unreadable;
        eprintln!("{name}: page {}: {} updated, {} unreadable", totals.pages, done.updated, done.unreadable);
        match done.next {
            None => {
                let _ = std::fs::remove_file(position);
                return Ok(totals);
            }
            Some(next) => {
                std::fs::write(position, to_position(&next))?;
                start = Some(next);
            }
        }
        if max_pages.is_some_and(|max| totals.pages >= max) {
            return Ok(totals);
        }
    }
}

/// A migration's command: `NAME [--position FILE]` (default `.local/NAME.position`), the
/// tables named by the environment as the functions' are (scripts/deploy/migrate.sh fills it from
/// the deployed stack's outputs, or from `.local/env`). Prints its totals as JSON.
pub async fn command<F, Fut>(name: &str, page: F) -> std::process::ExitCode
where
    F: Fn(DynamoStore, Option<Key>) -> Fut,
    Fut: Future<Output = Result<Backfilled, StoreError>>,
{
    use std::process::ExitCode;
    let mut position = std::path::PathBuf::from(format!(".local/{name}.position"));
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--position", Some(path)) => position = path.into(),
            _ => {
                eprintln!("usage: {name} [--position FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let deps = match crate::Deps::from_env().await {
        Ok(deps) => deps,
        Err(problem) => {
            eprintln!("{name}: {problem}");
            return ExitCode::from(2);
        }
    };
    match run(name, &position, None, |start| page(deps.store.clone(), start)).await {
        Ok(totals) => {
            let json =
                serde_json::json!({"pages": totals.pages, "updated": totals.updated, "unreadable": totals.unreadable});
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("{name}: {problem} (run again to go on from {})", position.display());
            ExitCode::FAILURE
        }
    }
}

/// A key of string attributes as a JSON object.
pub fn to_position(key: &Key) -> String {
    let parts: BTreeMap<&str, &str> =
        key.iter().filter_map(|(name, value)| Some((name.as_str(), value.as_s().ok()?.as_str()))).collect();
    serde_json::to_string(&parts).unwrap_or_default()
}

pub fn from_position(text: &str) -> Result<Key, String> {
    let parts: BTreeMap<String, String> =
        serde_json::from_str(text).map_err(|e| format!("a position file that is not one: {e}"))?;
    if parts.is_empty() {
        return Err("an empty position".into());
    }
    Ok(parts.into_iter().map(|(name, value)| (name, AttributeValue::S(value))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_round_trips_and_a_broken_one_is_refused() {
        let key = Key::from([
            ("orgId".to_owned(), AttributeValue::S("org-a".into())),
            ("userId".to_owned(), AttributeValue::S("u-1".into())),
        ]);
        assert_eq!(from_position(&to_position(&key)).unwrap(), key);
        for broken in ["", "{}", "[1]", "{\"orgId\": 1}"] {
            assert!(from_position(broken).is_err(), "{broken:?}");
        }
    }
}

//! `make migrate`: entries written before the Log's action index (`byAction`) are given the
//! `orgAction` it is keyed by, a page at a time ([`shared::store::DynamoStore::backfill_org_action`]).
//! The position after each page is kept in a file, so a run that stops (a timeout, Ctrl-C,
//! lost credentials) goes on from there when run again; a run that reaches the end removes
//! it. Running it again on a migrated table reads it and changes nothing.

use shared::store::DynamoStore;
use std::collections::HashMap;
use std::path::Path;

/// Items one page reads.
pub const PAGE: i32 = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    pub pages: usize,
    pub updated: usize,
    pub unreadable: usize,
}

/// Runs the backfill from the position kept in `position` (if any) to the end, or for at
/// most `max_pages` pages; the position file says where the next run starts.
pub async fn backfill(
    store: &DynamoStore,
    position: &Path,
    page: i32,
    max_pages: Option<usize>,
) -> Result<Totals, Box<dyn std::error::Error + Send + Sync>> {
    let mut start = match std::fs::read_to_string(position) {
        Ok(text) => Some(from_position(&text)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(format!("read {}: {error}", position.display()).into()),
    };
    let mut totals = Totals::default();
    loop {
        let done = store.backfill_org_action(start, page).await?;
        totals.pages += 1;
        totals.updated += done.updated;
        totals.unreadable += done.unreadable;
        eprintln!(
            "backfill-org-action: page {}: {} given orgAction, {} unreadable",
            totals.pages, done.updated, done.unreadable
        );
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

type Key = HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

fn to_position(key: &Key) -> String {
    let text = |name: &str| key.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    serde_json::json!({"orgId": text("orgId"), "entryId": text("entryId")}).to_string()
}

fn from_position(text: &str) -> Result<Key, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("a position file that is not one: {e}"))?;
    let part = |name: &str| {
        value[name]
            .as_str()
            .map(|s| aws_sdk_dynamodb::types::AttributeValue::S(s.to_owned()))
            .ok_or(format!("a position without {name}"))
    };
    Ok(Key::from([("orgId".to_owned(), part("orgId")?), ("entryId".to_owned(), part("entryId")?)]))
}

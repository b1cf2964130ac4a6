//! The quotas table: `quota` (what a limit counts), holding the log of its uses inside the
//! window (`uses`: id → epoch milliseconds), a `version` every write moves on, and
//! `expiresAt` (the table's TTL) a window after the last use. The rule is
//! [`crate::quota`]'s; this file only reads and writes logs.
//!
//! A number's log is keyed by a SHA-256 of the number, not the number: the table holds no
//! contact.
//!
//! Taking is read, decide, write-if-unchanged: the logs are read consistently (one
//! `BatchGetItem`), and the new
//! logs are written in one transaction conditional on the versions read, so that of two
//! concurrent requests for the last use exactly one gets it, and a request that needs two
//! logs (an invitation: the organisation's and the number's) takes from both or from none.
//! A condition that fails means another request wrote first: read again.

use super::{DynamoStore, Item, conflicted, failed, failed_conditions, is_condition_failure, n, number, s};
use crate::ports::{Quotas, StoreError};
use crate::quota::{Allowance, Limit, Quota, Uses, Verdict};
use crate::time::Timestamp;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Rounds of reading and writing before a contended take gives up (503, safe to retry):
/// each round one of the contenders wins, so this many requests for one quota at one
/// moment all get an answer.
const TAKE_ROUNDS: u32 = 25;

/// The item key of what a limit counts.
pub fn quota_key(quota: &Quota) -> String {
    match quota {
        Quota::Invitations { org_id } => format!("invitations#{org_id}"),
        Quota::Messages { phone } => {
            let digest = Sha256::digest(phone.as_str().as_bytes());
            let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("messages#{hex}")
        }
    }
}

/// A log as read: its uses and the version to write over.
struct Read {
    uses: Uses,
    version: Option<i64>,
}

fn uses_of(item: &Item) -> Uses {
    let Some(AttributeValue::M(uses)) = item.get("uses") else { return Uses::default() };
    Uses(
        uses.iter()
            .filter_map(|(id, at)| {
                let ms = at.as_n().ok()?.parse::<i64>().ok()?;
                Some((id.clone(), chrono::DateTime::from_timestamp_millis(ms)?))
            })
            .collect(),
    )
}

impl DynamoStore {
    /// The logs of `keys`, read consistently in one `BatchGetItem` (a log not there is empty).
    async fn read_logs(&self, keys: &[String]) -> Result<HashMap<String, Read>, StoreError> {
        let item_keys = keys.iter().map(|key| HashMap::from([("quota".to_owned(), s(key))])).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(&self.tables.quotas, item_keys).await? {
            if let Some(key) = item.get("quota").and_then(|v| v.as_s().ok()) {
                let read = Read { uses: uses_of(&item), version: Some(number(&item, "version").unwrap_or(0)) };
                found.insert(key.clone(), read);
            }
        }
        Ok(found)
    }

    fn log_put(&self, key: &str, limit: &Limit, read: &Read, uses: &Uses) -> Result<TransactWriteItem, StoreError> {
        let map = uses.0.iter().map(|(id, at)| (id.clone(), n(at.timestamp_millis()))).collect();
        let expires = uses.expires_at(limit.window).map_or(0, |at| at.timestamp());
        let put = Put::builder()
            .table_name(&self.tables.quotas)
            .item("quota", s(key))
            .item("uses", AttributeValue::M(map))
            .item("version", n(read.version.unwrap_or(0) + 1))
            .item("expiresAt", n(expires));
        let put = match read.version {
            Some(version) => put.condition_expression("version = :v").expression_attribute_values(":v", n(version)),
            None => put.condition_expression("attribute_not_exists(quota)"),
        };
        Ok(TransactWriteItem::builder().put(put.build().map_err(|e| failed("TransactWriteItems", e))?).build())
    }
}

impl Quotas for DynamoStore {
    async fn take(&self, limits: &[Limit], id: &str, now: Timestamp) -> Result<Allowance, StoreError> {
        for round in 0..TAKE_ROUNDS {
            let mut writes = Vec::new();
            let mut refused: Option<(Quota, u64)> = None;
            let keys: Vec<String> = limits.iter().map(|limit| quota_key(&limit.quota)).collect();
            let mut logs = self.read_logs(&keys).await?;
            for (limit, key) in limits.iter().zip(&keys) {
                let read = logs.remove(key).unwrap_or(Read { uses: Uses::default(), version: None });
                match read.uses.verdict(id, limit, now) {
                    Verdict::Holds => {}
                    Verdict::Room(uses) => writes.push(self.log_put(key, limit, &read, &uses)?),
                    // The longest wait of the full ones: retrying sooner is refused again.
                    Verdict::Full { retry_after_seconds } => {
                        if refused.as_ref().is_none_or(|(_, longest)| retry_after_seconds > *longest) {
                            refused = Some((limit.quota.clone(), retry_after_seconds));
                        }
                    }
                }
            }
            if let Some((quota, retry_after_seconds)) = refused {
                return Ok(Allowance::Refused { quota, retry_after_seconds });
            }
            if writes.is_empty() {
                return Ok(Allowance::Granted);
            }
            match self.transact(writes, &Self::new_token()).await {
                Ok(()) => return Ok(Allowance::Granted),
                // Another request wrote a log since it was read: read again.
                Err(error) if failed_conditions(&error).is_some() || conflicted(&error) => {
                    tokio::time::sleep(backoff(round)).await;
                }
                Err(error) => return Err(failed("TransactWriteItems", error)),
            }
        }
        Err(failed("TransactWriteItems", "a quota stayed contended through every round"))
    }

    async fn give_back(&self, limits: &[Limit], id: &str) -> Result<(), StoreError> {
        for limit in limits {
            let result = self
                .client
                .update_item()
                .table_name(&self.tables.quotas)
                .key("quota", s(&quota_key(&limit.quota)))
                .update_expression("REMOVE uses.#id SET version = version + :one")
                .condition_expression("attribute_exists(uses.#id)")
                .expression_attribute_names("#id", id)
                .expression_attribute_values(":one", n(1))
                .send()
                .await;
            match result {
                // Not there: never taken, or given back already.
                Err(error) if is_condition_failure(&error) => {}
                Err(error) => return Err(failed("UpdateItem", error)),
                Ok(_) => {}
            }
        }
        Ok(())
    }
}

/// 5–10 ms, growing to 80–160 ms, with jitter so that contenders part.
fn backoff(round: u32) -> std::time::Duration {
    let base = 5u64 << round.min(4);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 255;
    std::time::Duration::from_millis(base + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Phone;

    #[test]
    fn a_numbers_key_holds_no_number() {
        let phone = Phone::parse("+447700900123").expect("a phone");
        let key = quota_key(&Quota::Messages { phone });
        assert!(key.starts_with("messages#") && key.len() == "messages#".len() + 64, "{key}");
        assert!(!key.contains("7700900123"), "{key}");
        assert_eq!(quota_key(&Quota::Invitations { org_id: "acme".into() }), "invitations#acme");
    }
}

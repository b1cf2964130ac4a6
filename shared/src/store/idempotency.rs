//! The idempotency table: `key` (organisation, caller, the client's key), holding the
//! request's fingerprint, a lease while it is at work, then the response to replay.

use super::{DynamoStore, Item, failed, is_condition_failure, n, number, s, text};
use crate::ports::{Claim, IdempotencyRecords, Receipt, StoreError, StoredResponse};
use crate::time::Timestamp;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use std::time::Duration;

/// How long a response is kept for replay under its `Idempotency-Key`.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

impl DynamoStore {
    /// A key finished with `receipt`'s response, as an item of a transaction.
    pub(super) fn receipt_update(&self, receipt: &Receipt) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.tables.idempotency)
            .key("key", s(&receipt.key))
            .update_expression(FINISH)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(finish_values(&receipt.response, receipt.now, &receipt.fingerprint)))
            .build()
            .map_err(|e| failed("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

const FINISH: &str = "SET #state = :done, fingerprint = :fp, #status = :status, headers = :headers, body = :body, expiresAt = :expires REMOVE leaseUntil";

fn finish_values(response: &StoredResponse, now: Timestamp, fingerprint: &str) -> Item {
    Item::from([
        (":done".to_owned(), s("done")),
        (":fp".to_owned(), s(fingerprint)),
        (":status".to_owned(), n(i64::from(response.status))),
        (":headers".to_owned(), s(&serde_json::to_string(&response.headers).unwrap_or_default())),
        (":body".to_owned(), s(&response.body)),
        (":expires".to_owned(), n(now.timestamp() + IDEMPOTENCY_TTL.as_secs() as i64)),
    ])
}

impl IdempotencyRecords for DynamoStore {
    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let now_s = now.timestamp();
        let now_ms = now.timestamp_millis();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.idempotency)
            .item("key", s(key))
            .item("fingerprint", s(fingerprint))
            .item("state", s("pending"))
            .item("leaseUntil", n(now_ms.saturating_add(lease_ms)))
            .item("expiresAt", n(now_s + IDEMPOTENCY_TTL.as_secs() as i64))
            // A new key; or one whose record expired but was not yet swept; or one whose
            // holder died mid-way (lease over) with this same request, which we take over.
            .condition_expression(
                "attribute_not_exists(#key) OR expiresAt < :now OR (#state = :pending AND leaseUntil < :nowMs AND fingerprint = :fp)",
            )
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now_s))
            .expression_attribute_values(":nowMs", n(now_ms))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":fp", s(fingerprint))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(Claim::Claimed),
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(failed("PutItem", e)),
        }
        let existing = self
            .client
            .get_item()
            .table_name(&self.tables.idempotency)
            .key("key", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?
            .item;
        let Some(existing) = existing else {
            // Released between our write and our read: the holder failed; the client may retry
            // at once.
            return Ok(Claim::InFlight { retry_after_seconds: 1 });
        };
        if text(&existing, "fingerprint").as_deref() != Some(fingerprint) {
            return Ok(Claim::Mismatch);
        }
        if text(&existing, "state").as_deref() != Some("done") {
            // Whole seconds, rounded up, at least one.
            let left_ms = number(&existing, "leaseUntil").unwrap_or(now_ms).saturating_sub(now_ms).max(0);
            let seconds = u64::try_from((left_ms + 999) / 1000).unwrap_or(1);
            return Ok(Claim::InFlight { retry_after_seconds: seconds.max(1) });
        }
        let headers = text(&existing, "headers").and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
        Ok(Claim::Replay(StoredResponse {
            status: number(&existing, "status").and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
            headers,
            body: text(&existing, "body").unwrap_or_default(),
        }))
    }

    async fn finish_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("key", s(key))
            .update_expression(FINISH)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(finish_values(response, now, fingerprint)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("UpdateItem", e))
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.idempotency)
            .key("key", s(key))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| if is_condition_failure(&e) { Ok(()) } else { Err(failed("DeleteItem", e)) })
    }
}

//! The idempotency table: `key` (organisation, caller, the client's key), holding the
//! request's fingerprint, a lease while it is at work, then the response to replay.

use super::{DynamoStore, LEASE, failed, is_condition_failure, n, number, s, text};
use crate::ports::{Claim, IdempotencyRecords, StoreError, StoredResponse};
use crate::time::Timestamp;
use std::time::Duration;

/// How long a response is kept for replay under its `Idempotency-Key`.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

impl IdempotencyRecords for DynamoStore {
    async fn claim_idempotency_key(&self, key: &str, fingerprint: &str, now: Timestamp) -> Result<Claim, StoreError> {
        let now_s = now.timestamp();
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.idempotency)
            .item("key", s(key))
            .item("fingerprint", s(fingerprint))
            .item("state", s("pending"))
            .item("leaseUntil", n(now_s + LEASE.as_secs() as i64))
            .item("expiresAt", n(now_s + IDEMPOTENCY_TTL.as_secs() as i64))
            // A new key; or one whose record expired but was not yet swept; or one whose
            // holder died mid-way (lease over) with this same request, which we take over.
            .condition_expression(
                "attribute_not_exists(#key) OR expiresAt < :now OR (#state = :pending AND leaseUntil < :now AND fingerprint = :fp)",
            )
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now_s))
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
            let lease_until = number(&existing, "leaseUntil").unwrap_or(now_s);
            let seconds = u64::try_from(lease_until.saturating_sub(now_s)).unwrap_or(0);
            return Ok(Claim::InFlight { retry_after_seconds: seconds.clamp(1, LEASE.as_secs()) });
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
        response: &StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("key", s(key))
            .update_expression("SET #state = :done, #status = :status, headers = :headers, body = :body, expiresAt = :expires REMOVE leaseUntil")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":status", n(i64::from(response.status)))
            .expression_attribute_values(":headers", s(&serde_json::to_string(&response.headers).unwrap_or_default()))
            .expression_attribute_values(":body", s(&response.body))
            .expression_attribute_values(":expires", n(now.timestamp() + IDEMPOTENCY_TTL.as_secs() as i64))
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

//! Responses kept for `Idempotency-Key` replays: the [`IdempotencyRecords`] port.

use super::StoreError;
use crate::time::Timestamp;
use std::future::Future;

/// The answer a request gives once its work commits, kept under its `Idempotency-Key` by
/// the very transaction that commits the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub key: String,
    pub fingerprint: String,
    pub response: StoredResponse,
    pub now: Timestamp,
}

/// A response kept for replay under an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: do the work, then finish or release it.
    Claimed,
    /// The work was done: answer with what was answered then.
    Replay(StoredResponse),
    /// The key was used with another request.
    Mismatch,
    /// Another call with this key is at work right now, for this many more seconds at most.
    InFlight { retry_after_seconds: u64 },
}

pub trait IdempotencyRecords: Send + Sync {
    /// Takes an `Idempotency-Key` for a request with this fingerprint, for `lease` at most
    /// unless finished or released first.
    fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        lease: std::time::Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Keeps the response to replay for 24 hours.
    fn finish_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets a key whose work failed and may be retried.
    fn release_idempotency_key(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

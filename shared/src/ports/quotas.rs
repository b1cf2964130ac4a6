//! The abuse limits' logs: the [`Quotas`] port (the rule is [`crate::quota`]).

use super::StoreError;
use crate::quota::{Allowance, Limit};
use crate::time::Timestamp;
use std::future::Future;

/// The abuse limits' logs (see [`crate::quota`]).
pub trait Quotas: Send + Sync {
    /// One use of each of `limits` for `id`, all or none: refused when one has no room.
    fn take(
        &self,
        limits: &[Limit],
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Allowance, StoreError>> + Send;
    /// Gives `id`'s uses of `limits` back: what they paid for was never sent.
    fn give_back(&self, limits: &[Limit], id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

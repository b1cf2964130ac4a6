//! Work under way that a request may have left unfinished: the [`PendingWork`] port.

use super::{ContactClaim, StoreError};
use crate::domain::Member;
use crate::time::Timestamp;
use std::future::Future;

/// Work under way that a request may have left unfinished, found by when it started: the
/// reconciler's whole input (it reads no pool and scans no table). Every request with more
/// than one effect records it before its first effect: an invitation as its contacts'
/// reservations, a cancel and a resend on the membership (`cancelPending`,
/// `resendPending`). Each read goes by an index of that work alone, so it costs what is
/// pending, not what is kept.
pub trait PendingWork: Send + Sync {
    /// Memberships with a cancel or resend under way since before `before`, read
    /// consistently, at most `budget` of them; with the keys (`orgId/userId`) of records
    /// among them that are not a membership.
    fn members_with_work_since_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> impl Future<Output = Result<LapsedWork<Member>, StoreError>> + Send;

    /// Reservations taken before `before` (their invitation's lease lapsed), at most
    /// `budget` of them. Read from an index, which may lag: every use of them is a write
    /// conditional on the reservation being still what was read.
    fn reservations_taken_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> impl Future<Output = Result<LapsedWork<ContactClaim>, StoreError>> + Send;

    /// Makes the membership's place among pending work follow what `member` (read
    /// consistently) still has pending: out of it when nothing is, or at its oldest work.
    /// A membership changed since keeps its place: the change set it.
    fn settle_pending_work(&self, member: &Member) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What a read of pending work found.
#[derive(Debug, Clone, PartialEq)]
pub struct LapsedWork<T> {
    pub found: Vec<T>,
    /// Records found that could not be read as one (their keys).
    pub malformed: Vec<String>,
    /// More was pending than the budget allowed: the next pass goes on.
    pub more: bool,
}

//! The membership records: the [`Members`] port, its pages and filters.

use super::{Receipt, StoreError};
use crate::domain::{AuditEntry, Member, MemberFilter, UserId};
use crate::time::Timestamp;
use std::future::Future;

/// Whether a conditional write found things as it expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The condition failed: the record was gone (or already there).
    ConditionFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addition {
    Added,
    /// The membership exists already: an earlier attempt of the same invitation committed.
    AlreadyMember,
    /// The contacts are no longer reserved for this user (the reservation outlived its
    /// lease and another invitation took it over).
    ReservationLost,
}

/// Where a page of members starts: the last row of the page before. Opaque to its
/// callers, who carry it in a cursor and ask the store whether one read back from a
/// client could have come from their listing ([`PageKey::fits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    pub user_id: String,
    pub sort_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberPage {
    pub members: Vec<Member>,
    pub next: Option<PageKey>,
}

/// Whether a resend may go out now, under the cooldown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cooldown {
    Claimed,
    TooSoon { retry_after_seconds: u64 },
    NoMember,
}

pub trait Members: Send + Sync {
    fn get_member(
        &self,
        org_id: &str,
        user_id: &UserId,
    ) -> impl Future<Output = Result<Option<Member>, StoreError>> + Send;

    /// Writes the membership, turns its reserved contacts into member claims, and appends
    /// the audit entry, all or nothing.
    fn add_member_with_audit(
        &self,
        member: &Member,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<Addition, StoreError>> + Send;

    /// Records the audit entry a cancel is about to write, before it deletes anything, and,
    /// when it is `disabling` the user, that this cancel is who disabled them.
    fn mark_cancel_pending(
        &self,
        member: &Member,
        entry: &AuditEntry,
        disabling: bool,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// Drops the pending cancel `id`, whose cancel died before it deleted anyone.
    fn clear_cancel_pending(&self, member: &Member, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets that the cancel `id` disabled the user, once they are enabled again.
    fn clear_disabled_by(&self, member: &Member, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that the pending resend `id` was sent to Cognito without an answer.
    fn mark_resend_attempted(&self, member: &Member, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Corrects the status mirror to verified and drops any cancel in flight. The first time
    /// (the mirror said unverified), `accepted` (the member's `User accepted invite`) is
    /// written, and an administrator is counted among the organisation's active ones, in the
    /// same transaction: exactly once, whoever learns it first and however often.
    fn mark_verified(
        &self,
        member: &Member,
        accepted: &AuditEntry,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// Removes the membership and its contact claims and appends the audit entry, all or
    /// nothing, and only if the membership still exists; with a `receipt`, the request's
    /// `Idempotency-Key` is finished in the same transaction, so that a retry after a lost
    /// answer (or a process that died right after) replays the answer instead of finding
    /// nothing to cancel. `Done` also when this call's transaction committed and its answer
    /// was lost.
    fn remove_member_with_audit(
        &self,
        member: &Member,
        entry: &AuditEntry,
        receipt: Option<&Receipt>,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// One page of an organisation's members in the Members page's order, of those `filter`
    /// keeps. One query: a filtered page may hold fewer than `limit` and still have a next.
    fn list_members(
        &self,
        org_id: &str,
        filter: &MemberFilter,
        limit: usize,
        after: Option<&PageKey>,
    ) -> impl Future<Output = Result<MemberPage, StoreError>> + Send;

    /// Takes the right to resend now if the last resend went out at least `cooldown` ago:
    /// records `now` as the time of the last invitation and of the last resend, and keeps
    /// `entry`, the resend's audit entry, pending on the membership.
    fn claim_resend(
        &self,
        member: &Member,
        now: Timestamp,
        cooldown: std::time::Duration,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<Cooldown, StoreError>> + Send;

    /// Gives back a resend claimed but not sent: the times as they were, no entry pending.
    fn release_resend(
        &self,
        member: &Member,
        claimed_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes a resend's pending entry to the log (once, whoever calls) and clears it.
    fn complete_resend(
        &self,
        member: &Member,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

//! The member lifecycle's writes ([`MemberChanges`]): a role, a suspension, a reactivation
//! or a removal, each committed with its audit entry and the organisation's count of active
//! administrators in one transaction.

use super::StoreError;
use crate::domain::{AuditEntry, Member};
use std::future::Future;

/// What a lifecycle change found when it went to commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    /// The membership is no longer as it was read (changed by another request, being
    /// removed, or gone): read it again and decide again.
    Stale,
    /// The change would leave the organisation without an active administrator.
    LastAdmin,
}

pub trait MemberChanges: Send + Sync {
    /// Writes `after`'s role and status over `before`'s, keeps `entry` pending on the
    /// membership until Cognito follows (`changePending`), appends `entry` to the log, and
    /// moves the organisation's count of active administrators by the difference: all or
    /// nothing, only if the membership is still as `before` (role and status, not being
    /// removed), and only if the count stays at one or more.
    fn change_member(
        &self,
        before: &Member,
        after: &Member,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<Change, StoreError>> + Send;

    /// Decides a removal: `entry` pending on the membership (`removePending`), and the
    /// member no longer counted as an active administrator; only if the membership is still
    /// as `member` and the count stays at one or more. The entry is written by
    /// [`super::Members::remove_member_with_audit`] once the Cognito user is gone.
    fn mark_remove_pending(
        &self,
        member: &Member,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<Change, StoreError>> + Send;

    /// Drops the pending change `id`, now that Cognito follows it (if another change's
    /// entry is pending by now, it stays).
    fn clear_change_pending(&self, member: &Member, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many active administrators the organisation has, as its count says (none when it
    /// was never counted).
    fn active_admins(&self, org_id: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

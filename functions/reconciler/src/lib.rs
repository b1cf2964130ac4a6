//! The reconciler: a scheduled function for what no client retries. Every request converges
//! when it is retried; this converges what nobody retried, once the work's lease (the
//! functions' timeout plus a margin) has lapsed, so that it never touches a request still at
//! work.
//!
//! Its input is pending work and nothing else ([`shared::ports::PendingWork`]): every request
//! with more than one effect records its work before its first effect, where an index finds
//! it by when it began. A pass reads the work whose lease lapsed, at most [`BUDGET`] of each
//! kind, and so costs what is pending: it lists no pool and scans no table (the daily
//! `drift-audit` does, for what no pending work explains).
//!
//! - a pending cancel: when its Cognito user is gone, its membership and claims are removed
//!   with its entry (one entry, never a second: the entry's key is fixed); when the user is
//!   still there (the cancel died before deleting), it is undone: the user enabled again if
//!   the cancel disabled them, the pending entry dropped;
//! - a pending resend: its entry is written (the message may have gone out);
//! - a pending lifecycle change (a role, a suspension, a reactivation committed, Cognito
//!   perhaps not following yet): Cognito made to follow the membership as it is now
//!   ([`shared::lifecycle::follow`]);
//! - a removal decided: finished ([`shared::lifecycle::finish_removal`]): the user signed
//!   out and deleted, the membership and claims removed with the decided entry;
//! - a reservation whose invitation died (between its reservation and its commit): the
//!   invitation's Cognito user, if it made one, deleted, and its reservations removed,
//!   through [`shared::reclaim`], which holds the reservations and disables the user before
//!   it checks again and deletes, so that a retry of the invitation committing, or the
//!   invitee signing in, while the pass works, is never undone. An invitee who signed in is
//!   reported and left alone.
//!
//! It is idempotent, passes over (and reports) a record it cannot read rather than failing,
//! and ends with one JSON summary line (what it checked, repaired and reported) and one line
//! of CloudWatch metrics ([`metrics_line`]), which the template's alarms watch. Passes never
//! overlap (the template reserves it one concurrent execution).

use serde::Serialize;
use shared::Deps;
use shared::domain::{Member, UserId};
use shared::ports::prelude::*;
use shared::ports::{ContactClaim, Directory, Outcome};
use shared::reclaim::{Reclaimed, reclaim};
use shared::time::Timestamp;
use std::collections::BTreeMap;

/// Memberships, and reservations, one pass takes on at most: with a few calls each, well
/// inside its 300 s. More goes to the next pass (and is logged).
pub const BUDGET: usize = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    /// Memberships with lapsed pending work.
    pub members: usize,
    /// Reservations whose invitation's lease lapsed.
    pub reservations: usize,
    /// More was pending than one pass takes on.
    pub more_pending: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repaired {
    pub cancels_finished: usize,
    pub cancels_undone: usize,
    pub resends_logged: usize,
    pub stranded_users_deleted: usize,
    pub reservations_removed: usize,
    pub changes_followed: usize,
    pub removals_finished: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reported {
    /// Invitees with a dead invitation's reservation who signed in meanwhile: not ours to
    /// delete, left for a person.
    pub users_without_membership: usize,
    /// Repairs that failed this time (an AWS error): tried again next run.
    pub failures: usize,
    /// Records that could not be read as one: passed over, every run, until a person mends
    /// them.
    pub malformed_records: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub checked: Checked,
    pub repaired: Repaired,
    pub reported: Reported,
}

pub async fn handle(
    deps: &Deps,
    _event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<Summary, lambda_runtime::Error> {
    let summary = reconcile(deps, deps.config.clock.now()).await?;
    tracing::info!(summary = %serde_json::to_string(&summary).unwrap_or_default(), "reconciled");
    // A line of its own on stdout: CloudWatch reads it as metrics, which the template's
    // alarms watch (a failed repair or a malformed record wants a person).
    println!("{}", metrics_line(&summary, deps.config.clock.now()));
    Ok(summary)
}

/// The pass's outcome in CloudWatch's embedded metric format: `RepairFailures`,
/// `MalformedRecords`, `ReportedForAPerson` and `Repaired`, in the `MembersApi` namespace.
pub fn metrics_line(summary: &Summary, now: Timestamp) -> String {
    let repaired = &summary.repaired;
    let reported = &summary.reported;
    shared::telemetry::metrics_line(
        "reconciler",
        now,
        &[
            ("RepairFailures", reported.failures),
            ("MalformedRecords", reported.malformed_records),
            ("ReportedForAPerson", reported.users_without_membership),
            (
                "Repaired",
                repaired.cancels_finished
                    + repaired.cancels_undone
                    + repaired.resends_logged
                    + repaired.stranded_users_deleted
                    + repaired.reservations_removed
                    + repaired.changes_followed
                    + repaired.removals_finished,
            ),
        ],
    )
}

/// One pass. Fails only when it cannot read the pending work; a repair that fails is
/// counted and left for the next pass.
pub async fn reconcile(deps: &Deps, now: Timestamp) -> Result<Summary, shared::ApiError> {
    let lease = chrono::Duration::from_std(deps.config.lease).unwrap_or(chrono::Duration::MAX);
    // Work begun before this has outlived every request that could still be at it.
    let lapsed_before = now.checked_sub_signed(lease).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let mut summary = Summary::default();

    let members = deps.store.members_with_work_since_before(lapsed_before, BUDGET).await?;
    for key in &members.malformed {
        summary.reported.malformed_records += 1;
        tracing::error!(record = %key, "a membership record that is not one: passed over, for a person");
    }
    summary.checked.members = members.found.len();
    for member in &members.found {
        if let Err(error) = member_work(deps, member, lapsed_before, &mut summary).await {
            summary.reported.failures += 1;
            tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "repair failed");
        }
    }

    let reservations = deps.store.reservations_taken_before(lapsed_before, BUDGET).await?;
    for key in &reservations.malformed {
        summary.reported.malformed_records += 1;
        tracing::error!(record = %shared::redact::contact(key), "a contact record that is not one: passed over, for a person");
    }
    summary.checked.reservations = reservations.found.len();
    // An invitation's reservations (its phone, its email) are reclaimed together.
    let mut invitations: BTreeMap<(String, String), Vec<ContactClaim>> = BTreeMap::new();
    for claim in reservations.found {
        invitations.entry((claim.org_id.clone(), claim.user_id.clone())).or_default().push(claim);
    }
    for ((org, user), claims) in &invitations {
        if let Err(error) = invitation_work(deps, org, user, claims, &mut summary).await {
            summary.reported.failures += 1;
            tracing::error!(target_user = %user, org, error = %shared::error::error_chain(&error), "could not reclaim a dead invitation");
        }
    }

    summary.checked.more_pending = members.more || reservations.more;
    if summary.checked.more_pending {
        tracing::warn!(budget = BUDGET, "more pending work than one pass takes on: the next pass goes on");
    }
    Ok(summary)
}

/// A membership's lapsed cancel or resend, finished or undone; then its place among pending
/// work made to follow what is left.
async fn member_work(
    deps: &Deps,
    member: &Member,
    lapsed_before: Timestamp,
    summary: &mut Summary,
) -> Result<(), shared::ApiError> {
    let lapsed = |entry: &Option<shared::domain::AuditEntry>| entry.clone().filter(|e| e.occurred_at < lapsed_before);
    if let Some(removal) = lapsed(&member.remove_pending) {
        shared::lifecycle::finish_removal(deps, member, &removal, None).await?;
        summary.repaired.removals_finished += 1;
        tracing::info!(target_user = %member.user_id, "finished a removal nobody retried");
        return Ok(()); // The membership, and its place among pending work, are gone.
    }
    let change = lapsed(&member.change_pending);
    if change.is_some() {
        shared::lifecycle::follow(deps, member).await?;
        summary.repaired.changes_followed += 1;
        tracing::info!(target_user = %member.user_id, "made Cognito follow a change nobody retried");
    }
    let (cancel, resend) = (lapsed(&member.cancel_pending), lapsed(&member.resend_pending));
    if let Some(pending) = &cancel {
        // Ask Cognito now: whether the cancel got as far as deleting.
        match deps.directory.get_user(member.user_id.as_str()).await? {
            None => {
                if deps.store.remove_member_with_audit(member, pending, None).await? == Outcome::Done {
                    summary.repaired.cancels_finished += 1;
                    tracing::info!(target_user = %member.user_id, "finished a cancel nobody retried");
                }
                return Ok(()); // The membership, and its place among pending work, are gone.
            }
            Some(_) => {
                shared::disabling::enable_if_a_cancel_disabled(deps, member).await?;
                deps.store.clear_cancel_pending(member, &pending.id).await?;
                summary.repaired.cancels_undone += 1;
                tracing::info!(target_user = %member.user_id, "undid a cancel that died before deleting");
            }
        }
    }
    if let Some(pending) = &resend {
        deps.store.complete_resend(member, pending).await?;
        summary.repaired.resends_logged += 1;
    }
    // What the work just done cleared took the membership out of the index, unless other
    // work is pending on it (begun later, so not lapsed yet): then it is placed at that
    // work's start. Nothing lapsed at all: the index was behind (a clearing whose second
    // write was lost), and is brought up to date.
    let mut rest = member.clone();
    if cancel.is_some() {
        rest.cancel_pending = None;
    }
    if resend.is_some() {
        rest.resend_pending = None;
    }
    if change.is_some() {
        rest.change_pending = None;
    }
    let other_work = rest.cancel_pending.is_some() || rest.resend_pending.is_some() || rest.change_pending.is_some();
    if other_work || (cancel.is_none() && resend.is_none() && change.is_none()) {
        deps.store.settle_pending_work(&rest).await?;
    }
    Ok(())
}

/// A dead invitation's reservations: its user (if it made one) deleted, they removed.
async fn invitation_work(
    deps: &Deps,
    org: &str,
    user: &str,
    claims: &[ContactClaim],
    summary: &mut Summary,
) -> Result<(), shared::ApiError> {
    let user_id = match UserId::parse(user) {
        Ok(user_id) => user_id,
        Err(_) => {
            summary.reported.malformed_records += 1;
            tracing::error!(target_user = %user, org, "a reservation naming no user we could make: passed over, for a person");
            return Ok(());
        }
    };
    match reclaim(deps, org, &user_id, claims).await? {
        Reclaimed::Deleted { user_deleted, reservations_removed } => {
            summary.repaired.reservations_removed += reservations_removed;
            if user_deleted {
                summary.repaired.stranded_users_deleted += 1;
                tracing::info!(target_user = %user, org, "deleted a stranded invitee");
            }
        }
        Reclaimed::InUse => {
            summary.reported.users_without_membership += 1;
            tracing::warn!(target_user = %user, org, "a dead invitation's invitee is in use: left for a person");
        }
        Reclaimed::Contended => {
            tracing::info!(target_user = %user, org, "a dead invitation is at work again: left to it");
        }
    }
    Ok(())
}

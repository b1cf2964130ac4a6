//! The reconciler: a scheduled function for what no client retries. Every request converges
//! when it is retried; this converges what nobody retried, once the work's lease (the
//! functions' timeout plus a margin) has lapsed, so that it never touches a request still at
//! work:
//!
//! - a pending cancel: when its Cognito user is gone, its membership and claims are removed
//!   with its entry (one entry, never a second: the entry's key is fixed); when the user is
//!   still there (the cancel died before deleting), it is undone: the user enabled again if
//!   the cancel disabled them, the pending entry dropped;
//! - a pending resend: its entry is written (the message may have gone out);
//! - a stranded invitee: a Cognito user with no membership, still `FORCE_CHANGE_PASSWORD`,
//!   whose invitation's reservations lapsed (it died between Cognito and DynamoDB): deleted,
//!   with its reservations, through [`shared::reclaim`], which holds the reservations and
//!   disables the user before it checks again and deletes, so that a retry of the invitation
//!   committing, or the invitee signing in, while the pass works from its old lists, is
//!   never undone. A user with no membership and no lapsed reservation is reported, not
//!   deleted: nothing but a list says it is abandoned;
//! - a stale reservation whose user is gone and who has no membership: removed;
//! - a ghost (a membership whose Cognito user is gone, no cancel pending), a Cognito user of
//!   the pool without an organisation or without a membership who has signed in: reported,
//!   one log line each, for a person to decide (cancel removes a ghost).
//!
//! It is idempotent, reads the pool a page at a time within `ListUsers`' quota, passes over
//! (and reports) a record it cannot read rather than failing, and ends with one JSON summary
//! line (what it checked, repaired and reported) and one line of CloudWatch metrics
//! ([`metrics_line`]), which the template's alarms watch. Passes never overlap (the
//! template reserves it one concurrent execution).

use serde::Serialize;
use shared::Deps;
use shared::domain::Member;
use shared::domain::UserId;
use shared::ports::prelude::*;
use shared::ports::{ClaimState, ContactClaim, Directory, DirectoryUser, Outcome};
use shared::reclaim::{Reclaimed, reclaim};
use shared::time::Timestamp;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Between two pages of `ListUsers` (60 users each): at most 20 calls a second, inside the
/// account's 30.
pub const PAGE_PAUSE: Duration = Duration::from_millis(50);

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    pub members: usize,
    pub users: usize,
    pub claims: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repaired {
    pub cancels_finished: usize,
    pub cancels_undone: usize,
    pub resends_logged: usize,
    pub stranded_users_deleted: usize,
    pub reservations_removed: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reported {
    pub ghosts: usize,
    pub users_without_membership: usize,
    /// Repairs that failed this time (an AWS error): tried again next run.
    pub failures: usize,
    /// Membership records that could not be read as one: passed over, every run, until a
    /// person mends them.
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
    let summary = reconcile(deps, deps.config.clock.now(), PAGE_PAUSE).await?;
    tracing::info!(summary = %serde_json::to_string(&summary).unwrap_or_default(), "reconciled");
    // A line of its own on stdout: CloudWatch reads it as metrics, which the template's
    // alarms watch (a failed repair or a malformed record wants a person).
    println!("{}", metrics_line(&summary, deps.config.clock.now()));
    Ok(summary)
}

/// The pass's outcome in CloudWatch's embedded metric format: `RepairFailures`,
/// `MalformedRecords`, `ReportedForAPerson` (ghosts and users without a membership) and
/// `Repaired`, in the `MembersApi` namespace.
pub fn metrics_line(summary: &Summary, now: Timestamp) -> String {
    let repaired = &summary.repaired;
    let reported = &summary.reported;
    serde_json::json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "MembersApi",
                "Dimensions": [["Function"]],
                "Metrics": [
                    {"Name": "RepairFailures", "Unit": "Count"},
                    {"Name": "MalformedRecords", "Unit": "Count"},
                    {"Name": "ReportedForAPerson", "Unit": "Count"},
                    {"Name": "Repaired", "Unit": "Count"},
                ],
            }],
        },
        "Function": "reconciler",
        "RepairFailures": reported.failures,
        "MalformedRecords": reported.malformed_records,
        "ReportedForAPerson": reported.ghosts + reported.users_without_membership,
        "Repaired": repaired.cancels_finished + repaired.cancels_undone + repaired.resends_logged
            + repaired.stranded_users_deleted + repaired.reservations_removed,
    })
    .to_string()
}

fn lapsed(at: Timestamp, lease: Duration, now: Timestamp) -> bool {
    chrono::Duration::from_std(lease).is_ok_and(|lease| at + lease < now)
}

/// One pass. Fails only when it cannot read what it must check; a repair that fails is
/// counted and left for the next pass.
pub async fn reconcile(deps: &Deps, now: Timestamp, pause: Duration) -> Result<Summary, shared::ApiError> {
    let lease = deps.config.lease;
    let mut summary = Summary::default();
    // Users first: a membership is written after its user, so one listed after the users
    // were read can only make a user look stranded, never a ghost; and stranded users are
    // judged by their age, which the lease covers.
    let users = deps.directory.all_users_paced(pause).await?;
    let (members, malformed) = deps.store.scan_members().await?;
    for key in &malformed {
        summary.reported.malformed_records += 1;
        tracing::error!(record = %key, "a membership record that is not one: passed over, for a person");
    }
    let claims = deps.store.contact_claims().await?;
    summary.checked = Checked { members: members.len(), users: users.len(), claims: claims.len() };
    let user_by_id: HashMap<&str, &DirectoryUser> = users.iter().map(|u| (u.username.as_str(), u)).collect();
    let members_by_id: HashSet<(&str, &str)> =
        members.iter().map(|m| (m.org_id.as_str(), m.user_id.as_str())).collect();

    for member in &members {
        let user = user_by_id.get(member.user_id.as_str()).copied();
        if let Err(error) = member_work(deps, member, user, now, lease, &mut summary).await {
            summary.reported.failures += 1;
            tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "repair failed");
        }
    }

    let mut deleted = HashSet::new();
    for user in &users {
        let org = user.org_id.as_deref().unwrap_or_default();
        if members_by_id.contains(&(org, user.username.as_str())) {
            continue;
        }
        let old = user.created_at.is_some_and(|at| lapsed(at, lease, now));
        // The lapsed reservations of the invitation that made it: its intent, and the hold.
        let reservations: Vec<ContactClaim> = claims
            .iter()
            .filter(|c| c.user_id == user.username && c.org_id == org && c.is_stale(now, lease))
            .cloned()
            .collect();
        if !user.awaits_first_sign_in() || user.org_id.is_none() || (old && reservations.is_empty()) {
            summary.reported.users_without_membership += 1;
            tracing::warn!(target_user = %user.username, org = ?user.org_id, status = ?user.status, "a user of the pool without a membership: left for a person");
            continue;
        }
        if !old || reservations.is_empty() {
            continue; // An invitation may be at work on it.
        }
        let outcome = match UserId::parse(&user.username) {
            Ok(user_id) => reclaim(deps, org, &user_id, &reservations).await,
            Err(error) => Err(error.into()),
        };
        match outcome {
            Ok(Reclaimed::Deleted { reservations_removed }) => {
                summary.repaired.stranded_users_deleted += 1;
                summary.repaired.reservations_removed += reservations_removed;
                deleted.insert(user.username.clone());
                tracing::info!(target_user = %user.username, org, "deleted a stranded invitee");
            }
            Ok(Reclaimed::InUse) => {
                summary.reported.users_without_membership += 1;
                tracing::warn!(target_user = %user.username, org, "a stranded invitee turned out in use: left for a person");
            }
            Ok(Reclaimed::Contended) => {
                tracing::info!(target_user = %user.username, org, "a stranded invitee's invitation is at work again: left to it");
            }
            Err(error) => {
                summary.reported.failures += 1;
                tracing::error!(target_user = %user.username, error = %shared::error::error_chain(&error), "could not delete a stranded invitee");
            }
        }
    }

    for claim in &claims {
        let gone = !user_by_id.contains_key(claim.user_id.as_str()) || deleted.contains(&claim.user_id);
        let member = members_by_id.contains(&(claim.org_id.as_str(), claim.user_id.as_str()));
        if claim.state == ClaimState::Reserved && claim.is_stale(now, lease) && gone && !member {
            match deps.store.remove_stale_reservation(claim).await {
                Ok(Outcome::Done) => summary.repaired.reservations_removed += 1,
                Ok(Outcome::ConditionFailed) => {}
                Err(error) => {
                    summary.reported.failures += 1;
                    tracing::error!(contact = %shared::redact::contact(&claim.contact), error = %shared::error::error_chain(&error), "could not remove a stale reservation");
                }
            }
        }
    }
    Ok(summary)
}

async fn member_work(
    deps: &Deps,
    member: &Member,
    user: Option<&DirectoryUser>,
    now: Timestamp,
    lease: Duration,
    summary: &mut Summary,
) -> Result<(), shared::ApiError> {
    if let Some(pending) = member.cancel_pending.as_ref().filter(|p| lapsed(p.occurred_at, lease, now)) {
        // The list may be older than the cancel's last step: ask Cognito now.
        match deps.directory.get_user(member.user_id.as_str()).await? {
            None => {
                if deps.store.remove_member_with_audit(member, pending, None).await? == Outcome::Done {
                    summary.repaired.cancels_finished += 1;
                    tracing::info!(target_user = %member.user_id, "finished a cancel nobody retried");
                }
                return Ok(());
            }
            Some(_) => {
                shared::disabling::enable_if_a_cancel_disabled(deps, member).await?;
                deps.store.clear_cancel_pending(member, &pending.id).await?;
                summary.repaired.cancels_undone += 1;
                tracing::info!(target_user = %member.user_id, "undid a cancel that died before deleting");
            }
        }
    } else if user.is_none() && member.cancel_pending.is_none() {
        summary.reported.ghosts += 1;
        tracing::warn!(target_user = %member.user_id, org = %member.org_id, "ghost: a membership whose Cognito user is gone; cancel removes it");
    }
    if let Some(pending) = member.resend_pending.as_ref().filter(|p| lapsed(p.occurred_at, lease, now)) {
        deps.store.complete_resend(member, pending).await?;
        summary.repaired.resends_logged += 1;
    }
    Ok(())
}

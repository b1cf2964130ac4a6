//! The drift audit: a daily scheduled function for what no pending work explains. The
//! reconciler finishes what requests left under way, reading only that work; this one reads
//! the pool and the members table whole, once a day, and compares them:
//!
//! - a ghost (a membership whose Cognito user is gone, no cancel pending): reported, for a
//!   person (cancel removes a ghost);
//! - a user of the pool without a membership, whom no invitation holds a reservation for
//!   (an invitation under way, or a dead one the reconciler reclaims): reported. It is never
//!   deleted here: nothing but two lists says it is abandoned;
//! - a verified member whose user a cancel disabled (`disabledBy`) and whom no cancel still
//!   works on (the cancel died, and the sign-in trigger cleared it): enabled again, read
//!   consistently first. Verified members are never cancelled, so no cancel can be at work on
//!   them; a user disabled by anyone else is reported;
//! - role ⇔ group drift: an administrator without the administrators' group (their
//!   invitation's `AdminAddUserToGroup` failed after the membership committed), or a plain
//!   member in it (added by hand): the group made to follow the membership's role, read
//!   consistently first. The role is what the console shows and the API judges by;
//! - a membership with a cancel or resend pending: placed among pending work (at its oldest
//!   work's start) if it is not there, so that the reconciler finds it: memberships written
//!   before the pending-work index existed carry none, and DynamoDB's own backfill of a new
//!   index cannot add them;
//! - a record of the members table that is not a membership: reported and passed over.
//!
//! It reads the pool, and the administrators' group, a page (60 users) at a time with
//! [`PAGE_PAUSE`] between pages: at most 20 `ListUsers` calls a second, two thirds of the
//! account's 30, which invitations share.
//! It deletes nothing. One JSON summary line and one line of CloudWatch metrics end a run.

use serde::Serialize;
use shared::Deps;
use shared::domain::{Member, MemberStatus, Role};
use shared::ports::prelude::*;
use shared::ports::{ClaimState, Directory, DirectoryUser};
use shared::store::contact_key;
use shared::time::Timestamp;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Between two pages of `ListUsers` (60 users each): at most 20 calls a second, inside the
/// account's 30.
pub const PAGE_PAUSE: Duration = Duration::from_millis(50);

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub members_checked: usize,
    pub users_checked: usize,
    pub ghosts: usize,
    pub users_without_membership: usize,
    pub disabled_members: usize,
    pub members_enabled: usize,
    /// Administrators given the group, plain members taken out of it.
    pub groups_repaired: usize,
    /// Memberships with pending work, (re)placed among pending work.
    pub pending_indexed: usize,
    pub malformed_records: usize,
    pub failures: usize,
}

pub async fn handle(
    deps: &Deps,
    _event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<Drift, lambda_runtime::Error> {
    let drift = audit(deps, PAGE_PAUSE).await?;
    tracing::info!(drift = %serde_json::to_string(&drift).unwrap_or_default(), "audited");
    println!("{}", metrics_line(&drift, deps.config.clock.now()));
    Ok(drift)
}

/// `ReportedDrift` (ghosts, users without a membership, disabled members), `Repaired`,
/// `RepairFailures` and `MalformedRecords`, in the `MembersApi` namespace.
pub fn metrics_line(drift: &Drift, now: Timestamp) -> String {
    shared::telemetry::metrics_line(
        "drift-audit",
        now,
        &[
            ("ReportedDrift", drift.ghosts + drift.users_without_membership + drift.disabled_members),
            ("Repaired", drift.members_enabled + drift.groups_repaired),
            ("RepairFailures", drift.failures),
            ("MalformedRecords", drift.malformed_records),
        ],
    )
}

/// One run over the pool and the members table.
pub async fn audit(deps: &Deps, pause: Duration) -> Result<Drift, shared::ApiError> {
    let mut drift = Drift::default();
    // Users first: a membership is written after its user, so one written while the pool
    // is read can only make its user look like one without a membership, which the
    // reservation check below then explains.
    let users = deps.directory.all_users_paced(pause).await?;
    let admins: HashSet<String> =
        deps.directory.group_members_paced(&deps.config.admin_group, pause).await?.into_iter().collect();
    let (members, malformed) = deps.store.scan_members().await?;
    for key in &malformed {
        drift.malformed_records += 1;
        tracing::error!(record = %key, "a membership record that is not one: passed over, for a person");
    }
    drift.members_checked = members.len();
    drift.users_checked = users.len();
    let user_by_id: HashMap<&str, &DirectoryUser> = users.iter().map(|u| (u.username.as_str(), u)).collect();
    let memberships: HashSet<(&str, &str)> = members.iter().map(|m| (m.org_id.as_str(), m.user_id.as_str())).collect();

    for member in &members {
        match user_by_id.get(member.user_id.as_str()) {
            None if member.cancel_pending.is_none() => {
                drift.ghosts += 1;
                tracing::warn!(target_user = %member.user_id, org = %member.org_id, "ghost: a membership whose Cognito user is gone; cancel removes it");
            }
            Some(user)
                if !user.enabled && member.status == MemberStatus::Verified && member.cancel_pending.is_none() =>
            {
                match enable_left_disabled(deps, member).await {
                    Ok(true) => drift.members_enabled += 1,
                    Ok(false) => {
                        drift.disabled_members += 1;
                        tracing::warn!(target_user = %member.user_id, org = %member.org_id, "a verified member disabled by someone else: left for a person");
                    }
                    Err(error) => {
                        drift.failures += 1;
                        tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "could not enable a member a dead cancel disabled");
                    }
                }
            }
            _ => {}
        }
        if member.cancel_pending.is_some() || member.resend_pending.is_some() {
            // Conditional on the work read being still there: a no-op when it moved on.
            match deps.store.settle_pending_work(member).await {
                Ok(()) => drift.pending_indexed += 1,
                Err(error) => {
                    drift.failures += 1;
                    tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "could not place pending work in its index");
                }
            }
        }
        let in_group = admins.contains(member.user_id.as_str());
        if user_by_id.contains_key(member.user_id.as_str())
            && member.cancel_pending.is_none()
            && in_group != (member.role == Role::Admin)
        {
            match match_group_to_role(deps, member).await {
                Ok(true) => drift.groups_repaired += 1,
                Ok(false) => {}
                Err(error) => {
                    drift.failures += 1;
                    tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "could not match a member's group to their role");
                }
            }
        }
    }

    for user in &users {
        let org = user.org_id.as_deref().unwrap_or_default();
        if memberships.contains(&(org, user.username.as_str())) {
            continue;
        }
        match reserved_for(deps, user).await {
            Ok(true) => continue, // An invitation's, under way or the reconciler's to reclaim.
            Ok(false) => {}
            Err(error) => {
                drift.failures += 1;
                tracing::error!(target_user = %user.username, error = %shared::error::error_chain(&error), "could not read a user's reservations");
                continue;
            }
        }
        drift.users_without_membership += 1;
        tracing::warn!(target_user = %user.username, org = ?user.org_id, status = ?user.status, "a user of the pool without a membership: left for a person");
    }
    Ok(drift)
}

/// Enables a verified member whom a dead cancel disabled, judged on the membership read
/// again now; whether it did.
async fn enable_left_disabled(deps: &Deps, listed: &Member) -> Result<bool, shared::ApiError> {
    let Some(member) = deps.store.get_member(&listed.org_id, &listed.user_id).await? else { return Ok(false) };
    if member.status != MemberStatus::Verified || member.cancel_pending.is_some() || member.disabled_by.is_none() {
        return Ok(false);
    }
    Ok(shared::disabling::enable_if_a_cancel_disabled(deps, &member).await?)
}

/// Gives an administrator the administrators' group, or takes a plain member out of it, as
/// the membership read again now says; whether it did.
async fn match_group_to_role(deps: &Deps, listed: &Member) -> Result<bool, shared::ApiError> {
    let Some(member) = deps.store.get_member(&listed.org_id, &listed.user_id).await? else { return Ok(false) };
    if member.cancel_pending.is_some() || member.role != listed.role {
        return Ok(false); // Being cancelled, or changed since it was listed: the next run sees.
    }
    let group = &deps.config.admin_group;
    if member.role == Role::Admin {
        deps.directory.add_to_group(member.user_id.as_str(), group).await?;
        tracing::info!(target_user = %member.user_id, org = %member.org_id, "gave an administrator the administrators' group");
    } else {
        deps.directory.remove_from_group(member.user_id.as_str(), group).await?;
        tracing::warn!(target_user = %member.user_id, org = %member.org_id, "took a plain member out of the administrators' group");
    }
    Ok(true)
}

/// Whether an invitation holds a reservation of the user's phone or email for them.
async fn reserved_for(deps: &Deps, user: &DirectoryUser) -> Result<bool, shared::ApiError> {
    let contacts = [
        user.phone.as_deref().map(|p| contact_key("phone", p)),
        user.email.as_deref().map(|e| contact_key("email", e)),
    ];
    for contact in contacts.into_iter().flatten() {
        if let Some(claim) = deps.store.contact_claim(&contact).await? {
            if claim.user_id == user.username && claim.state == ClaimState::Reserved {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

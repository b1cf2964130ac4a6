//! The member lifecycle's path, shared by `change-member-role`, `suspend-member`,
//! `reactivate-member` and `remove-member`, and by the reconciler that finishes what they
//! leave: the membership changes first, Cognito follows.
//!
//! The membership is the authority (every request reads its caller's, see
//! [`crate::request`]), so it changes first, in one transaction with its audit entry and the
//! organisation's count of active administrators ([`crate::ports::MemberChanges`]): from that
//! moment a demoted administrator's token is refused administration and a suspended
//! member's every request. The entry stays pending on the membership (`changePending`,
//! which puts it in the reconciler's index) until Cognito follows: the group for the role,
//! and the user signed out and disabled for a suspension, enabled for a reactivation. A
//! request that dies in between leaves Cognito behind the membership, never ahead of it;
//! its retry, any later change of the member, or the reconciler makes Cognito follow.
//!
//! Two changes of one member can reach Cognito in the other order than they committed, so
//! [`follow`] reads the membership again after its calls and follows again if it moved
//! (another change committed: its own pending entry is there, even when it set the same
//! role back): whoever makes the last call has read the last commit.
//!
//! A removal ([`finish_removal`]) is decided the same way (`removePending`, the count given
//! up), then signs the member out, deletes the Cognito user, and removes the membership and
//! its contact claims with the entry.

use crate::domain::{AuditAction, AuditEntry, Member, MemberStatus, Role, UserId};
use crate::error::ApiError;
use crate::http::json;
use crate::ports::{Change, Directory, Outcome, Receipt, Store};
use crate::request::Admitted;
use crate::view::MemberView;
use crate::{Deps, time::Timestamp};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

/// Reads of a membership that keeps changing under a request before it answers 503.
const ATTEMPTS: usize = 4;

/// `200` with `member` as `GET /members` now shows them to the caller.
pub async fn answer<D, S: Store, T>(
    deps: &Deps<D, S>,
    request: &Admitted<T>,
    member: &Member,
) -> Result<Response<Body>, ApiError> {
    let active_admins = deps.store.active_admins(&request.caller.org_id).await?;
    let viewer = request.viewer(&deps.config.admin_group, active_admins);
    let view = MemberView::of(member, &viewer, request.now, deps.config.invitation_validity);
    Ok(json(StatusCode::OK, &view))
}

/// The member `request` acts on, in the caller's organisation: none, or one being removed,
/// is not found.
pub async fn target_of<D, S: Store>(deps: &Deps<D, S>, request: &Admitted<UserId>) -> Result<Member, ApiError> {
    match deps.store.get_member(&request.caller.org_id, &request.target).await? {
        Some(member) if member.remove_pending.is_none() => Ok(member),
        _ => Err(ApiError::NotFound),
    }
}

/// Changes the member `request` names as `decide` says, with an `action` entry; `decide`
/// answers what the member becomes, `None` when they are so already (nothing written), or
/// the refusal. Returns the member as they now are.
pub async fn change<D, S, F>(
    deps: &Deps<D, S>,
    request: &Admitted<UserId>,
    action: AuditAction,
    decide: F,
) -> Result<Member, ApiError>
where
    D: Directory,
    S: Store,
    F: Fn(&Member) -> Result<Option<Member>, ApiError>,
{
    // With an Idempotency-Key, every retry of one request derives the same entry id: a
    // retry finding its own change committed answers as the first attempt would have.
    let entry_id = request.derived_id().to_string();
    for _ in 0..ATTEMPTS {
        let member = target_of(deps, request).await?;
        let ours = member.change_pending.as_ref().is_some_and(|entry| entry.id == entry_id)
            || member.last_change_id.as_deref() == Some(entry_id.as_str());
        let after = if ours { None } else { decide(&member)? };
        let Some(after) = after else {
            // Nothing to change; Cognito may still lag a change whose request stopped.
            return follow(deps, &member).await;
        };
        let mut entry = AuditEntry::new(action, &request.caller.actor(), &request.meta, &member, request.now)
            .with_id(entry_id.clone());
        if member.role != after.role {
            entry = entry.changing_role(member.role, after.role);
        }
        match deps.store.change_member(&member, &after, &entry).await? {
            Change::Done => return follow(deps, &Member { change_pending: Some(entry), ..after }).await,
            Change::Stale => continue,
            Change::LastAdmin => return Err(ApiError::LastAdmin),
        }
    }
    Err(ApiError::unavailable("the membership kept changing"))
}

/// Makes Cognito follow `member` (as its latest change left it), then drops the change's
/// pending entry. Returns the membership as read after the calls.
pub async fn follow<D: Directory, S: Store>(deps: &Deps<D, S>, member: &Member) -> Result<Member, ApiError> {
    let mut current = member.clone();
    // Whether this follower disabled the user: if the membership is verified again when it
    // reads it after (a reactivation committed and followed meanwhile, its pending entry
    // already dropped), the disable it made is undone.
    let mut disabled = false;
    for _ in 0..ATTEMPTS {
        if current.remove_pending.is_some() {
            return Ok(current);
        }
        let reactivated = current.change_pending.as_ref().is_some_and(|entry| entry.action == AuditAction::Reactivated);
        follow_once(deps, &current, reactivated || disabled).await?;
        disabled |= current.status == MemberStatus::Suspended;
        let Some(again) = deps.store.get_member(&current.org_id, &current.user_id).await? else {
            return Ok(current);
        };
        // Unchanged since it was read (each change leaves its own pending entry, so a
        // change back to the same role is a change too): Cognito now follows it.
        let same_change =
            again.change_pending.as_ref().map(|e| &e.id) == current.change_pending.as_ref().map(|e| &e.id);
        if again.role == current.role && again.status == current.status && same_change {
            if let Some(entry) = &again.change_pending {
                deps.store.clear_change_pending(&again, &entry.id).await?;
            }
            return Ok(Member { change_pending: None, ..again });
        }
        current = again;
    }
    Err(ApiError::unavailable("the membership kept changing while Cognito followed it"))
}

/// One round of Cognito calls for `member`: the group for the role; a suspended member
/// signed out, then disabled (the order Cognito accepts: it refuses to sign out a disabled
/// user, which a retry after the disable meets, and the port answers that as done); a
/// verified one enabled when `enable` (a reactivation is being followed: a verified member
/// some operator disabled by hand stays so otherwise).
async fn follow_once<D: Directory, S>(deps: &Deps<D, S>, member: &Member, enable: bool) -> Result<(), ApiError> {
    let (username, group) = (member.user_id.as_str(), deps.config.admin_group.as_str());
    match member.role {
        Role::Admin => deps.directory.add_to_group(username, group).await?,
        Role::Member => {
            deps.directory.remove_from_group(username, group).await?;
        }
    }
    match member.status {
        MemberStatus::Suspended => {
            deps.directory.sign_out(username).await?;
            deps.directory.disable(username).await?;
        }
        MemberStatus::Verified if enable => {
            deps.directory.enable(username).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Finishes a removal decided with `entry` (pending on `member`): the member signed out (a
/// suspended member's user is disabled, which Cognito refuses to sign out: the port answers
/// that as nothing to do, and the deletion ends its tokens anyway), their Cognito user deleted, then the membership and its claims removed with the entry
/// (and, with a `receipt`, the request's answer kept) in one transaction. Idempotent: every
/// step finds its work done or does it.
pub async fn finish_removal<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    member: &Member,
    entry: &AuditEntry,
    receipt: Option<&Receipt>,
) -> Result<(), ApiError> {
    let username = member.user_id.as_str();
    deps.directory.sign_out(username).await?;
    deps.directory.delete(username).await?;
    match deps.store.remove_member_with_audit(member, entry, receipt).await? {
        Outcome::Done => Ok(()),
        // Another finisher of the same removal committed it.
        Outcome::ConditionFailed => Ok(()),
    }
}

/// The entry of the removal `request` decides now.
pub fn removal_entry(request: &Admitted<UserId>, member: &Member, now: Timestamp) -> AuditEntry {
    AuditEntry::new(AuditAction::Removed, &request.caller.actor(), &request.meta, member, now)
        .with_id(request.derived_id().to_string())
}

//! `DELETE /invitations/{userId}`: an administrator cancels the invitation of a member who
//! has not verified yet. The invitee's Cognito user is deleted for good, the membership
//! record goes, and exactly one `Admin canceled user invite` entry is written.
//!
//! The order of calls, and what each failure leaves behind:
//!
//! 1. read the membership (caller's organisation only) and the Cognito user: nothing changed;
//! 2. record the audit entry to be written in the membership (`cancelPending`): harmless if
//!    the call stops here;
//! 3. disable the user, so they cannot verify while we decide (the membership records that
//!    this cancel did, `disabledBy`), and read the status again: an invitee who verified in
//!    between is enabled again and answered 409;
//! 4. delete the Cognito user. On any failure after the disable the user is enabled again
//!    (and if even that fails, the next cancel or resend does it, by `disabledBy`);
//! 5. remove the membership and write the audit entry in one conditional transaction. If
//!    this fails after step 4, the next call finds the user gone and the pending entry, and
//!    finishes with that same entry; racing cancels commit at most one transaction.
//!
//! A membership whose Cognito user is gone with no cancel pending (a ghost: the user was
//! deleted by hand, or by an older version's race) is cancelled the same way: its record
//! and claims removed and one entry written, so that it cannot stay on the page for good.
//! With an `Idempotency-Key`, a retry of a cancel that answered replays its answer.

use lambda_http::{Body, Error, Request, Response};
use shared::domain::{AuditAction, AuditEntry, Member, UserId};
use shared::http::no_content;
use shared::ports::{Directory, Outcome, Receipt, Store};
use shared::request::{Access, Admitted, Route};
use shared::{ApiError, Deps};

const ROUTE: Route = Route { function: "cancel-invitation", outcome: "canceled", access: Access::Administrator };

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::mutation(deps, request, ROUTE, async |request: &Admitted<UserId>| {
        cancel_invitation(deps, request).await.map(|()| no_content())
    })
    .await
}

/// The rule itself, for a request already admitted (an administrator's). The 204 is kept
/// under the request's idempotency key by the transaction that commits the cancel itself.
pub async fn cancel_invitation<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Admitted<UserId>,
) -> Result<(), ApiError> {
    let Admitted { caller, target, .. } = request;
    let receipt = request.receipt(&no_content());
    let receipt = receipt.as_ref();
    let Deps { directory, store, .. } = deps;
    let Some(member) = store.get_member(&caller.org_id, target).await? else {
        return Err(ApiError::NotFound);
    };
    // A resend that stopped after sending left its entry here; the membership is about to
    // go, so write it now (at most once: its key is fixed).
    if let Some(resent) = &member.resend_pending {
        store.complete_resend(&member, resent).await?;
    }
    let Some(user) = directory.get_user(target.as_str()).await? else {
        return finish_without_user(deps, request, &member, receipt).await;
    };
    if !user.belongs_to(&caller.org_id) {
        tracing::warn!(cognito_org = ?user.org_id, "membership record and Cognito disagree on the organisation");
        return Err(ApiError::NotFound);
    }
    if !user.is_unverified() {
        // A disabled, verified user with `disabledBy` was disabled by a cancel that stopped
        // before it could enable them again: enabled now. One an operator disabled stays so.
        return refuse_verified(deps, request, &member).await;
    }

    let actor = caller.actor();
    let entry = AuditEntry::new(AuditAction::CanceledInvite, &actor, &request.meta, &member, deps.config.clock.now());
    let disabling = user.enabled;
    if store.mark_cancel_pending(&member, &entry, disabling).await? == Outcome::ConditionFailed {
        return Err(ApiError::NotFound);
    }
    let member = Member {
        disabled_by: if disabling { Some(entry.id.clone()) } else { member.disabled_by },
        cancel_pending: Some(entry.clone()),
        ..member
    };
    if disabling && !directory.disable(target.as_str()).await? {
        // Deleted since we read it: a concurrent cancel is ahead of us.
        return finish(deps, &member, &entry, receipt).await;
    }
    match delete_if_still_unverified(deps, target).await {
        Ok(true) => finish(deps, &member, &entry, receipt).await,
        Ok(false) => refuse_verified(deps, request, &member).await,
        Err(error) => {
            // Every way out after the disable leaves the invitee as we found them.
            if disabling && let Err(enable_error) = shared::disabling::enable_if_a_cancel_disabled(deps, &member).await
            {
                tracing::error!(
                    error = %shared::error::error_chain(&enable_error),
                    "could not enable the invitee again; the next cancel or resend will"
                );
            }
            Err(error)
        }
    }
}

/// The invitee may have verified between the first read and the disable; now that they
/// cannot sign in, this read is final. True when the user is deleted (or already gone).
async fn delete_if_still_unverified<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    target: &UserId,
) -> Result<bool, ApiError> {
    match deps.directory.get_user(target.as_str()).await? {
        None => Ok(true),
        Some(again) if !again.is_unverified() => Ok(false),
        Some(_) => {
            deps.directory.delete(target.as_str()).await?;
            Ok(true)
        }
    }
}

async fn refuse_verified<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Admitted<UserId>,
    member: &Member,
) -> Result<(), ApiError> {
    shared::disabling::enable_if_a_cancel_disabled(deps, member).await?;
    deps.store
        .mark_verified(
            member,
            &AuditEntry::accepted(member, &request.meta.request_id, "cancel-invitation", request.now),
        )
        .await?;
    Err(ApiError::AlreadyVerified)
}

/// The Cognito user is gone but the membership is not. If a cancel recorded its entry
/// before deleting, this is that cancel's unfinished work, finished with that same entry;
/// otherwise the membership is a ghost, removed with an entry of its own.
async fn finish_without_user<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Admitted<UserId>,
    member: &Member,
    receipt: Option<&Receipt>,
) -> Result<(), ApiError> {
    match &member.cancel_pending {
        Some(entry) => {
            tracing::info!(pending_request_id = %entry.request_id, "finishing an interrupted cancel");
            finish(deps, member, entry, receipt).await
        }
        None => {
            tracing::warn!("cancelling a membership whose Cognito user is gone");
            let entry = AuditEntry::new(
                AuditAction::CanceledInvite,
                &request.caller.actor(),
                &request.meta,
                member,
                deps.config.clock.now(),
            );
            finish(deps, member, &entry, receipt).await
        }
    }
}

async fn finish<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    member: &Member,
    entry: &AuditEntry,
    receipt: Option<&Receipt>,
) -> Result<(), ApiError> {
    match deps.store.remove_member_with_audit(member, entry, receipt).await? {
        Outcome::Done => Ok(()),
        // Another cancel committed first; this one has nothing left to do.
        Outcome::ConditionFailed => Err(ApiError::NotFound),
    }
}

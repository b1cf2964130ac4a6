//! `DELETE /members/{userId}`: an administrator removes a verified or suspended member for
//! good: signed out, their Cognito user deleted, their membership gone and their phone and
//! email free for a new invitation, and exactly one `Admin removed member` entry.
//!
//! The order of calls, and what each failure leaves (see [`shared::lifecycle`]):
//!
//! 1. read the membership (the caller's organisation only) and the Cognito user (another
//!    organisation's: `404`): nothing changed. One not verified yet: `409 not-verified`
//!    (cancel the invitation instead); the caller's own: `409 own-membership`;
//! 2. decide: the removal's entry pending on the membership (`removePending`) and the member
//!    given up by the count of active administrators, in one transaction (the last one:
//!    `409 last-admin`, nothing written). From here the member is refused everywhere and
//!    nothing else applies to them: the removal only goes forward;
//! 3. sign out (`AdminUserGlobalSignOut`), delete the user (`AdminDeleteUser`);
//! 4. remove the membership and its contact claims and write the entry, in one transaction
//!    (with the request's answer under its `Idempotency-Key`).
//!
//! A failure after step 2 answers `503`; the next request for the member (a retry, another
//! administrator's removal) finds the decision and finishes it with the same entry, and so
//! does the reconciler: one entry, however many finish it.

use lambda_http::{Body, Error, Request, Response};
use shared::domain::{Member, MemberStatus, UserId};
use shared::http::no_content;
use shared::ports::{Change, Directory, Store};
use shared::request::{Access, Admitted, Route};
use shared::{ApiError, Deps};

const ROUTE: Route = Route { function: "remove-member", outcome: "removed", access: Access::Administrator };

/// Reads of a membership that keeps changing under a request before it answers 503.
const ATTEMPTS: usize = 4;

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::mutation(deps, request, ROUTE, async |request: &Admitted<UserId>| {
        remove(deps, request).await.map(|()| no_content())
    })
    .await
}

/// The rule itself, for a request already admitted (an administrator's).
pub async fn remove<D: Directory, S: Store>(deps: &Deps<D, S>, request: &Admitted<UserId>) -> Result<(), ApiError> {
    let receipt = request.receipt(&no_content());
    let Admitted { caller, target, .. } = request;
    for _ in 0..ATTEMPTS {
        let Some(member) = deps.store.get_member(&caller.org_id, target).await? else {
            return Err(ApiError::NotFound);
        };
        if let Some(entry) = &member.remove_pending {
            tracing::info!(pending_request_id = %entry.request_id, "finishing a removal already decided");
            return shared::lifecycle::finish_removal(deps, &member, entry, receipt.as_ref()).await;
        }
        refuse(request, &member)?;
        if let Some(user) = deps.directory.get_user(target.as_str()).await?
            && !user.belongs_to(&caller.org_id)
        {
            tracing::warn!(cognito_org = ?user.org_id, "membership record and Cognito disagree on the organisation");
            return Err(ApiError::NotFound);
        }
        let entry = shared::lifecycle::removal_entry(request, &member, request.now);
        match deps.store.mark_remove_pending(&member, &entry).await? {
            Change::Done => {
                let member = Member { remove_pending: Some(entry.clone()), ..member };
                return shared::lifecycle::finish_removal(deps, &member, &entry, receipt.as_ref()).await;
            }
            Change::Stale => continue,
            Change::LastAdmin => return Err(ApiError::LastAdmin),
        }
    }
    Err(ApiError::unavailable("the membership kept changing"))
}

/// What the contract refuses before anything is decided.
fn refuse(request: &Admitted<UserId>, member: &Member) -> Result<(), ApiError> {
    match member.status {
        MemberStatus::Unverified => Err(ApiError::NotVerified),
        _ if request.membership.user_id == member.user_id => Err(ApiError::OwnMembership),
        MemberStatus::Verified | MemberStatus::Suspended => Ok(()),
    }
}

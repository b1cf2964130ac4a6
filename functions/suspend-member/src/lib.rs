//! `POST /members/{userId}/suspend`: an administrator suspends a verified member. The
//! membership becomes `suspended` (every request of theirs is refused from that moment,
//! whatever token they hold), then Cognito signs them out everywhere
//! (`AdminUserGlobalSignOut`) and disables the user (`AdminDisableUser`), in that order:
//! Cognito refuses to sign out a disabled user.
//!
//! The order of calls, and what each failure leaves (see [`shared::lifecycle`]):
//!
//! 1. read the membership (the caller's organisation only): nothing changed. One not
//!    verified yet: `409 not-verified` (cancel the invitation instead); the caller's own:
//!    `409 own-membership`; one suspended already: `200`, nothing written;
//! 2. one transaction: `suspended`, the `Admin suspended member` entry, the entry pending
//!    on the membership, and the organisation's count of active administrators (the last
//!    one: `409 last-admin`, nothing written);
//! 3. sign out, disable, read the membership again (a reactivation committed meanwhile is
//!    followed instead), drop the pending entry. A failure here answers `503` with the
//!    suspension committed and in force; the retry, and the reconciler, finish the calls.

use lambda_http::{Body, Error, Request, Response};
use shared::domain::{AuditAction, Member, MemberStatus, UserId};
use shared::ports::{Directory, Store};
use shared::request::{Access, Admitted, Route};
use shared::{ApiError, Deps};

const ROUTE: Route = Route { function: "suspend-member", outcome: "suspended", access: Access::Administrator };

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::mutation(deps, request, ROUTE, async |request: &Admitted<UserId>| {
        let member = suspend(deps, request).await?;
        shared::lifecycle::answer(deps, request, &member).await
    })
    .await
}

/// The rule itself, for a request already admitted (an administrator's).
pub async fn suspend<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Admitted<UserId>,
) -> Result<Member, ApiError> {
    let own = request.membership.user_id == request.target;
    shared::lifecycle::change(deps, request, AuditAction::Suspended, |member| match member.status {
        MemberStatus::Unverified => Err(ApiError::NotVerified),
        _ if own => Err(ApiError::OwnMembership),
        MemberStatus::Suspended => Ok(None),
        MemberStatus::Verified => Ok(Some(Member { status: MemberStatus::Suspended, ..member.clone() })),
    })
    .await
}

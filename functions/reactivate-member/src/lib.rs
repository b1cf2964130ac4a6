//! `POST /members/{userId}/reactivate`: an administrator reactivates a suspended member.
//! The membership is `verified` again, with the role it had (an administrator counts among
//! the active ones again), then Cognito enables the user (`AdminEnableUser`).
//!
//! The order of calls, and what each failure leaves (see [`shared::lifecycle`]):
//!
//! 1. read the membership (the caller's organisation only): nothing changed. One not
//!    suspended: `409 not-suspended`;
//! 2. one transaction: `verified`, the `Admin reactivated member` entry, the entry pending
//!    on the membership, and the count of active administrators;
//! 3. enable, read the membership again (a suspension committed meanwhile is followed
//!    instead), drop the pending entry. A failure here answers `503` with the membership
//!    reactivated and the user still disabled (they cannot sign in yet, which is the safe
//!    side); the same request's retry (`Idempotency-Key`), and the reconciler, enable them.

use lambda_http::{Body, Error, Request, Response};
use shared::domain::{AuditAction, Member, MemberStatus, UserId};
use shared::ports::{Directory, Store};
use shared::request::{Access, Admitted, Route};
use shared::{ApiError, Deps};

const ROUTE: Route = Route { function: "reactivate-member", outcome: "reactivated", access: Access::Administrator };

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::mutation(deps, request, ROUTE, async |request: &Admitted<UserId>| {
        let member = reactivate(deps, request).await?;
        shared::lifecycle::answer(deps, request, &member).await
    })
    .await
}

/// The rule itself, for a request already admitted (an administrator's).
pub async fn reactivate<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Admitted<UserId>,
) -> Result<Member, ApiError> {
    shared::lifecycle::change(deps, request, AuditAction::Reactivated, |member| match member.status {
        MemberStatus::Suspended => Ok(Some(Member { status: MemberStatus::Verified, ..member.clone() })),
        MemberStatus::Unverified | MemberStatus::Verified => Err(ApiError::NotSuspended),
    })
    .await
}

//! `PATCH /members/{userId}` `{"role": "admin" | "member"}`: an administrator changes a
//! member's role, whatever their status; the Cognito group `ADMIN_GROUP` follows.
//!
//! The order of calls, and what each failure leaves (see [`shared::lifecycle`]):
//!
//! 1. read the membership (the caller's organisation only): nothing changed. The role it
//!    has already: `200`, no entry written (Cognito's group made to follow, in case an
//!    earlier change's request stopped before it did);
//! 2. one transaction: the role, the `Admin changed member role` entry with
//!    `changes.role`, the entry pending on the membership, and the organisation's count of
//!    active administrators (a demotion of the last one: `409 last-admin`, nothing
//!    written). From here the membership decides what the member may do;
//! 3. add to or remove from the group, read the membership again (following again if
//!    another change committed meanwhile), drop the pending entry. A failure here answers
//!    `503` with the change committed: the retry finds the role set and makes the group
//!    follow; so does the reconciler, from the pending entry.

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use shared::domain::{AuditAction, Member, Role, UserId};
use shared::http::parse_json_body;
use shared::ports::{Directory, Store};
use shared::request::{Access, Admitted, Route, Target};
use shared::{ApiError, Deps};

const ROUTE: Route = Route { function: "change-member-role", outcome: "role-changed", access: Access::Administrator };

/// The member the path names and the role the body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    pub user_id: UserId,
    pub role: Role,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

impl Target for RoleRequest {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        let user_id = UserId::from_request(request)?;
        let body: RoleBody = parse_json_body(request)?;
        let role = Role::parse(&body.role)
            .ok_or_else(|| ApiError::BadRequest("role: must be \"member\" or \"admin\".".into()))?;
        Ok(Self { user_id, role })
    }
}

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::mutation(deps, request, ROUTE, async |request: &Admitted<RoleRequest>| {
        let member = change_role(deps, request).await?;
        shared::lifecycle::answer(deps, request, &member).await
    })
    .await
}

/// The rule itself, for a request already admitted (an administrator's).
pub async fn change_role<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Admitted<RoleRequest>,
) -> Result<Member, ApiError> {
    let role = request.target.role;
    let on_member = request.on(request.target.user_id.clone());
    shared::lifecycle::change(deps, &on_member, AuditAction::ChangedRole, |member| {
        Ok((member.role != role).then(|| Member { role, ..member.clone() }))
    })
    .await
}

//! `POST /invitations`: an administrator invites a person to their organisation.
//!
//! The order of calls, and what each failure leaves behind:
//!
//! 1. check that no user of the pool holds the phone or email (409 otherwise): nothing changed;
//! 2. create the Cognito user with the caller's `custom:org_id`; Cognito sends the invitation;
//! 3. for an `admin`, add the user to the administrators' group;
//! 4. write the membership, the contact claims and the `Admin invited user` entry in one
//!    transaction; the claims make two racing invitations of one phone end in one member.
//!
//! If 3 or 4 fails, the Cognito user of step 2 is deleted again, so no invitee exists in
//! Cognito without a membership. If that deletion fails too (or the function dies), the
//! next invitation of the same phone in the same organisation adopts the stranded user
//! instead of refusing it as in use, and with an `Idempotency-Key` the retry even finds the
//! same user id: either way the retry converges.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use shared::domain::{AuditAction, AuditEntry, Email, Member, MemberStatus, PersonName, Phone, Role, UserId};
use shared::http::{RequestMeta, decide, json, parse_json_body, record_caller, record_target};
use shared::idempotency::{self, IdempotencyKey};
use shared::identity::Caller;
use shared::ports::{Addition, ContactKind, Creation, Directory, DirectoryUser, NewUser, Store};
use shared::view::MemberView;
use shared::{ApiError, Deps};

/// The request body, exactly: anything else is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    name: String,
    phone: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

/// A validated invitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub name: PersonName,
    pub phone: Phone,
    pub email: Option<Email>,
    pub role: Role,
}

impl Invitation {
    pub fn from_request(request: &Request) -> Result<Self, ApiError> {
        let body: InviteBody = parse_json_body(request)?;
        fn field(name: &'static str) -> impl Fn(String) -> ApiError {
            move |reason| ApiError::BadRequest(format!("{name}: {reason}."))
        }
        Ok(Self {
            name: PersonName::parse(&body.name).map_err(field("name"))?,
            phone: Phone::parse(body.phone.trim()).map_err(field("phone"))?,
            email: body.email.as_deref().map(Email::parse).transpose().map_err(field("email"))?,
            role: match body.role.as_deref() {
                None => Role::Member,
                Some(raw) => Role::parse(raw)
                    .ok_or_else(|| ApiError::BadRequest("role: must be \"member\" or \"admin\".".into()))?,
            },
        })
    }
}

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    let meta = RequestMeta::from_request(&request);
    Ok(decide("invite-user", &meta, "invited", authorise_and_invite(deps, &request, &meta)).await)
}

async fn authorise_and_invite<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Request,
    meta: &RequestMeta,
) -> Result<Response<Body>, ApiError> {
    let caller = Caller::from_request(request)?;
    record_caller(&caller);
    caller.require_admin(&deps.config.admin_group)?;
    let invitation = Invitation::from_request(request)?;
    let key = IdempotencyKey::from_request(request, &caller.org_id, &caller.id)?;
    // With a key, a retry must find the user the first attempt created: derive the id.
    let user_id = match &key {
        Some(key) => UserId::parse(&uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key.scoped.as_bytes()).to_string())?,
        None => UserId::parse(&uuid::Uuid::new_v4().to_string())?,
    };
    let now = shared::time::now();
    let fingerprint = idempotency::fingerprint(request);
    idempotency::once(&deps.store, key.as_ref(), &fingerprint, now, async {
        match invite(deps, &caller, meta, &invitation, &user_id).await {
            Ok(member) => json(StatusCode::CREATED, &MemberView::of(&member, true)),
            Err(error) => error.into_response(),
        }
    })
    .await
}

/// The rule itself, for a caller already known to be an administrator. `user_id` is the
/// id the new user gets (the seed passes fixed ones).
pub async fn invite<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    caller: &Caller,
    meta: &RequestMeta,
    invitation: &Invitation,
    user_id: &UserId,
) -> Result<Member, ApiError> {
    record_target(user_id.as_str());
    let user_id = match find_holder(deps, caller, invitation, user_id).await? {
        Holder::Nobody => {
            match deps.directory.create_user(&new_user(caller, invitation, user_id)).await? {
                Creation::Created => {}
                Creation::ContactInUse => return Err(ApiError::ContactInUse),
                // Only a derived id can exist already, and then it is this same invitation's.
                Creation::UsernameExists => ensure_ours(deps, caller, invitation, user_id).await?,
            }
            return finish(deps, caller, meta, invitation, user_id, Undo::DeleteUser).await;
        }
        Holder::Stranded(user) => {
            tracing::info!(stranded = %user.username, "adopting a user a failed invitation left behind");
            UserId::parse(&user.username)?
        }
    };
    finish(deps, caller, meta, invitation, &user_id, Undo::Nothing).await
}

#[derive(Debug)]
enum Holder {
    Nobody,
    /// An invitee of the caller's organisation with no membership: what an invitation that
    /// failed after creating the user, and could not delete it, leaves behind.
    Stranded(DirectoryUser),
}

async fn find_holder<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    caller: &Caller,
    invitation: &Invitation,
    user_id: &UserId,
) -> Result<Holder, ApiError> {
    let mut holders = deps.directory.users_with(ContactKind::Phone, invitation.phone.as_str()).await?;
    if let Some(email) = &invitation.email {
        holders.extend(deps.directory.users_with(ContactKind::Email, email.as_str()).await?);
    }
    holders.sort_by(|a, b| a.username.cmp(&b.username));
    holders.dedup_by(|a, b| a.username == b.username);
    let mut stranded = None;
    for holder in holders {
        if holder.username == user_id.as_str() {
            continue; // This invitation's own user, from an earlier attempt.
        }
        let member = match UserId::parse(&holder.username) {
            Ok(id) => deps.store.get_member(&caller.org_id, &id).await?,
            Err(_) => None,
        };
        let adoptable = holder.belongs_to(&caller.org_id)
            && holder.is_unverified()
            && member.is_none()
            && holder.phone.as_deref() == Some(invitation.phone.as_str())
            && stranded.is_none();
        if !adoptable {
            return Err(ApiError::ContactInUse);
        }
        stranded = Some(holder);
    }
    Ok(stranded.map_or(Holder::Nobody, Holder::Stranded))
}

/// A user with the derived id exists: it must be this invitation's, from an earlier try.
async fn ensure_ours<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    caller: &Caller,
    invitation: &Invitation,
    user_id: &UserId,
) -> Result<(), ApiError> {
    match deps.directory.get_user(user_id.as_str()).await? {
        Some(user) if user.belongs_to(&caller.org_id) && user.phone.as_deref() == Some(invitation.phone.as_str()) => {
            Ok(())
        }
        _ => Err(ApiError::ContactInUse),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undo {
    DeleteUser,
    Nothing,
}

async fn finish<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    caller: &Caller,
    meta: &RequestMeta,
    invitation: &Invitation,
    user_id: &UserId,
    undo: Undo,
) -> Result<Member, ApiError> {
    let result = write_records(deps, caller, meta, invitation, user_id).await;
    if result.is_err() && undo == Undo::DeleteUser {
        // Leave no invitee in Cognito without a membership, unless a concurrent invitation
        // of the same phone adopted this user and wrote theirs.
        let adopted = matches!(deps.store.get_member(&caller.org_id, user_id).await, Ok(Some(_)));
        if adopted {
            return result;
        }
        if let Err(error) = deps.directory.delete(user_id.as_str()).await {
            tracing::error!(
                error = %shared::error::error_chain(&error),
                "could not delete the invitee after a failed invitation; the next invitation of this phone adopts it"
            );
        }
    }
    result
}

async fn write_records<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    caller: &Caller,
    meta: &RequestMeta,
    invitation: &Invitation,
    user_id: &UserId,
) -> Result<Member, ApiError> {
    if invitation.role == Role::Admin {
        deps.directory.add_to_group(user_id.as_str(), &deps.config.admin_group).await?;
    }
    let now = shared::time::now();
    let member = Member {
        org_id: caller.org_id.clone(),
        user_id: user_id.clone(),
        name: invitation.name.as_str().to_owned(),
        phone: Some(invitation.phone.as_str().to_owned()),
        email: invitation.email.as_ref().map(|e| e.as_str().to_owned()),
        role: invitation.role,
        status: MemberStatus::Unverified,
        invited_at: Some(now),
        invited_by: Some(caller.id.clone()),
        last_invitation_sent_at: Some(now),
        last_resent_at: None,
        resend_pending: None,
        cancel_pending: None,
    };
    let entry = AuditEntry::new(AuditAction::Invited, caller, meta, &member, now);
    match deps.store.add_member_with_audit(&member, &entry).await? {
        Addition::Added => Ok(member),
        // An earlier attempt of this invitation committed: answer with what it wrote.
        Addition::AlreadyMember => deps
            .store
            .get_member(&caller.org_id, user_id)
            .await?
            .ok_or_else(|| ApiError::unavailable("membership vanished")),
        Addition::ContactTaken => Err(ApiError::ContactInUse),
    }
}

fn new_user(caller: &Caller, invitation: &Invitation, user_id: &UserId) -> NewUser {
    NewUser {
        username: user_id.clone(),
        name: invitation.name.as_str().to_owned(),
        phone: invitation.phone.clone(),
        email: invitation.email.clone(),
        org_id: caller.org_id.clone(),
    }
}

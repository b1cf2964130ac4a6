//! `POST /invitations`: an administrator invites a person to their organisation.
//!
//! The order of calls, and what each failure leaves behind:
//!
//! 1. reserve the phone (and email) in the contacts table, all or nothing: of concurrent
//!    invitations of one contact exactly one goes on, the others answer 409 at once. A
//!    reservation whose invitation died (older than the lease) is taken over, after the
//!    Cognito user it may have left is deleted;
//! 2. check that no user of the pool holds the phone or email outside the contacts table
//!    (users made by hand): 409, the reservation given back;
//! 3. take one of the organisation's invitations of the hour and one of the phone number's
//!    messages of the day (`shared::quota`), both or neither: refused, `429` with
//!    `Retry-After`, nothing sent, the reservation given back. The use is the invitation's
//!    own (its user id), so a retry takes no second one;
//! 4. create the Cognito user with the caller's `custom:org_id`; Cognito sends the invitation.
//!    The call is sent once (a repeat would send a second message); when its answer is lost,
//!    the user is read back: made, the invitation goes on with it;
//! 5. for an `admin`, add the user to the administrators' group. The group alone grants
//!    nothing (every request reads the caller's membership, whose role decides), so it can
//!    come before the membership, and then no death or refused retry after the commit
//!    leaves an administrator without it;
//! 6. write the membership, turn the reservation into member claims and append the
//!    `Admin invited user` entry, in one transaction.
//!
//! A failure in 4 to 6 deletes the Cognito user again and gives the reservation back (and,
//! when Cognito sent nothing, the quotas' uses) — unless the outcome of 6 is unknown (its
//! answer and the read after it both failed): then nothing is deleted on a guess, and the
//! reservation, outliving its lease, is taken over by the next invitation of the contact,
//! which finishes the cleanup. An invitation whose reservation was taken over under it (it
//! outlived its lease) cannot commit; the user it made is deleted unless someone signed in
//! with it, since the one that took over may have looked for it before it existed. With an
//! `Idempotency-Key`, the user id derives from the key and the request, so a retry finds
//! its own reservation and user and completes the same invitation.

pub mod bootstrap;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use shared::domain::{AuditAction, AuditEntry, Contact, Email, Member, MemberStatus, PersonName, Phone, Role, UserId};
use shared::http::{RequestMeta, json, parse_json_body};
use shared::identity::Caller;
use shared::ports::{
    Addition, ContactClaim, ContactKind, Creation, Directory, DirectoryError, NewUser, Reservation, Store,
};
use shared::quota::Limit;
use shared::reclaim::{Reclaimed, reclaim};
use shared::request::{Access, Admitted, Route, Target, record_target};
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

const ROUTE: Route = Route { function: "invite-user", outcome: "invited", access: Access::Administrator };

/// What the route acts on: the invitation its body holds, read once the caller is known.
impl Target for Invitation {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        Invitation::from_request(request)
    }
}

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::mutation(deps, request, ROUTE, async |request: &Admitted<Invitation>| {
        // With a key, a retry of the same request finds the user its first attempt created.
        let user_id = UserId::parse(&request.derived_id().to_string())?;
        let member = invite(deps, &request.caller, &request.meta, &request.target, &user_id, request.now).await?;
        // An invitee is no active administrator: their actions do not depend on the count.
        let viewer = request.viewer(&deps.config.admin_group, 0);
        Ok(json(StatusCode::CREATED, &MemberView::of(&member, &viewer, request.now, deps.config.invitation_validity)))
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
    now: shared::time::Timestamp,
) -> Result<Member, ApiError> {
    record_target(user_id.as_str());
    let contacts = invitation.contacts();
    if reserve(deps, caller, user_id, &contacts, now).await? == Reservation::Committed {
        // An earlier attempt of this same invitation committed: answer with what it wrote.
        let member = deps
            .store
            .get_member(&caller.org_id, user_id)
            .await?
            .ok_or_else(|| ApiError::unavailable("member claims without a membership"))?;
        return Ok(member);
    }
    let member = match create_and_commit(deps, caller, meta, invitation, user_id, now).await {
        Ok(member) => member,
        Err((error, undo)) => {
            undo_invitation(deps, &caller.org_id, user_id, &contacts, undo).await;
            return Err(error);
        }
    };
    Ok(member)
}

impl Invitation {
    /// The phone number and email address the invitation reserves.
    pub fn contacts(&self) -> Vec<Contact> {
        Contact::all_of(Some(self.phone.as_str()), self.email.as_ref().map(Email::as_str))
    }
}

/// Step 1: the contacts, for this invitation alone.
async fn reserve<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    caller: &Caller,
    user_id: &UserId,
    contacts: &[Contact],
    now: shared::time::Timestamp,
) -> Result<Reservation, ApiError> {
    // Another round only after taking over a dead invitation's reservation, or when the
    // contact changed hands under this one: a race for a contact is answered with what the
    // winner made true (held: 409; come free: reserved), never passed on as a 503.
    for round in 0..RESERVE_ROUNDS {
        match deps.store.reserve_contacts(user_id, &caller.org_id, contacts, now).await? {
            Reservation::Taken(holder) if holder.is_stale(now, deps.config.lease) => {
                match take_over(deps, &holder).await? {
                    Reclaimed::Deleted { .. } => {}
                    Reclaimed::InUse => return Err(ApiError::ContactInUse),
                    Reclaimed::Contended => tokio::time::sleep(backoff(round)).await,
                }
            }
            Reservation::Taken(_) => return Err(ApiError::ContactInUse),
            Reservation::Contended => tokio::time::sleep(backoff(round)).await,
            done => return Ok(done),
        }
    }
    // Still changing hands after every round: another invitation of it is at work.
    Err(ApiError::ContactInUse)
}

/// Rounds of [`reserve`]: with [`backoff`], under a second in all.
const RESERVE_ROUNDS: u32 = 5;

/// A pause before reserving again, growing with the round, with jitter so that two
/// contenders part: 10–20 ms, then 20–40, 40–80, 80–160.
fn backoff(round: u32) -> std::time::Duration {
    let base = 10u64 << round.min(4);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 255;
    std::time::Duration::from_millis(base + jitter)
}

/// Cleans up after an invitation that died holding a reservation: its Cognito user, if it
/// got that far and nobody has signed in with it, then the reservation itself; never on a
/// read that its retry can make stale (see [`shared::reclaim`]).
async fn take_over<D: Directory, S: Store>(deps: &Deps<D, S>, stale: &ContactClaim) -> Result<Reclaimed, ApiError> {
    tracing::info!(stale_user = %stale.user_id, "taking over the reservation of an invitation that died");
    let stale_id = UserId::parse(&stale.user_id)?;
    reclaim(deps, &stale.org_id, &stale_id, std::slice::from_ref(stale)).await
}

/// What a failed invitation must undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undo {
    /// Give the reservation back; no Cognito user was made.
    Reservation,
    /// Delete the Cognito user (which may or may not exist), then give the reservation back.
    UserAndReservation,
    /// The outcome is unknown: touch nothing; the lease decides.
    Nothing,
    /// Another invitation of the contact took the reservation over (this one outlived its
    /// lease, or its claims vanished under it): the reservation is not this one's to give
    /// back any more, and the other one may have looked for this one's user before it was
    /// made, so nobody else will remove it. Remove it, unless it is in use.
    AbandonedUser,
}

/// Steps 2 to 6.
async fn create_and_commit<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    caller: &Caller,
    meta: &RequestMeta,
    invitation: &Invitation,
    user_id: &UserId,
    now: shared::time::Timestamp,
) -> Result<Member, (ApiError, Undo)> {
    let held_elsewhere =
        held_outside_the_claims(deps, invitation, user_id).await.map_err(|e| (e, Undo::Reservation))?;
    if held_elsewhere {
        return Err((ApiError::ContactInUse, Undo::Reservation));
    }
    let limits = deps.config.limits.invitation(&caller.org_id, &invitation.phone);
    take_quotas(deps, &limits, user_id, now).await.map_err(|e| (e, Undo::Reservation))?;
    // From here until Cognito has made the user, a failure sent nothing: the uses go back.
    let unsent = |error: ApiError, undo: Undo| async move {
        give_back_quotas(deps, &limits, user_id).await;
        Err((error, undo))
    };
    let creation = match deps.directory.create_user(&new_user(caller, invitation, user_id)).await {
        Ok(creation) => creation,
        // Unanswered (it is sent once): whether the user, and its message, was made is
        // unknown. Cognito knows: made, it is this invitation's, and no second message goes.
        Err(error) if error.outcome_unknown => match deps.directory.get_user(user_id.as_str()).await {
            Ok(Some(_)) => Creation::UsernameExists,
            Ok(None) => return unsent(error.into(), Undo::UserAndReservation).await,
            Err(_) => return Err((error.into(), Undo::Nothing)),
        },
        Err(error) => return unsent(error.into(), Undo::UserAndReservation).await,
    };
    let undo_user = |error: DirectoryError| (ApiError::from(error), Undo::UserAndReservation);
    match creation {
        Creation::Created => {}
        Creation::ContactInUse => return unsent(ApiError::ContactInUse, Undo::Reservation).await,
        // Only a derived id can exist already, and then it is this same invitation's.
        Creation::UsernameExists => match deps.directory.get_user(user_id.as_str()).await.map_err(undo_user)? {
            Some(user) if !user.enabled => {
                // Being reclaimed (this invitation's earlier attempt outlived its lease): it
                // must not commit with a user about to be deleted. Its retry makes it anew.
                return Err((ApiError::unavailable("the invitee's earlier user is being cleaned up"), Undo::Nothing));
            }
            Some(user)
                if user.belongs_to(&caller.org_id) && user.phone.as_deref() == Some(invitation.phone.as_str()) => {}
            // Another's user under this id: nothing was sent for this invitation.
            _ => return unsent(ApiError::ContactInUse, Undo::Reservation).await,
        },
    }
    // An administrator's group before the membership: the group grants nothing without a
    // membership whose role is admin (shared::request), and granted first, no request dying
    // (or refused on its retry) between the commit and Cognito leaves an administrator
    // without it. A retry finds it granted by the attempt that committed.
    if invitation.role == Role::Admin {
        deps.directory.add_to_group(user_id.as_str(), &deps.config.admin_group).await.map_err(undo_user)?;
    }
    let member = Member::new(
        &caller.org_id,
        user_id.clone(),
        invitation.name.as_str(),
        invitation.role,
        MemberStatus::Unverified,
    )
    .reached_at(Some(invitation.phone.as_str().to_owned()), invitation.email.as_ref().map(|e| e.as_str().to_owned()))
    .invited(&caller.id, now);
    let actor = caller.actor();
    let entry = AuditEntry::new(AuditAction::Invited, &actor, meta, &member, now);
    match deps.store.add_member_with_audit(&member, &entry).await {
        Ok(Addition::Added) => Ok(member),
        Ok(Addition::AlreadyMember) => deps
            .store
            .get_member(&caller.org_id, user_id)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| (ApiError::unavailable("membership vanished"), Undo::Nothing)),
        // Another invitation of the contact took it over: it holds the contact now.
        Ok(Addition::ReservationLost) => Err((ApiError::ContactInUse, Undo::AbandonedUser)),
        Err(error) => {
            // Never delete on a guess: only a read that answers tells whether it committed.
            let undo = match deps.store.get_member(&caller.org_id, user_id).await {
                Ok(Some(member)) => return Ok(member),
                Ok(None) => Undo::UserAndReservation,
                Err(_) => Undo::Nothing,
            };
            Err((error.into(), undo))
        }
    }
}

/// Step 3: one of the organisation's invitations and one of the number's messages (see
/// [`shared::quota`]), or `429` with nothing sent. The use is the invitation's (its user
/// id), so a retry of it takes no second one.
async fn take_quotas<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    limits: &[Limit],
    user_id: &UserId,
    now: shared::time::Timestamp,
) -> Result<(), ApiError> {
    deps.store.take(limits, user_id.as_str(), now).await?.granted()
}

/// The uses of an invitation that sent nothing, given back; one that cannot be stays
/// counted until it leaves its window (the limit errs on the side of sending less).
async fn give_back_quotas<D: Directory, S: Store>(deps: &Deps<D, S>, limits: &[Limit], user_id: &UserId) {
    if let Err(error) = deps.store.give_back(limits, user_id.as_str()).await {
        tracing::warn!(error = %shared::error::error_chain(&error), "could not give the quotas' uses back; they lapse");
    }
}

/// Whether a user of the pool other than `user_id` holds the phone or email: users the
/// contacts table does not know (made by hand, or stranded by an older version).
async fn held_outside_the_claims<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    invitation: &Invitation,
    user_id: &UserId,
) -> Result<bool, ApiError> {
    let mut holders = deps.directory.users_with(ContactKind::Phone, invitation.phone.as_str()).await?;
    if let Some(email) = &invitation.email {
        holders.extend(deps.directory.users_with(ContactKind::Email, email.as_str()).await?);
    }
    Ok(holders.iter().any(|holder| holder.username != user_id.as_str()))
}

async fn undo_invitation<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    org_id: &str,
    user_id: &UserId,
    contacts: &[Contact],
    undo: Undo,
) {
    if undo == Undo::Nothing {
        tracing::warn!("the invitation's outcome is unknown; its reservation is left to its lease");
        return;
    }
    if undo == Undo::AbandonedUser {
        // Its reservations are another's now, so no commit can make it a member: nothing to hold.
        match reclaim(deps, org_id, user_id, &[]).await {
            Ok(Reclaimed::Deleted { .. }) => {
                tracing::warn!("the reservation was taken over; the invitee this call made is removed")
            }
            Ok(_) => tracing::warn!("the reservation was taken over; the invitee is in use and stays"),
            Err(error) => tracing::error!(
                error = %shared::error::error_chain(&error),
                "the reservation was taken over and the invitee this call made could not be removed"
            ),
        }
        return;
    }
    if undo == Undo::UserAndReservation {
        if let Err(error) = deps.directory.delete(user_id.as_str()).await {
            tracing::error!(
                error = %shared::error::error_chain(&error),
                "could not delete the invitee after a failed invitation; the next invitation of the contact takes over"
            );
            return;
        }
    }
    if let Err(error) = deps.store.release_contacts(user_id, contacts).await {
        tracing::error!(error = %shared::error::error_chain(&error), "could not give the reservation back; it lapses");
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

//! `POST /invitations/{userId}/resend`: an administrator sends an unverified invitee's
//! invitation again, at most once per `RESEND_COOLDOWN_SECONDS`.
//!
//! The order of calls, and what each failure leaves behind:
//!
//! 1. read the membership (caller's organisation only) and the Cognito user: a verified user
//!    corrects the status mirror and is answered 409; nothing else changed;
//! 2. claim the resend on the membership, conditional on the cooldown: of two concurrent
//!    resends only one claims, so only one message goes out. The claim carries the audit
//!    entry, pending;
//! 3. take one of the phone number's messages of the day (`shared::quota`; the use is the
//!    resend's entry id, so a retry takes no second one): refused, the claim is given back
//!    and the answer is `429 message-quota` with nothing sent;
//! 4. `AdminCreateUser` with `MessageAction=RESEND`, sent once (the SDK does not retry it:
//!    see [`shared::directory`]): when Cognito refuses, the claim is given back, so a retry
//!    is not refused as too soon, and so is the message's use. When the call goes
//!    unanswered the message may have gone
//!    out, and is taken as sent: the claim stays (no second message within the cooldown,
//!    which would void the first one's password) and step 5 follows. Should step 5 fail
//!    too, the attempt is noted and the same request's retry writes the entry and answers
//!    202 without sending again;
//! 5. write the pending entry to the log and clear it. If this fails, the message went out:
//!    the answer is still 202, and the entry stays on the membership until the next resend or
//!    cancel writes it (once: its key is fixed).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use serde::Serialize;
use shared::domain::{AuditAction, AuditEntry, Phone, UserId};
use shared::http::json;
use shared::ports::{Cooldown, Directory, Resent, Store};
use shared::request::{Access, Admitted, Route};
use shared::time::Timestamp;
use shared::{ApiError, Deps};

const ROUTE: Route = Route { function: "resend-invitation", outcome: "resent", access: Access::Administrator };

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendAccepted {
    pub user_id: String,
    pub last_invitation_sent_at: String,
}

pub async fn handle<D: Directory, S: Store>(deps: &Deps<D, S>, request: Request) -> Result<Response<Body>, Error> {
    shared::request::mutation(deps, request, ROUTE, async |request: &Admitted<UserId>| {
        let accepted = resend_invitation(deps, request).await?;
        Ok(json(StatusCode::ACCEPTED, &accepted))
    })
    .await
}

/// The rule itself, for a request already admitted (an administrator's). The resend's
/// entry id derives from the request ([`Admitted::derived_id`]): a retry knows a claim
/// its first attempt took (and whose answer it never saw) as its own.
pub async fn resend_invitation<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    request: &Admitted<UserId>,
) -> Result<ResendAccepted, ApiError> {
    let Admitted { caller, target, meta, now, .. } = request;
    let now = *now;
    let entry_id = request.derived_id().to_string();
    let Deps { directory, store, config } = deps;
    let Some(member) = store.get_member(&caller.org_id, target).await? else {
        return Err(ApiError::NotFound);
    };
    if member.last_resend_id.as_deref() == Some(entry_id.as_str()) {
        // This same request was finished already (its first attempt's answer was lost, and
        // another call wrote its pending entry): answer as it would have.
        let sent_at = member.last_resent_at.unwrap_or(now);
        return Ok(accepted(target, sent_at));
    }
    if let Some(own) = member.resend_pending.as_ref().filter(|pending| pending.id == entry_id)
        && (member.resend_attempted.as_deref() == Some(entry_id.as_str()) || store.contains(own).await?)
    {
        // This same request's first attempt sent the RESEND and never saw the answer (the
        // message may have gone out, and a second one would void its password), or it sent
        // it and wrote the entry but died before clearing it: finish it.
        store.complete_resend(&member, own).await?;
        return Ok(accepted(target, own.occurred_at));
    }
    if let Some(earlier) = member.resend_pending.as_ref().filter(|earlier| earlier.id != entry_id) {
        // An earlier resend stopped after sending: its entry is written first, once.
        store.complete_resend(&member, earlier).await?;
    }
    let Some(user) = directory.get_user(target.as_str()).await? else {
        tracing::warn!("membership record without a Cognito user");
        return Err(ApiError::NotFound);
    };
    if !user.belongs_to(&caller.org_id) {
        tracing::warn!(cognito_org = ?user.org_id, "membership record and Cognito disagree on the organisation");
        return Err(ApiError::NotFound);
    }
    if !user.enabled && !shared::disabling::enable_if_a_cancel_disabled(deps, &member).await? {
        // Disabled by an operator: they could not sign in with what we would send.
        tracing::warn!("the invitee is disabled by an operator; nothing is sent");
        return Err(ApiError::NotFound);
    }
    if !user.is_unverified() {
        store
            .mark_verified(&member, &AuditEntry::accepted(&member, &meta.request_id, "resend-invitation", now))
            .await?;
        return Err(ApiError::AlreadyVerified);
    }

    let actor = caller.actor();
    let entry = AuditEntry::new(AuditAction::ResentInvite, &actor, meta, &member, now).with_id(entry_id);
    match store.claim_resend(&member, now, config.resend_cooldown, &entry).await? {
        Cooldown::Claimed => {}
        Cooldown::TooSoon { retry_after_seconds } => return Err(ApiError::ResendTooSoon { retry_after_seconds }),
        Cooldown::NoMember => return Err(ApiError::NotFound),
    }
    let message = member
        .phone
        .as_deref()
        .or(user.phone.as_deref())
        .and_then(|phone| Phone::parse(phone).ok())
        .map(|phone| config.limits.message(&phone));
    let message = Vec::from_iter(message);
    if let Err(refused) = store.take(&message, &entry.id, now).await?.granted() {
        store.release_resend(&member, now).await?;
        return Err(refused);
    }
    let refusal = match directory.resend_invitation(&user).await {
        Ok(Resent::Sent) => None,
        Ok(Resent::NotInvitable) => Some(ApiError::AlreadyVerified),
        Ok(Resent::NotFound) => Some(ApiError::NotFound),
        Ok(Resent::Refused(error)) => Some(error.into()),
        Err(error) => {
            // Sent, but unanswered: whether the message went out is unknown, so it is taken
            // as sent. The claim stays (no second message within the cooldown) and the
            // entry is written; if that fails, the attempt is noted so that this request's
            // retry finishes without sending again.
            tracing::warn!(
                error = %shared::error::error_chain(&error),
                "the RESEND went unanswered: the message may have gone out, taken as sent"
            );
            if let Err(write_error) = store.complete_resend(&member, &entry).await {
                tracing::error!(error = %shared::error::error_chain(&write_error), "could not write the resend's entry");
                if let Err(note_error) = store.mark_resend_attempted(&member, &entry.id).await {
                    tracing::error!(error = %shared::error::error_chain(&note_error), "could not note the resend attempt");
                }
                return Err(error.into());
            }
            return Ok(accepted(target, now));
        }
    };
    if let Some(refusal) = refusal {
        // Cognito said no: nothing went out. Give the claim back so the cooldown does not
        // hold, and the message's use (one that cannot be given back lapses with its day).
        if let Err(error) = store.give_back(&message, &entry.id).await {
            tracing::warn!(error = %shared::error::error_chain(&error), "could not give the message's use back");
        }
        store.release_resend(&member, now).await?;
        if matches!(refusal, ApiError::AlreadyVerified) {
            // Cognito will not resend to a user who has confirmed since we read them.
            store
                .mark_verified(&member, &AuditEntry::accepted(&member, &meta.request_id, "resend-invitation", now))
                .await?;
        }
        return Err(refusal);
    }
    if let Err(error) = store.complete_resend(&member, &entry).await {
        tracing::error!(
            error = %shared::error::error_chain(&error),
            "the invitation went out but its audit entry is still pending on the membership"
        );
    }
    Ok(accepted(target, now))
}

fn accepted(target: &UserId, sent_at: Timestamp) -> ResendAccepted {
    ResendAccepted { user_id: target.to_string(), last_invitation_sent_at: shared::time::rfc3339(sent_at) }
}

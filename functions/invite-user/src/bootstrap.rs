//! The first administrator of an organisation: a deployed pool starts empty and every route
//! needs an administrator's token, so the operator writes the first one with
//! `make bootstrap-admin`. It goes through [`crate::invite`] itself, so Cognito, the
//! membership, the contact claims and the audit entry are exactly what an invitation writes;
//! only the caller differs: the operator, named as such in the Log.

use crate::{Invitation, invite};
use shared::domain::{Email, Member, PersonName, Phone, RequestMeta, Role, UserId};
use shared::identity::Caller;
use shared::ports::prelude::*;
use shared::ports::{Claim, Directory, MemberFilter, StoreError, StoredResponse};
use shared::{ApiError, Deps};

/// The actor the Log shows for a bootstrapped administrator.
pub const OPERATOR_ID: &str = "operator:bootstrap-admin";
pub const OPERATOR_NAME: &str = "Operator (bootstrap-admin)";

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    Invalid(String),
    #[error("organisation {0} already has an administrator: invite through the console")]
    HasAdministrator(String),
    #[error("another bootstrap of organisation {0} is at work: wait for it, then run again")]
    AtWork(String),
    #[error("the invitation failed: {0}")]
    Refused(String),
}

/// What the operator gives: checked as an invitation's body is.
pub fn invitation(name: &str, phone: &str, email: Option<&str>) -> Result<Invitation, BootstrapError> {
    let field = |name: &'static str| move |reason: String| BootstrapError::Invalid(format!("{name}: {reason}."));
    Ok(Invitation {
        name: PersonName::parse(name).map_err(field("NAME"))?,
        phone: Phone::parse(phone.trim()).map_err(field("PHONE"))?,
        email: email.filter(|e| !e.is_empty()).map(Email::parse).transpose().map_err(field("EMAIL"))?,
        role: Role::Admin,
    })
}

pub fn valid_org_id(org_id: &str) -> Result<(), BootstrapError> {
    // As the pool's schema bounds custom:org_id.
    if org_id.is_empty() || org_id.chars().count() > 64 || org_id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(BootstrapError::Invalid("ORG: 1 to 64 characters, no spaces.".into()));
    }
    Ok(())
}

/// Invites `invitation` (an administrator) into `org_id`, which must have none yet.
pub async fn bootstrap_admin<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    org_id: &str,
    invitation: &Invitation,
) -> Result<Member, BootstrapError> {
    valid_org_id(org_id)?;
    // One bootstrap of an organisation at a time: a conditional write (an idempotency
    // record, for the function's lease), so that two runs at once cannot both find no
    // administrator and both make one. Kept once it has made one; given back if it failed.
    let key = format!("{org_id}#{OPERATOR_ID}");
    let now = deps.config.clock.now();
    let store_failed = |error: StoreError| refused(error.into());
    match deps.store.claim_idempotency_key(&key, OPERATOR_ID, now, deps.config.lease).await.map_err(store_failed)? {
        Claim::Claimed => {}
        Claim::InFlight { .. } => return Err(BootstrapError::AtWork(org_id.to_owned())),
        Claim::Replay(_) | Claim::Mismatch => return Err(BootstrapError::HasAdministrator(org_id.to_owned())),
    }
    let made = bootstrap_claimed(deps, org_id, invitation).await;
    let kept = match &made {
        Ok(member) => {
            let made = StoredResponse { status: 201, headers: Vec::new(), body: member.user_id.to_string() };
            deps.store.finish_idempotency_key(&key, OPERATOR_ID, &made, now).await
        }
        Err(_) => deps.store.release_idempotency_key(&key).await,
    };
    if let Err(error) = kept {
        tracing::warn!(error = %shared::error::error_chain(&error), "could not keep or give back the bootstrap's record; it lapses");
    }
    made
}

/// [`bootstrap_admin`] once it holds the organisation's bootstrap record.
async fn bootstrap_claimed<D: Directory, S: Store>(
    deps: &Deps<D, S>,
    org_id: &str,
    invitation: &Invitation,
) -> Result<Member, BootstrapError> {
    if has_administrator(deps, org_id).await.map_err(refused)? {
        return Err(BootstrapError::HasAdministrator(org_id.to_owned()));
    }
    let caller = Caller {
        id: OPERATOR_ID.into(),
        username: None,
        org_id: org_id.to_owned(),
        display_name: OPERATOR_NAME.into(),
        groups: vec![deps.config.admin_group.clone()],
    };
    let meta = RequestMeta {
        request_id: format!("bootstrap-{}", uuid::Uuid::new_v4()),
        source_ip: "operator".into(),
        user_agent: "make bootstrap-admin".into(),
    };
    let user_id = UserId::parse(&uuid::Uuid::new_v4().to_string()).map_err(|e| BootstrapError::Invalid(e.0))?;
    invite(deps, &caller, &meta, invitation, &user_id, deps.config.clock.now()).await.map_err(refused)
}

fn refused(error: ApiError) -> BootstrapError {
    BootstrapError::Refused(format!("{} ({})", error.code(), error))
}

async fn has_administrator<D: Directory, S: Store>(deps: &Deps<D, S>, org_id: &str) -> Result<bool, ApiError> {
    let mut after = None;
    let everyone = MemberFilter::all(deps.config.clock.now(), deps.config.invitation_validity);
    loop {
        let page = deps.store.list_members(org_id, &everyone, 100, after.as_ref()).await?;
        if page.members.iter().any(|m| m.role == Role::Admin) {
            return Ok(true);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(false),
        }
    }
}

//! The Cognito trigger for PostConfirmation and PostAuthentication: once Cognito has
//! confirmed a user or let them sign in, their membership is marked `verified`.
//!
//! It returns the event unchanged, whatever happens: a sign-in must never fail because the
//! status mirror could not be written (the error is logged, and cancel and resend correct the
//! mirror when they next look at Cognito). Marking an already verified member does nothing.

use serde_json::Value;
use shared::domain::{MemberStatus, UserId};
use shared::ports::{Outcome, Store};

/// What the trigger did; only the log and the tests look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marked {
    Verified,
    AlreadyVerified,
    NoMembership,
    NotOurTrigger,
    Failed,
}

pub async fn handle<S: Store>(
    store: &S,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let payload = event.payload;
    let marked = mark_verified(store, &payload).await;
    tracing::info!(
        outcome = ?marked,
        trigger = payload["triggerSource"].as_str().unwrap_or_default(),
        target = payload["userName"].as_str().unwrap_or_default(),
        org = payload["request"]["userAttributes"]["custom:org_id"].as_str().unwrap_or_default(),
        "decision"
    );
    Ok(payload)
}

pub async fn mark_verified<S: Store>(store: &S, event: &Value) -> Marked {
    let trigger = event["triggerSource"].as_str().unwrap_or_default();
    if !(trigger.starts_with("PostConfirmation_") || trigger.starts_with("PostAuthentication_")) {
        return Marked::NotOurTrigger;
    }
    let org_id = event["request"]["userAttributes"]["custom:org_id"].as_str().unwrap_or_default();
    let user_id = event["userName"].as_str().and_then(|name| UserId::parse(name).ok());
    let (Some(user_id), false) = (user_id, org_id.is_empty()) else {
        return Marked::NoMembership;
    };
    let member = match store.get_member(org_id, &user_id).await {
        Ok(Some(member)) => member,
        Ok(None) => return Marked::NoMembership,
        Err(error) => {
            tracing::error!(error = %shared::error::error_chain(&error), "could not read the membership");
            return Marked::Failed;
        }
    };
    if member.status == MemberStatus::Verified && member.cancel_pending.is_none() {
        return Marked::AlreadyVerified;
    }
    match store.mark_verified(&member).await {
        Ok(Outcome::Done) => Marked::Verified,
        Ok(Outcome::ConditionFailed) => Marked::NoMembership,
        Err(error) => {
            tracing::error!(error = %shared::error::error_chain(&error), "could not mark the member verified");
            Marked::Failed
        }
    }
}

//! The Cognito trigger for PostConfirmation and PostAuthentication: once Cognito has
//! confirmed a user or let them sign in, their membership is marked `verified`.
//!
//! It returns the event unchanged, whatever happens: a sign-in must never fail because the
//! status mirror could not be written (the error is logged, and cancel and resend correct the
//! mirror when they next look at Cognito). Marking an already verified member does nothing.

use serde_json::Value;
use shared::config::Tables;
use shared::domain::{MemberStatus, UserId};
use shared::ports::{Outcome, Store};
use shared::store::DynamoStore;
use std::time::Duration;

/// Cognito gives a trigger five seconds; a slow DynamoDB must not spend them all, or the
/// sign-in fails. Past this budget the trigger logs and lets the sign-in through.
pub const DYNAMODB_BUDGET: Duration = Duration::from_secs(2);

/// The store the trigger writes through, its calls bounded by [`DYNAMODB_BUDGET`].
pub fn store(sdk: &aws_config::SdkConfig, tables: Tables) -> DynamoStore {
    let timeouts = aws_config::timeout::TimeoutConfig::builder().operation_timeout(DYNAMODB_BUDGET).build();
    let config = aws_sdk_dynamodb::config::Builder::from(sdk).timeout_config(timeouts).build();
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), tables)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dynamodb_call_of_the_trigger_is_bounded() {
        let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let tables = Tables { members: "m".into(), audit: "a".into(), contacts: "c".into(), idempotency: "i".into() };
        let store = store(&sdk, tables);
        let timeouts = store.client().config().timeout_config().expect("a timeout configuration");
        assert_eq!(timeouts.operation_timeout(), Some(DYNAMODB_BUDGET));
        assert!(DYNAMODB_BUDGET < Duration::from_secs(5), "inside Cognito's limit");
    }
}

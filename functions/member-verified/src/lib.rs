//! The Cognito trigger for PostConfirmation and PostAuthentication: once Cognito has
//! confirmed a user or let them sign in, their membership is marked `verified`.
//!
//! It returns the event unchanged, whatever happens: a sign-in must never fail because the
//! status mirror could not be written (the error is logged, and cancel and resend correct the
//! mirror when they next look at Cognito). Marking an already verified member does nothing.

use serde_json::Value;
use shared::config::Tables;
use shared::domain::{AuditEntry, MemberStatus, UserId};
use shared::ports::{Outcome, Store};
use shared::store::DynamoStore;
use std::time::Duration;

/// Cognito gives a trigger five seconds, a cold start included; a slow DynamoDB must not
/// spend them, or the sign-in fails. The whole of the trigger's work (both its calls and
/// their retries) is bounded by this, once: past it the trigger logs and lets the sign-in
/// through, and cancel and resend correct the mirror later.
pub const BUDGET: Duration = Duration::from_secs(3);

/// The store the trigger writes through, keeping the entries it writes for `retention`.
pub fn store(sdk: &aws_config::SdkConfig, tables: Tables, retention: Option<chrono::Duration>) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), tables).retaining_audit(retention)
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
    let marked = within_budget(store, &payload, &event.context.request_id).await;
    tracing::info!(
        outcome = ?marked,
        trigger = payload["triggerSource"].as_str().unwrap_or_default(),
        target = payload["userName"].as_str().unwrap_or_default(),
        org = payload["request"]["userAttributes"]["custom:org_id"].as_str().unwrap_or_default(),
        "decision"
    );
    Ok(payload)
}

/// [`mark_verified`], given up after [`BUDGET`].
pub async fn within_budget<S: Store>(store: &S, event: &Value, request_id: &str) -> Marked {
    match tokio::time::timeout(BUDGET, mark_verified(store, event, request_id)).await {
        Ok(marked) => marked,
        Err(_) => {
            tracing::error!(
                budget_ms = BUDGET.as_millis() as u64,
                "DynamoDB too slow: the sign-in goes through unmarked"
            );
            Marked::Failed
        }
    }
}

pub async fn mark_verified<S: Store>(store: &S, event: &Value, request_id: &str) -> Marked {
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
    if member.status != MemberStatus::Unverified && member.cancel_pending.is_none() {
        return Marked::AlreadyVerified;
    }
    // The member's acceptance, written the first time only: by whoever marks them first.
    let accepted = AuditEntry::accepted(&member, request_id, &format!("Cognito {trigger}"), shared::time::now());
    match store.mark_verified(&member, &accepted).await {
        Ok(Outcome::Done) => Marked::Verified,
        Ok(Outcome::ConditionFailed) => Marked::NoMembership,
        Err(error) => {
            tracing::error!(error = %shared::error::error_chain(&error), "could not mark the member verified");
            Marked::Failed
        }
    }
}

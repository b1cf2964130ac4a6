//! Where the drift audit's pass stands: one item of the jobs table (`job` = "drift-audit"),
//! written after every page, so that a pass goes on across runs (each run ends well inside
//! the function's timeout) and a run that dies repeats at most one page. The pages' work is
//! idempotent (reports, and repairs judged on records read again).

use serde::{Deserialize, Serialize};
use shared::Deps;
use shared::ports::StoreError;
use shared::time::{self, Timestamp};

const JOB: &str = "drift-audit";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Position {
    /// When this pass began: the next begins `AUDIT_DRIFT_EVERY_HOURS` later.
    pub began_at: String,
    pub stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "camelCase", deny_unknown_fields)]
pub enum Stage {
    /// Reading the members table, after this key (`shared::backfill::to_position`'s JSON).
    Members { after: Option<String> },
    /// Reading the pool, from this `ListUsers` token.
    Users { token: Option<String> },
    /// The pass is over.
    Done,
}

impl Position {
    pub fn begin(now: Timestamp) -> Self {
        Self { began_at: time::sortable(now), stage: Stage::Members { after: None } }
    }

    pub fn began(&self) -> Option<Timestamp> {
        time::parse(&self.began_at)
    }
}

fn failed(operation: &'static str, cause: impl std::fmt::Display) -> StoreError {
    StoreError { operation, source: cause.to_string().into() }
}

/// The pass's position, read consistently; none before the first pass (or when the item is
/// not one: a new pass begins, and the run says so).
pub async fn load(deps: &Deps) -> Result<Option<Position>, StoreError> {
    let output = deps
        .store
        .client()
        .get_item()
        .table_name(&deps.config.tables.jobs)
        .key("job", aws_sdk_dynamodb::types::AttributeValue::S(JOB.into()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| failed("GetItem", e))?;
    let text = output.item().and_then(|item| item.get("position")).and_then(|v| v.as_s().ok());
    Ok(text.and_then(|text| match serde_json::from_str(text) {
        Ok(position) => Some(position),
        Err(error) => {
            tracing::error!(error = %error, "the drift audit's position is unreadable: a new pass begins");
            None
        }
    }))
}

pub async fn save(deps: &Deps, position: &Position) -> Result<(), StoreError> {
    let text = serde_json::to_string(position).map_err(|e| failed("PutItem", e))?;
    deps.store
        .client()
        .put_item()
        .table_name(&deps.config.tables.jobs)
        .item("job", aws_sdk_dynamodb::types::AttributeValue::S(JOB.into()))
        .item("position", aws_sdk_dynamodb::types::AttributeValue::S(text))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failed("PutItem", e))
}

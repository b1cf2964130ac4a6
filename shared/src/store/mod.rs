//! The DynamoDB tables as the [`crate::ports::Store`], a file a table, and the members table
//! in four by concern: the transactions that keep a membership, its claims and its audit
//! entries together ([`members`]), the item and its sort keys ([`member_item`](mod@member_item)), the Members
//! page's query ([`member_listing`]), and reading the table whole for jobs and tools
//! ([`member_scan`]); contact claims ([`contacts`]), the append-only audit log ([`audit`]),
//! idempotency records ([`idempotency`]), the indexes of pending work ([`pending`]), the
//! search table ([`search_index`]) and the abuse limits' logs ([`quotas`]).
//! This file holds what they share.

pub mod audit;
pub mod contacts;
pub mod idempotency;
pub mod member_changes;
pub mod member_item;
pub mod member_listing;
pub mod member_scan;
pub mod members;
pub mod pending;
pub mod quotas;
pub mod search_index;

pub use audit::{audit_from_item, audit_item};
pub use contacts::contact_key;
pub use member_item::{member_from_item, member_item, name_key, name_key_suffix, status_key, status_prefix};
pub use member_scan::ScannedMembers;

use crate::config::Tables;
use crate::ports::StoreError;
use crate::time::{self, Timestamp};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// What one page of a migration (`make migrate`, see [`crate::backfill`]) did.
#[derive(Debug, Clone, PartialEq)]
pub struct Backfilled {
    /// Items given what they lacked.
    pub updated: usize,
    /// Items this code cannot read: left as they are.
    pub unreadable: usize,
    /// Where the next page starts (the table's key); none when the table is done.
    pub next: Option<Item>,
}

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
    /// How long an audit entry is kept after it occurred (its item's `expiresAt`); `None`:
    /// forever. [`crate::config::Config::audit_retention`].
    audit_retention: Option<chrono::Duration>,
}

fn failed(operation: &'static str, source: impl Into<crate::ports::Cause>) -> StoreError {
    StoreError { operation, source: source.into() }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

fn timestamp(item: &Item, name: &str) -> Option<Timestamp> {
    text(item, name).and_then(|t| time::parse(&t))
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

/// The indexes of the items of a cancelled transaction whose condition failed; `None` when
/// the transaction failed for another reason (a conflict, throttling) and may be retried.
fn failed_conditions<R>(error: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<usize>> {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() else {
        return None;
    };
    let failed: Vec<usize> = cancelled
        .cancellation_reasons()
        .iter()
        .enumerate()
        .filter(|(_, reason)| reason.code() == Some("ConditionalCheckFailed"))
        .map(|(index, _)| index)
        .collect();
    (!failed.is_empty()).then_some(failed)
}

/// Whether a transaction was cancelled because another one was changing one of its items at
/// the same moment (`TransactionConflict`): nothing was applied, and a new attempt may pass.
fn conflicted<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() else {
        return false;
    };
    cancelled.cancellation_reasons().iter().any(|reason| reason.code() == Some("TransactionConflict"))
}

type TransactResult = Result<(), SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>>;

impl DynamoStore {
    /// A store that keeps audit entries forever; [`DynamoStore::retaining_audit`] sets the
    /// configured retention.
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables, audit_retention: None }
    }

    /// The same store, writing each audit entry with a TTL `retention` after it occurred
    /// (`None`: none) and reading none past it.
    pub fn retaining_audit(self, retention: Option<chrono::Duration>) -> Self {
        Self { audit_retention: retention, ..self }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A new transaction token (see [`DynamoStore::transact`]).
    fn new_token() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// The items of `keys` in `table` that exist, read consistently with `BatchGetItem`
    /// (at most 100 keys); keys DynamoDB leaves unprocessed (throttled) are asked again after
    /// a pause, a few times, then the read fails.
    async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        const ATTEMPTS: u32 = 6;
        let mut found = Vec::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let request = KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true);
        let mut pending = Some(request.build().map_err(|e| failed("BatchGetItem", e))?);
        for attempt in 0.. {
            let Some(request) = pending.take() else { break };
            let output = self
                .client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| failed("BatchGetItem", e))?;
            found.extend(output.responses().and_then(|tables| tables.get(table)).into_iter().flatten().cloned());
            pending = output
                .unprocessed_keys()
                .and_then(|left| left.get(table))
                .filter(|left| !left.keys().is_empty())
                .cloned();
            if pending.is_some() {
                if attempt + 1 >= ATTEMPTS {
                    return Err(failed("BatchGetItem", "keys left unprocessed"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
        }
        Ok(found)
    }

    /// One transaction. Its `ClientRequestToken` is new for each call, and so shared only by
    /// the SDK's own retries of that call: DynamoDB answers a repeat of a token it saw in
    /// the last ten minutes with success *without applying it again*, so a token that two
    /// requests could share (an audit entry's id, which an interrupted cancel's finisher
    /// reuses) would let the second answer success for work it never did.
    async fn transact(&self, items: Vec<TransactWriteItem>, token: &str) -> TransactResult {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token)
            .send()
            .await
            .map(|_| ())
    }
}

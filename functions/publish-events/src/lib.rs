//! The audit table's stream (new images) → one EventBridge event per audit entry.
//!
//! The audit table is the outbox: every function writes its entry in the transaction that
//! does the work, and only this function publishes, so an action and its event cannot part.
//! For a batch of stream records, in order:
//!
//! 1. Each `INSERT` is read as an audit entry and made its event ([`event::AuditEvent`]);
//!    other records (a TTL deletion, a migration's update) publish nothing.
//! 2. `PutEvents`, ten a call. An entry the bus refuses (or whose call failed) is put again
//!    alone with the other refused ones, up to [`ATTEMPTS`] times with a backoff: the
//!    entries the bus took are never put twice by this function.
//! 3. What the bus still refuses, and a record that is not an audit entry, is sent to the
//!    dead-letter queue (the event as a consumer would read it, and why), never dropped.
//! 4. A record that could be neither published nor dead-lettered is answered as a batch
//!    item failure (`ReportBatchItemFailures`): Lambda runs the batch again from it, the
//!    records before it done. Its repeats of the records after it are the "at least once"
//!    a consumer de-duplicates by `entryId`.

pub mod bus;
pub mod event;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use bus::{Bus, EventBridgeBus, MOST_A_CALL};
use event::AuditEvent;
use serde_json::json;
use shared::config::ConfigError;
use std::time::Duration;

/// How many times one invocation puts an entry the bus refuses, before dead-lettering it.
pub const ATTEMPTS: usize = 3;
/// The pause before each attempt after the first.
pub const BACKOFF: [Duration; ATTEMPTS - 1] = [Duration::from_millis(200), Duration::from_secs(1)];

/// What one batch came to: the log's line, and the answer to Lambda.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    pub published: usize,
    pub dead_lettered: usize,
    /// Records that are not new audit entries (TTL deletions, updates).
    pub skipped: usize,
    /// The sequence numbers of the records neither published nor dead-lettered.
    pub failed: Vec<String>,
}

impl Published {
    pub fn response(&self) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = self
            .failed
            .iter()
            .map(|sequence| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence.clone());
                failure
            })
            .collect();
        response
    }
}

/// The bus and queue of the environment (`EVENT_BUS_NAME`, `DEAD_LETTER_QUEUE_URL`) on the
/// standard AWS configuration chain.
pub async fn bus_from_env() -> Result<EventBridgeBus, ConfigError> {
    let required = |name: &'static str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or(ConfigError::Missing(name))
    };
    let (bus_name, dead_letter_queue_url) = (required("EVENT_BUS_NAME")?, required("DEAD_LETTER_QUEUE_URL")?);
    let sdk = shared::deps::load_sdk_config().await?;
    Ok(EventBridgeBus {
        events: aws_sdk_eventbridge::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        bus_name,
        dead_letter_queue_url,
    })
}

pub async fn handle<B: Bus>(
    bus: &B,
    event: lambda_runtime::LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    let done = publish(bus, &event.payload.records).await;
    tracing::info!(
        records = event.payload.records.len(),
        published = done.published,
        dead_lettered = done.dead_lettered,
        skipped = done.skipped,
        failed = done.failed.len(),
        "batch"
    );
    Ok(done.response())
}

/// Publishes `records`' entries: see the module's documentation for the order.
pub async fn publish<B: Bus>(bus: &B, records: &[EventRecord]) -> Published {
    let mut done = Published::default();
    let mut pending: Vec<(usize, AuditEvent)> = Vec::new();
    let mut letters: Vec<(usize, String)> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        if record.event_name != "INSERT" {
            done.skipped += 1;
            continue;
        }
        let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            record.change.new_image.clone().into();
        match shared::store::audit_from_item(&item) {
            Some(entry) => pending.push((index, AuditEvent::of(&entry))),
            None => {
                tracing::error!(event_id = %record.event_id, "a new audit item that is not an audit entry");
                let letter =
                    json!({"reason": "unreadable audit item", "eventID": record.event_id, "keys": record.change.keys});
                letters.push((index, letter.to_string()));
            }
        }
    }

    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            if pending.is_empty() {
                break;
            }
            tokio::time::sleep(BACKOFF[attempt - 1]).await;
        }
        let mut refused = Vec::new();
        for chunk in pending.chunks(MOST_A_CALL) {
            let events: Vec<AuditEvent> = chunk.iter().map(|(_, event)| event.clone()).collect();
            for ((index, event), result) in chunk.iter().zip(bus.put(&events).await) {
                match result {
                    None => done.published += 1,
                    Some(reason) if attempt + 1 == ATTEMPTS => {
                        tracing::error!(entry = %event.entry_id, %reason, "the bus refused the entry: dead-lettered");
                        let letter = json!({"reason": reason, "event": event.to_json()});
                        letters.push((*index, letter.to_string()));
                    }
                    Some(reason) => {
                        tracing::warn!(entry = %event.entry_id, %reason, attempt, "the bus refused the entry: put again");
                        refused.push((*index, event.clone()));
                    }
                }
            }
        }
        pending = refused;
    }

    letters.sort_by_key(|(index, _)| *index);
    for chunk in letters.chunks(MOST_A_CALL) {
        let messages: Vec<String> = chunk.iter().map(|(_, message)| message.clone()).collect();
        for ((index, _), queued) in chunk.iter().zip(bus.dead_letter(&messages).await) {
            if queued {
                done.dead_lettered += 1;
            } else {
                let record = &records[*index];
                done.failed.push(record.change.sequence_number.clone().unwrap_or_else(|| record.event_id.clone()));
            }
        }
    }
    done
}

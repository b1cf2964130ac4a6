//! Where the events go: the [`Bus`] port (the stack's EventBridge bus and, for what it will
//! not take, the dead-letter queue) and its adapter on the real clients.

use crate::event::{AuditEvent, SOURCE};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::future::Future;

/// PutEvents and SendMessageBatch each take at most ten entries.
pub const MOST_A_CALL: usize = 10;

pub trait Bus: Send + Sync {
    /// Puts `events` (at most [`MOST_A_CALL`]) on the bus: for each, in order, `None` when
    /// the bus took it, or why it did not (a refused entry, or the whole call failed).
    fn put(&self, events: &[AuditEvent]) -> impl Future<Output = Vec<Option<String>>> + Send;

    /// Sends `messages` (at most [`MOST_A_CALL`]) to the dead-letter queue: for each, in
    /// order, whether the queue has it.
    fn dead_letter(&self, messages: &[String]) -> impl Future<Output = Vec<bool>> + Send;
}

/// The stack's bus (`EVENT_BUS_NAME`) and dead-letter queue (`DEAD_LETTER_QUEUE_URL`).
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub bus_name: String,
    pub dead_letter_queue_url: String,
}

impl Bus for EventBridgeBus {
    async fn put(&self, events: &[AuditEvent]) -> Vec<Option<String>> {
        let entries = events
            .iter()
            .map(|event| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus_name)
                    .source(SOURCE)
                    .detail_type(event.detail_type)
                    .detail(event.detail.to_string())
                    .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(event.time.timestamp_millis()))
                    .build()
            })
            .collect();
        match self.events.put_events().set_entries(Some(entries)).send().await {
            // One result an entry, in order; one with an error code was refused.
            Ok(output) => {
                let results = output.entries();
                (0..events.len())
                    .map(|i| match results.get(i) {
                        Some(result) if result.error_code().is_none() && result.event_id().is_some() => None,
                        Some(result) => Some(result.error_code().unwrap_or("NoEventId").to_owned()),
                        None => Some("NoResult".to_owned()),
                    })
                    .collect()
            }
            Err(error) => {
                let reason = aws_sdk_eventbridge::error::DisplayErrorContext(&error).to_string();
                tracing::warn!(error = %reason, entries = events.len(), "PutEvents failed");
                vec![Some("PutEventsFailed".to_owned()); events.len()]
            }
        }
    }

    async fn dead_letter(&self, messages: &[String]) -> Vec<bool> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, body)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body).build())
            .collect::<Result<Vec<_>, _>>();
        let Ok(entries) = entries else { return vec![false; messages.len()] };
        match self
            .sqs
            .send_message_batch()
            .queue_url(&self.dead_letter_queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(output) => {
                let sent: Vec<&str> = output.successful().iter().map(|ok| ok.id()).collect();
                (0..messages.len()).map(|i| sent.contains(&i.to_string().as_str())).collect()
            }
            Err(error) => {
                let reason = aws_sdk_sqs::error::DisplayErrorContext(&error).to_string();
                tracing::error!(error = %reason, messages = messages.len(), "SendMessageBatch failed");
                vec![false; messages.len()]
            }
        }
    }
}

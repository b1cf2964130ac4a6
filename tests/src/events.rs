//! The events of a test stack: its audit table's stream run as Lambda runs it
//! ([`members_local::streams`]) into `publish-events`, called in this process with the
//! event the mapping builds, on the real EventBridge and SQS clients; what a rule on the bus
//! delivered (the local tap queue) and what was dead-lettered, read back.

use crate::TestStack;
use crate::bus_faults::RefusingBus;
use crate::gateway::api::Invoke;
use members_local::streams::{Polled, StreamPoller};
use publish_events::bus::EventBridgeBus;
use serde_json::Value;
use std::sync::Arc;

impl TestStack {
    /// publish-events' bus and dead-letter queue, on this stack's clients.
    pub fn bus(&self) -> EventBridgeBus {
        self.bus_on(&self.sdk)
    }

    /// [`TestStack::bus`], its EventBridge client going through `refusing`.
    pub fn refusing_bus(&self, refusing: &RefusingBus) -> EventBridgeBus {
        let inner = self.sdk.http_client().expect("the SDK configuration names its HTTP client");
        let sdk = self.sdk.to_builder().http_client(refusing.around(inner)).build();
        EventBridgeBus { sqs: aws_sdk_sqs::Client::new(&self.sdk), ..self.bus_on(&sdk) }
    }

    fn bus_on(&self, sdk: &aws_config::SdkConfig) -> EventBridgeBus {
        EventBridgeBus {
            events: aws_sdk_eventbridge::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            bus_name: self.provisioned.var("EVENT_BUS_NAME").to_owned(),
            dead_letter_queue_url: self.provisioned.var("DEAD_LETTER_QUEUE_URL").to_owned(),
        }
    }

    /// The audit table's stream, read from its oldest record.
    pub async fn audit_stream(&self) -> StreamPoller {
        let dead_letters = self.provisioned.var("DEAD_LETTER_QUEUE_URL");
        StreamPoller::new(&self.sdk, &self.deps.config.tables.audit, dead_letters).await.expect("the audit stream")
    }

    /// Runs what is new on `stream` into publish-events on `bus`.
    pub async fn publish(&self, stream: &mut StreamPoller, bus: &EventBridgeBus) -> Polled {
        stream.poll(&invoking(bus.clone())).await.expect("the stream is read")
    }

    /// Every event a rule on the bus delivered so far (each read once).
    pub async fn delivered_events(&self) -> Vec<Value> {
        self.drain(&self.provisioned.physical_ids[members_local::stack::LOCAL_EVENTS_TAP]).await
    }

    /// Every message in the dead-letter queue so far (each read once).
    pub async fn dead_letters(&self) -> Vec<Value> {
        self.drain(self.provisioned.var("DEAD_LETTER_QUEUE_URL")).await
    }

    async fn drain(&self, queue_url: &str) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut messages = Vec::new();
        loop {
            let output = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("ReceiveMessage");
            if output.messages().is_empty() {
                return messages;
            }
            for message in output.messages() {
                messages.push(serde_json::from_str(message.body().unwrap_or_default()).expect("a JSON message"));
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
    }
}

/// publish-events, invoked in this process as Lambda invokes it: the event deserialised
/// from what the mapping sends, the answer serialised back.
pub fn invoking(bus: EventBridgeBus) -> Invoke {
    Arc::new(move |_function, event| {
        let bus = bus.clone();
        Box::pin(async move {
            let event = serde_json::from_value(event).map_err(|e| format!("not a DynamoDB stream event: {e}"))?;
            let invocation = lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default());
            let answer = publish_events::handle(&bus, invocation).await.map_err(|e| e.to_string())?;
            serde_json::to_value(answer).map_err(|e| e.to_string())
        })
    })
}

/// What the events say of the audit table after everything new on its stream was published:
/// each entry's event delivered or dead-lettered (by `entryId`), none missing, none of
/// another entry, each with its action's `detail-type` and no contact. Empty: all is well.
/// `repeats` are allowed (delivery is at least once) only when `at_least_once`.
pub async fn events_against_the_log(
    stack: &TestStack,
    delivered: &[Value],
    dead: &[Value],
    at_least_once: bool,
) -> Vec<String> {
    let items = stack.scan(&stack.deps.config.tables.audit).await;
    let entries: std::collections::HashMap<String, shared::domain::AuditEntry> = items
        .iter()
        .map(|item| shared::store::audit_from_item(item).expect("an audit entry"))
        .map(|entry| (entry.id.clone(), entry))
        .collect();
    let mut problems = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let dead_events = dead.iter().filter_map(|letter| letter.get("event"));
    for event in delivered.iter().chain(dead_events) {
        let id = event["detail"]["entryId"].as_str().unwrap_or_default().to_owned();
        *seen.entry(id.clone()).or_default() += 1;
        let Some(entry) = entries.get(&id) else {
            problems.push(format!("an event of no audit entry: {event}"));
            continue;
        };
        if event["source"] != "members-api" || event["detail-type"] != entry.action.event_type() {
            problems.push(format!("{id}: source or detail-type wrong: {event}"));
        }
        let text = event["detail"].to_string();
        if text.contains("+44") || text.contains('@') || text.contains("phone") || text.contains("email") {
            problems.push(format!("{id}: a contact in the event: {text}"));
        }
        if event["detail"]["orgId"] != entry.org_id.as_str()
            || event["detail"]["target"]["id"] != entry.target_id.as_str()
        {
            problems.push(format!("{id}: not its entry's organisation or target: {text}"));
        }
    }
    for id in entries.keys() {
        match seen.get(id).copied().unwrap_or(0) {
            0 => problems.push(format!("{id}: no event (lost)")),
            1 => {}
            n if !at_least_once => problems.push(format!("{id}: {n} events")),
            _ => {}
        }
    }
    problems
}

//! The publishing rule on an in-memory bus: what is put, what is put again, what is
//! dead-lettered, and what Lambda is asked to run again. The adapter and the stream's real
//! records are tested against the emulator (tests/tests/emulator/audit_events.rs).

use aws_lambda_events::event::dynamodb::EventRecord;
use publish_events::bus::Bus;
use publish_events::event::AuditEvent;
use publish_events::{ATTEMPTS, publish};
use serde_json::{Value, json};
use shared::domain::{AuditAction, AuditEntry, Role};
use std::collections::HashMap;
use std::sync::Mutex;

/// A bus that refuses the entries named in `refuse` (for that many attempts each; `usize::MAX`:
/// always) and a queue that takes what it is sent unless `queue_down`.
#[derive(Default)]
struct FakeBus {
    refuse: Mutex<HashMap<String, usize>>,
    queue_down: bool,
    /// Each put call's entry ids, in order.
    puts: Mutex<Vec<Vec<String>>>,
    published: Mutex<Vec<AuditEvent>>,
    dead: Mutex<Vec<Value>>,
}

impl Bus for FakeBus {
    async fn put(&self, events: &[AuditEvent]) -> Vec<Option<String>> {
        assert!(events.len() <= 10, "PutEvents takes ten entries at most");
        self.puts.lock().unwrap().push(events.iter().map(|e| e.entry_id.clone()).collect());
        let mut refuse = self.refuse.lock().unwrap();
        events
            .iter()
            .map(|event| match refuse.get_mut(&event.entry_id) {
                Some(left) if *left > 0 => {
                    *left = left.saturating_sub(1);
                    Some("ThrottlingException".to_owned())
                }
                _ => {
                    self.published.lock().unwrap().push(event.clone());
                    None
                }
            })
            .collect()
    }

    async fn dead_letter(&self, messages: &[String]) -> Vec<bool> {
        if self.queue_down {
            return vec![false; messages.len()];
        }
        self.dead.lock().unwrap().extend(messages.iter().map(|m| serde_json::from_str::<Value>(m).unwrap()));
        vec![true; messages.len()]
    }
}

fn entry(i: usize, action: AuditAction) -> AuditEntry {
    AuditEntry {
        id: format!("00000000-0000-4000-8000-{i:012}"),
        org_id: "org-acme".into(),
        action,
        occurred_at: shared::time::parse("2026-11-30T09:00:00Z").unwrap() + chrono::Duration::seconds(i as i64),
        actor_id: "ada-sub".into(),
        actor_name: "Ada Admin".into(),
        target_id: format!("user-{i}"),
        target_name: format!("Member {i}"),
        request_id: format!("req-{i}"),
        source_ip: "203.0.113.24".into(),
        user_agent: "Mozilla/5.0 AdminConsole".into(),
        role_change: None,
    }
}

/// A stream record as Lambda delivers it, holding `entry`'s item as the audit table stores it.
fn record(sequence: usize, name: &str, entry: &AuditEntry) -> EventRecord {
    let item = shared::store::audit_item(entry);
    let image = serde_json::to_value(serde_dynamo::Item::from(item)).unwrap();
    let keys = json!({"orgId": {"S": entry.org_id}, "entryId": {"S": entry.entry_key()}});
    serde_json::from_value(json!({
        "eventID": format!("event-{sequence}"),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_796_000_000.0,
            "Keys": keys,
            "NewImage": if name == "REMOVE" { json!({}) } else { image },
            "SequenceNumber": format!("{:021}", 100 + sequence),
            "SizeBytes": 300,
            "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/audit/stream/2026-12-01T00:00:00.000"
    }))
    .unwrap()
}

fn inserts(n: usize) -> (Vec<AuditEntry>, Vec<EventRecord>) {
    let entries: Vec<_> = (0..n).map(|i| entry(i, AuditAction::ALL[i % AuditAction::ALL.len()])).collect();
    let records = entries.iter().enumerate().map(|(i, e)| record(i, "INSERT", e)).collect();
    (entries, records)
}

#[tokio::test]
async fn each_new_entry_is_one_event_of_its_action_with_no_contact_and_nothing_else_is_published() {
    let bus = FakeBus::default();
    let (mut entries, mut records) = inserts(23);
    entries[4] = entry(4, AuditAction::ChangedRole).changing_role(Role::Member, Role::Admin);
    records[4] = record(4, "INSERT", &entries[4]);
    records.push(record(23, "REMOVE", &entries[0])); // the TTL deleting an entry
    records.push(record(24, "MODIFY", &entries[1])); // a migration's update

    let done = publish(&bus, &records).await;

    assert_eq!((done.published, done.dead_lettered, done.skipped), (23, 0, 2));
    assert!(done.failed.is_empty() && done.response().batch_item_failures.is_empty());
    let puts = bus.puts.lock().unwrap().clone();
    assert_eq!(puts.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3], "ten a call");
    let published = bus.published.lock().unwrap().clone();
    assert_eq!(published.len(), 23);
    for (event, entry) in published.iter().zip(&entries) {
        assert_eq!(event.detail_type, entry.action.event_type());
        assert_eq!(event.time, entry.occurred_at);
        let mut expected = json!({
            "entryId": entry.id,
            "orgId": "org-acme",
            "occurredAt": shared::time::rfc3339(entry.occurred_at),
            "actor": {"id": "ada-sub", "name": "Ada Admin"},
            "target": {"id": entry.target_id, "name": entry.target_name},
        });
        if entry.role_change.is_some() {
            expected["changes"] = json!({"role": {"from": "member", "to": "admin"}});
        }
        assert_eq!(event.detail, expected, "exactly these fields: no phone, no email, no request details");
    }
    assert_eq!(published[4].detail_type, "Member Role Changed");
    assert_eq!(published[0].to_json()["source"], "members-api");
}

#[tokio::test]
async fn a_refused_entry_is_put_again_alone_and_the_others_are_never_repeated() {
    let bus = FakeBus::default();
    let (entries, records) = inserts(12);
    bus.refuse.lock().unwrap().extend([(entries[3].id.clone(), 1), (entries[11].id.clone(), 2)]);

    let done = publish(&bus, &records).await;

    assert_eq!((done.published, done.dead_lettered), (12, 0));
    let puts = bus.puts.lock().unwrap().clone();
    assert_eq!(puts.len(), 4, "{puts:?}");
    assert_eq!(puts[2], [entries[3].id.clone(), entries[11].id.clone()], "only the refused ones");
    assert_eq!(puts[3], [entries[11].id.clone()]);
    let mut ids: Vec<_> = bus.published.lock().unwrap().iter().map(|e| e.entry_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "each published once");
}

#[tokio::test]
async fn an_entry_the_bus_keeps_refusing_goes_to_the_dead_letter_queue_whole() {
    let bus = FakeBus::default();
    let (entries, records) = inserts(3);
    bus.refuse.lock().unwrap().insert(entries[1].id.clone(), usize::MAX);

    let done = publish(&bus, &records).await;

    assert_eq!((done.published, done.dead_lettered), (2, 1));
    assert!(done.failed.is_empty(), "dead-lettered is done: Lambda need not run it again");
    assert_eq!(bus.puts.lock().unwrap().iter().filter(|ids| ids.contains(&entries[1].id)).count(), ATTEMPTS);
    let dead = bus.dead.lock().unwrap().clone();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["reason"], "ThrottlingException");
    assert_eq!(dead[0]["event"], AuditEvent::of(&entries[1]).to_json(), "the event, ready to be put again");
}

#[tokio::test]
async fn when_neither_the_bus_nor_the_queue_takes_an_entry_lambda_is_asked_to_run_it_again() {
    let bus = FakeBus { queue_down: true, ..FakeBus::default() };
    let (entries, records) = inserts(5);
    bus.refuse.lock().unwrap().extend([(entries[2].id.clone(), usize::MAX), (entries[4].id.clone(), usize::MAX)]);

    let done = publish(&bus, &records).await;

    assert_eq!((done.published, done.dead_lettered), (3, 0));
    let failures: Vec<_> =
        done.response().batch_item_failures.into_iter().map(|f| f.item_identifier.unwrap()).collect();
    assert_eq!(
        failures,
        [records[2].change.sequence_number.clone().unwrap(), records[4].change.sequence_number.clone().unwrap()]
    );
}

#[tokio::test]
async fn a_new_item_that_is_not_an_audit_entry_is_dead_lettered_not_dropped() {
    let bus = FakeBus::default();
    let (_, mut records) = inserts(2);
    records[0].change.new_image.remove("action");

    let done = publish(&bus, &records).await;

    assert_eq!((done.published, done.dead_lettered), (1, 1));
    let dead = bus.dead.lock().unwrap().clone();
    assert_eq!(dead[0]["reason"], "unreadable audit item");
    assert_eq!(dead[0]["eventID"], "event-0");
}

/// The fixtures `cargo lambda invoke publish-events --data-file …` sends, read as the
/// function reads Lambda's event.
#[tokio::test]
async fn the_fixtures_publish_skip_and_dead_letter_as_their_names_say() {
    let fixture = |name: &str| -> Vec<EventRecord> {
        let path = format!("{}/../../events/publish-events/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let event: aws_lambda_events::event::dynamodb::Event =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        event.records
    };
    let bus = FakeBus::default();
    let done = publish(&bus, &fixture("new-entries")).await;
    assert_eq!((done.published, done.dead_lettered, done.skipped), (2, 0, 0));
    let published = bus.published.lock().unwrap().clone();
    assert_eq!(published[1].detail_type, "Member Role Changed");
    assert_eq!(published[1].detail["changes"], json!({"role": {"from": "member", "to": "admin"}}));
    assert_eq!(publish(&bus, &fixture("ttl-deletion")).await.skipped, 1);
    assert_eq!(publish(&bus, &fixture("unreadable-item")).await.dead_lettered, 1);
}

//! publish-events against the emulator: the audit table's real stream, read as Lambda's
//! mapping reads it (members_local::streams), published on the emulator's bus through the
//! real EventBridge client, delivered by a rule to a queue this test reads.

use members_tests::bus_faults::RefusingBus;
use members_tests::events::events_against_the_log;
use members_tests::faults::{Fault, When};
use members_tests::{TestStack, fixture};

#[tokio::test]
async fn every_audit_entry_is_one_event_on_the_bus_and_publishing_again_repeats_none() {
    let stack = TestStack::seeded().await;
    let canceled = cancel_invitation::handle(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json"))
        .await
        .unwrap();
    assert_eq!(canceled.status(), 204);
    let (mut stream, bus) = (stack.audit_stream().await, stack.bus());

    let polled = stack.publish(&mut stream, &bus).await;

    let entries = stack.scan(&stack.deps.config.tables.audit).await.len();
    assert!(entries >= 8, "the seed's entries and the cancel's: {entries}");
    assert_eq!(polled.records, entries, "one stream record an entry");
    let delivered = stack.delivered_events().await;
    assert_eq!(delivered.len(), entries);
    let problems = events_against_the_log(&stack, &delivered, &[], false).await;
    assert!(problems.is_empty(), "{problems:#?}");
    let cancel = delivered.iter().find(|e| e["detail-type"] == "Invitation Canceled").expect("the cancel's event");
    assert_eq!(cancel["detail"]["target"]["name"], "Carol Invitee");
    let keys: Vec<&str> = cancel["detail"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["actor", "entryId", "occurredAt", "orgId", "target"], "nothing else: no contact, no request");

    // Nothing new: nothing published again.
    let again = stack.publish(&mut stream, &bus).await;
    assert_eq!((again.records, again.invocations), (0, 0));
    assert!(stack.delivered_events().await.is_empty());
    assert!(stack.dead_letters().await.is_empty());
}

/// The bus refuses a third of the entries on their first put and one entry every time: the
/// refused ones are put again (alone) and delivered, the one it keeps refusing is in the
/// dead-letter queue whole, and no entry is lost or delivered twice.
#[tokio::test]
async fn entries_the_bus_refuses_are_put_again_or_dead_lettered_never_lost() {
    let stack = TestStack::seeded().await;
    let mut stream = stack.audit_stream().await;
    let ids: Vec<String> = stack
        .scan(&stack.deps.config.tables.audit)
        .await
        .iter()
        .map(|item| item["id"].as_s().unwrap().clone())
        .collect();
    let stubborn = ids[0].clone();
    let flaky: Vec<String> = ids.iter().skip(1).step_by(3).cloned().collect();
    let refusing = {
        let (stubborn, flaky) = (stubborn.clone(), flaky.clone());
        RefusingBus::new(move |id, attempt| id == stubborn || (attempt == 0 && flaky.iter().any(|f| f == id)))
    };

    let polled = stack.publish(&mut stream, &stack.refusing_bus(&refusing)).await;

    assert_eq!(polled.invocations, 1, "nothing asked Lambda to run the batch again");
    let (delivered, dead) = (stack.delivered_events().await, stack.dead_letters().await);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["event"]["detail"]["entryId"], stubborn.as_str());
    assert_eq!(dead[0]["reason"], "InternalFailure");
    assert_eq!(delivered.len(), ids.len() - 1);
    let problems = events_against_the_log(&stack, &delivered, &dead, false).await;
    assert!(problems.is_empty(), "{problems:#?}");
    let puts = refusing.puts();
    assert_eq!(puts[&stubborn], (publish_events::ATTEMPTS, publish_events::ATTEMPTS));
    for id in &ids[1..] {
        let expected = if flaky.contains(id) { (2, 1) } else { (1, 0) };
        assert_eq!(puts[id], expected, "{id}: a refused entry put again, a taken one never");
    }
}

/// Neither the bus nor the queue takes an entry: publish-events reports it, the mapping runs
/// the batch again from it, and the next invocation's put is taken. The entries after it in
/// the batch come again too (at least once), and every entry is delivered.
#[tokio::test]
async fn an_entry_neither_bus_nor_queue_takes_is_run_again_by_the_mapping_and_delivered() {
    let stack = TestStack::seeded().await;
    let mut stream = stack.audit_stream().await;
    let items = stack.scan(&stack.deps.config.tables.audit).await;
    let second = items[1]["id"].as_s().unwrap().clone();
    let refusing = {
        let second = second.clone();
        RefusingBus::new(move |id, attempt| id == second && attempt < publish_events::ATTEMPTS)
    };
    // The queue unreachable for the first invocation's dead letter: the call never leaves.
    let queue_down = Fault::new("SendMessageBatch", When::BeforeSending, 1);
    let sqs = aws_sdk_sqs::config::Builder::from(&stack.sdk).interceptor(queue_down).build();
    let bus = publish_events::bus::EventBridgeBus {
        sqs: aws_sdk_sqs::Client::from_conf(sqs),
        ..stack.refusing_bus(&refusing)
    };

    let polled = stack.publish(&mut stream, &bus).await;

    assert_eq!(polled.invocations, 2, "once, then again from the failed record");
    assert_eq!(polled.batches_given_up, 0);
    let delivered = stack.delivered_events().await;
    let problems = events_against_the_log(&stack, &delivered, &[], true).await;
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(stack.dead_letters().await.is_empty());
    assert_eq!(refusing.puts()[&second], (publish_events::ATTEMPTS + 1, publish_events::ATTEMPTS));
}

/// A function that fails every time (a crash, a timeout): the mapping runs the batch again
/// its ten times, then sends the batch's record (shard, sequence numbers) to the dead-letter
/// queue and goes on; the stream keeps the records for a day, to be read again from there.
#[tokio::test]
async fn a_batch_the_function_keeps_failing_is_given_up_to_the_dead_letter_queue_with_its_place() {
    let stack = TestStack::seeded().await;
    let mut stream = stack.audit_stream().await;
    let entries = stack.scan(&stack.deps.config.tables.audit).await.len();
    let crashing: members_tests::gateway::api::Invoke =
        std::sync::Arc::new(|_, _| Box::pin(async { Err("the function crashed".to_owned()) }));

    let polled = stream.poll(&crashing).await.unwrap();

    assert_eq!(polled.invocations, members_local::streams::MAXIMUM_RETRY_ATTEMPTS + 1);
    assert_eq!(polled.batches_given_up, 1);
    let dead = stack.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(dead[0]["DDBStreamBatchInfo"]["batchSize"], entries);
    assert!(dead[0]["DDBStreamBatchInfo"]["startSequenceNumber"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(stack.delivered_events().await.is_empty());
    assert_eq!(stream.poll(&crashing).await.unwrap().records, 0, "the shard went on");
}

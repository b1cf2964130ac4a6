//! The randomised concurrent workload (see `members_tests::workload`), sized for `make
//! test`; `make soak` runs it with 10,000 operations. A failure prints its seed: run again
//! with `WORKLOAD_SEED=<seed>` to replay the same choices (the interleaving is the
//! scheduler's, so a replay makes the same requests, not always in the same order).

use members_tests::TestStack;
use members_tests::bus_faults::RefusingBus;
use members_tests::events::events_against_the_log;
use members_tests::workload::{self, Settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invites_cancels_resends_lists_and_sign_ins_with_faults_keep_every_invariant() {
    let stack = TestStack::empty().await;
    let settings = Settings::from_env(1000);

    let report = workload::run(&stack, settings).await;

    println!("{}", report.summary());
    assert!(report.done.iter().any(|d| d.kind == "invite" && d.status == 201), "the workload did invite people");
    assert!(report.done.iter().any(|d| d.kind == "cancel" && d.status == 204), "and cancel some");
    assert!(report.faults > 0 || report.settings.as_ref().unwrap().fault_rate == 0.0, "and faults were injected");
    assert!(report.held(), "an invariant broke; replay with WORKLOAD_SEED:\n{}", report.summary());

    // Every entry the run wrote, published by the stream through a bus that refuses about
    // one put in five: each entry ends delivered once or dead-lettered, none lost.
    let refusing = RefusingBus::new(|id, attempt| {
        let h = id.bytes().fold(attempt as u64 + 7, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        h % 5 == 0
    });
    let polled = stack.publish(&mut stack.audit_stream().await, &stack.refusing_bus(&refusing)).await;
    let (delivered, dead) = (stack.delivered_events().await, stack.dead_letters().await);
    println!("events: {} records, {} delivered, {} dead-lettered", polled.records, delivered.len(), dead.len());
    let problems = events_against_the_log(&stack, &delivered, &dead, false).await;
    assert!(problems.is_empty(), "events do not match the log:\n{}", problems.join("\n"));
}

/// With no fault injected and no request dying, nothing answers 5xx, not even a first
/// attempt: a race between administrators (one contact invited twice at once, a cancel
/// meeting a resend) is answered with what the winner made true, never passed on as `503`,
/// which is for AWS failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_faults_concurrent_administrators_never_see_a_5xx() {
    let stack = TestStack::empty().await;
    let settings = Settings { fault_rate: 0.0, death_rate: 0.0, ..Settings::from_env(600) };

    let report = workload::run(&stack, settings).await;

    println!("{}", report.summary());
    assert!(report.done.iter().any(|d| d.kind == "invite" && d.status == 409), "contacts were raced for");
    let server_errors: Vec<String> = report
        .done
        .iter()
        .filter(|d| d.server_errors > 0 || d.status >= 500)
        .map(|d| format!("{} {:?}: {} × 5xx, last {} {}", d.kind, d.target, d.server_errors, d.status, d.body))
        .collect();
    assert!(server_errors.is_empty(), "5xx without a fault:\n{}\n{}", server_errors.join("\n"), report.summary());
    assert!(report.held(), "an invariant broke; replay with WORKLOAD_SEED:\n{}", report.summary());

    // Every audit entry of the run: exactly one event on the bus, none dead-lettered.
    let polled = stack.publish(&mut stack.audit_stream().await, &stack.bus()).await;
    let (delivered, dead) = (stack.delivered_events().await, stack.dead_letters().await);
    assert!(dead.is_empty(), "{dead:?}");
    assert!(polled.records > 0 && delivered.len() == polled.records, "{polled:?}, {} delivered", delivered.len());
    let problems = events_against_the_log(&stack, &delivered, &dead, false).await;
    assert!(problems.is_empty(), "events do not match the log:\n{}", problems.join("\n"));
}

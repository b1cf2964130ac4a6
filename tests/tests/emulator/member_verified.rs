//! The Cognito trigger against the emulator, through the real SDK clients.

use lambda_runtime::{Context, LambdaEvent};
use members_tests::faults::{Fault, When};
use members_tests::seed::{ACME, ACME_INVITEE, ACME_INVITEE_2, ACME_VERIFIED};
use members_tests::{SharedInterceptor, TestStack, workspace_root};
use serde_json::Value;
use shared::domain::MemberStatus;
use shared::store::DynamoStore;

fn event(case: &str) -> Value {
    let path = workspace_root().join(format!("events/member-verified/{case}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn trigger(store: &DynamoStore, payload: Value) -> Value {
    member_verified::handle(store, LambdaEvent::new(payload, Context::default())).await.expect("never fails")
}

async fn status(stack: &TestStack, user_id: &str) -> Option<MemberStatus> {
    stack.member(ACME, user_id).await.map(|m| m.status)
}

#[tokio::test]
async fn a_confirmation_marks_the_invitee_verified_and_returns_the_event_unchanged() {
    let stack = TestStack::seeded().await;
    let sent = event("invitee-confirms");

    let returned = trigger(&stack.deps.store, sent.clone()).await;

    assert_eq!(returned, sent);
    assert_eq!(status(&stack, ACME_INVITEE.user_id).await, Some(MemberStatus::Verified));
    assert_eq!(status(&stack, ACME_INVITEE_2.user_id).await, Some(MemberStatus::Unverified));
}

#[tokio::test]
async fn a_sign_in_marks_the_member_verified_and_doing_it_again_changes_nothing() {
    let stack = TestStack::seeded().await;
    let sent = event("invitee-signs-in");

    assert_eq!(trigger(&stack.deps.store, sent.clone()).await, sent);
    let after_first = stack.member(ACME, ACME_INVITEE_2.user_id).await;
    assert_eq!(trigger(&stack.deps.store, sent.clone()).await, sent);
    assert_eq!(trigger(&stack.deps.store, event("verified-member-signs-in")).await, event("verified-member-signs-in"));

    assert_eq!(after_first.as_ref().map(|m| m.status), Some(MemberStatus::Verified));
    assert_eq!(stack.member(ACME, ACME_INVITEE_2.user_id).await, after_first);
    assert_eq!(status(&stack, ACME_VERIFIED.user_id).await, Some(MemberStatus::Verified));
}

#[tokio::test]
async fn an_unknown_user_or_another_trigger_changes_nothing() {
    let stack = TestStack::seeded().await;
    let before = stack.scan(&stack.deps.config.tables.members).await.len();
    let mut pre_sign_up = event("invitee-confirms");
    pre_sign_up["triggerSource"] = "PreSignUp_AdminCreateUser".into();

    assert_eq!(trigger(&stack.deps.store, event("unknown-user")).await, event("unknown-user"));
    assert_eq!(trigger(&stack.deps.store, pre_sign_up.clone()).await, pre_sign_up);

    assert_eq!(stack.scan(&stack.deps.config.tables.members).await.len(), before);
    assert_eq!(status(&stack, ACME_INVITEE.user_id).await, Some(MemberStatus::Unverified));
}

#[tokio::test]
async fn a_dynamodb_failure_never_fails_the_sign_in() {
    let stack = TestStack::seeded().await;
    let failing = stack.instance().dynamo(Fault::new("TransactWriteItems", When::BeforeSending, 1)).deps();
    let sent = event("invitee-confirms");

    let returned = trigger(&failing.store, sent.clone()).await;

    assert_eq!(returned, sent);
    assert_eq!(status(&stack, ACME_INVITEE.user_id).await, Some(MemberStatus::Unverified));
}

/// The trigger's whole work is bounded once, inside Cognito's five seconds: two calls that
/// each stay inside any per-call limit but together overrun the budget give up, and the
/// sign-in goes through (the event comes back unchanged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_trigger_is_bounded_not_each_call() {
    let stack = TestStack::seeded().await;
    let each = member_verified::BUDGET.mul_f64(0.55);
    let slow = |operation| {
        SharedInterceptor::new(members_tests::faults::Before::new(operation, move || std::thread::sleep(each)))
    };
    let deps = stack.instance().dynamo(slow("GetItem")).dynamo(slow("UpdateItem")).deps();
    let sent = event("invitee-signs-in");

    let marked = member_verified::within_budget(&deps.store, &sent, "test-trigger").await;
    let returned = trigger(&deps.store, sent.clone()).await;

    assert_eq!(marked, member_verified::Marked::Failed);
    assert_eq!(returned, sent);
}

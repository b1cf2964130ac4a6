//! The reconciler against the emulator: what dead requests left behind, converged once their
//! lease has lapsed; what needs a person, reported and left alone; nothing touched twice,
//! and nothing touched while requests are at work.

use members_tests::faults::{Fault, When};
use members_tests::seed::{ACME, ACME_INVITEE, ACME_INVITEE_2, ACME_INVITEE_3, DEMO_PASSWORD, GLOBEX, GLOBEX_INVITEE};
use members_tests::workload::{self, Settings};
use members_tests::{SharedInterceptor, TestStack, fixture, fixture_with};
use reconciler::{Repaired, reconcile};
use shared::domain::AuditAction;
use shared::ports::prelude::*;
use std::time::Duration;

#[tokio::test]
async fn what_dead_requests_left_is_converged_and_what_needs_a_person_reported() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    // A cancel of Carol died after deleting her, before its transaction.
    let dies =
        stack.deps_with(vec![], vec![SharedInterceptor::new(Fault::new("TransactWriteItems", When::BeforeSending, 1))]);
    Box::pin(cancel_invitation::handle(&dies, fixture("cancel-invitation/admin-cancels-unverified.json")))
        .await
        .unwrap();
    // A cancel of Dan died after disabling him.
    let dies = stack.deps_with(
        vec![
            SharedInterceptor::new(Fault::after("AdminGetUser", When::BeforeSending, 1, 1)),
            SharedInterceptor::new(Fault::new("AdminEnableUser", When::BeforeSending, 1)),
        ],
        vec![],
    );
    let dan = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
        members_tests::retarget(e, ACME_INVITEE_2.user_id)
    });
    Box::pin(cancel_invitation::handle(&dies, dan)).await.unwrap();
    // A resend to Erin went out; its entry could not be written.
    let dies = stack.deps_with(vec![], vec![SharedInterceptor::new(Fault::new("PutItem", When::BeforeSending, 1))]);
    let erin = fixture_with("resend-invitation/admin-resends-invitation.json", |e| {
        members_tests::retarget(e, ACME_INVITEE_3.user_id)
    });
    assert_eq!(Box::pin(resend_invitation::handle(&dies, erin)).await.unwrap().status(), 202);
    // An invitation (phone and email) died between Cognito and DynamoDB, and could not undo.
    let dies = stack.deps_with(
        vec![SharedInterceptor::new(Fault::new("AdminDeleteUser", When::BeforeSending, 1))],
        vec![SharedInterceptor::new(Fault::after("TransactWriteItems", When::BeforeSending, 1, 1))],
    );
    Box::pin(invite_user::handle(&dies, fixture("invite-user/admin-invites-member.json"))).await.unwrap();
    let stranded = stack.users_with_phone("+447700900106").await;
    assert_eq!(stranded.len(), 1);
    // Hank's Cognito user was deleted by hand: a ghost.
    delete_user(&stack, GLOBEX_INVITEE.user_id).await;
    // Someone made a user by hand in the console, who signed in: not ours to delete.
    let pool = deps.directory.user_pool_id();
    let client = deps.directory.client();
    client.admin_create_user().user_pool_id(pool).username("by-hand").send().await.unwrap();
    client
        .admin_set_user_password()
        .user_pool_id(pool)
        .username("by-hand")
        .password(DEMO_PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();

    // Within the lease nothing is touched: those requests may still be at work.
    let early = Box::pin(reconcile(deps, shared::time::now(), Duration::ZERO)).await.unwrap();
    assert_eq!(early.repaired, Repaired::default());

    let later =
        shared::time::now() + chrono::Duration::from_std(deps.config.lease).unwrap() + chrono::Duration::seconds(1);
    let summary = Box::pin(reconcile(deps, later, Duration::ZERO)).await.unwrap();
    println!("{}", serde_json::to_string(&summary).unwrap());

    assert_eq!(
        summary.repaired,
        Repaired {
            cancels_finished: 1,
            cancels_undone: 1,
            resends_logged: 1,
            stranded_users_deleted: 1,
            reservations_removed: 2
        }
    );
    assert_eq!(summary.reported.ghosts, 1);
    assert_eq!(summary.reported.users_without_membership, 1);
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.is_none(), "Carol's cancel finished");
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.len(), 1);
    let dan = stack.cognito_user(ACME_INVITEE_2.user_id).await.expect("Dan was never deleted");
    assert!(dan.enabled, "the dead cancel's disable is undone");
    let dan_member = stack.member(ACME, ACME_INVITEE_2.user_id).await.unwrap();
    assert!(dan_member.cancel_pending.is_none() && dan_member.disabled_by.is_none());
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::ResentInvite).await.len(), 1);
    assert!(!stack.cognito_user_exists(&stranded[0].username).await, "the stranded invitee is deleted");
    assert!(stack.deps.store.contact_claims().await.unwrap().iter().all(|c| c.user_id != stranded[0].username));
    assert!(stack.member(GLOBEX, GLOBEX_INVITEE.user_id).await.is_some(), "a ghost is left for cancel");
    assert!(stack.cognito_user_exists("by-hand").await);

    let again = Box::pin(reconcile(deps, later, Duration::ZERO)).await.unwrap();
    assert_eq!(again.repaired, Repaired::default(), "idempotent");
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.len(), 1);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::ResentInvite).await.len(), 1);
}

async fn delete_user(stack: &TestStack, user_id: &str) {
    stack
        .deps
        .directory
        .client()
        .admin_delete_user()
        .user_pool_id(stack.deps.directory.user_pool_id())
        .username(user_id)
        .send()
        .await
        .unwrap();
}

/// The reconciler running over and over while invitations, cancels and resends race:
/// it never touches a request at work, so every invariant still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reconciler_racing_the_workload_breaks_nothing() {
    let stack = TestStack::empty().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let passes = {
        let (deps, stop) = (stack.deps.clone(), stop.clone());
        tokio::spawn(async move {
            let mut passes = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                reconcile(&deps, shared::time::now(), Duration::ZERO).await.expect("a pass");
                passes += 1;
            }
            passes
        })
    };
    let settings = Settings { operations: 300, ..Settings::from_env(300) };

    let report = workload::run(&stack, settings).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let passes = passes.await.unwrap();

    println!("{passes} reconciler passes\n{}", report.summary());
    assert!(passes > 1);
    assert!(report.held(), "{}", report.summary());
}

/// An invitation with an `Idempotency-Key` that died between Cognito and DynamoDB and could
/// not undo: its Cognito user is there, its reservation is there, no membership.
async fn stranded_invitee(stack: &TestStack) -> String {
    let dies = stack.deps_with(
        vec![SharedInterceptor::new(Fault::new("AdminDeleteUser", When::BeforeSending, 1))],
        vec![SharedInterceptor::new(Fault::after("TransactWriteItems", When::BeforeSending, 1, 1))],
    );
    let first = Box::pin(invite_user::handle(&dies, fixture("invite-user/with-idempotency-key.json"))).await.unwrap();
    assert_eq!(first.status(), 503);
    let users = stack.users_with_phone(STRANDED_PHONE).await;
    assert_eq!(users.len(), 1, "the dead invitation's user is there");
    assert!(stack.member(ACME, &users[0].username).await.is_none());
    users[0].username.clone()
}

const STRANDED_PHONE: &str = "+447700900108";

/// A reconciler pass, after every lease lapsed, that runs `during` to its end at the moment
/// it is about to send `operation` (once): the pause between what it read and what it does.
async fn reconcile_pausing_at(
    stack: &TestStack,
    operation: &'static str,
    during: impl FnOnce() + Send + 'static,
) -> reconciler::Summary {
    let during = std::sync::Mutex::new(Some(during));
    let pause = members_tests::faults::Before::new(operation, move || {
        if let Some(during) = during.lock().unwrap().take() {
            std::thread::spawn(during).join().unwrap();
        }
    });
    let paused = stack.deps_with(vec![SharedInterceptor::new(pause)], vec![]);
    let later = shared::time::now()
        + chrono::Duration::from_std(stack.deps.config.lease).unwrap()
        + chrono::Duration::seconds(1);
    Box::pin(reconcile(&paused, later, Duration::ZERO)).await.unwrap()
}

/// Runs `future` to its end on a runtime of its own (inside a paused call of another one).
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

/// The reconciler, working from its lists, is paused just before it disables the stranded
/// invitee; the invitation's retry with its `Idempotency-Key` runs then, reuses the old user
/// and commits. The reconciler must not delete a user that is a member now: the retry's
/// reservation broke its hold, and it backs off, enabling the user again.
#[tokio::test]
async fn a_retry_committing_while_the_reconciler_is_paused_keeps_its_user() {
    let stack = TestStack::seeded().await;
    let user_id = stranded_invitee(&stack).await;
    let (deps, retry) = (stack.deps.clone(), fixture("invite-user/with-idempotency-key.json"));
    let answered = std::sync::Arc::new(std::sync::Mutex::new(None));
    let status = answered.clone();

    let summary = reconcile_pausing_at(&stack, "AdminDisableUser", move || {
        let response = block_on(invite_user::handle(&deps, retry)).unwrap();
        *status.lock().unwrap() = Some(response.status().as_u16());
    })
    .await;

    assert_eq!(*answered.lock().unwrap(), Some(201), "the retry committed during the pause");
    assert_eq!(summary.repaired.stranded_users_deleted, 0);
    let user = stack.cognito_user(&user_id).await.expect("the member's Cognito user is kept");
    assert!(user.enabled, "enabled again by the reconciler that backed off");
    assert!(stack.member(ACME, &user_id).await.is_some());
}

/// Paused later, just before it deletes (the user disabled, every check passed): the retry
/// runs then, finds its user disabled, and does not commit with a user about to go. The
/// reconciler deletes it; the retry's next attempt makes the invitation anew. At no moment
/// is there a membership without its Cognito user.
#[tokio::test]
async fn a_retry_arriving_as_the_reconciler_deletes_does_not_commit_and_its_next_attempt_does() {
    let stack = TestStack::seeded().await;
    let user_id = stranded_invitee(&stack).await;
    let (deps, retry) = (stack.deps.clone(), fixture("invite-user/with-idempotency-key.json"));
    let answered = std::sync::Arc::new(std::sync::Mutex::new(None));
    let status = answered.clone();
    let member_during = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = member_during.clone();
    let (reader, id) = (stack.deps.clone(), user_id.clone());

    let summary = reconcile_pausing_at(&stack, "AdminDeleteUser", move || {
        let response = block_on(invite_user::handle(&deps, retry)).unwrap();
        *status.lock().unwrap() = Some(response.status().as_u16());
        let id = shared::domain::UserId::parse(&id).unwrap();
        *seen.lock().unwrap() = Some(block_on(reader.store.get_member(ACME, &id)).unwrap().is_some());
    })
    .await;

    assert_eq!(*answered.lock().unwrap(), Some(503), "refused to commit with a user being deleted");
    assert_eq!(*member_during.lock().unwrap(), Some(false), "no membership was written");
    assert_eq!(summary.repaired.stranded_users_deleted, 1);
    assert!(stack.cognito_user(&user_id).await.is_none());
    assert!(stack.member(ACME, &user_id).await.is_none(), "no membership without its user");
    let again = Box::pin(invite_user::handle(&stack.deps, fixture("invite-user/with-idempotency-key.json"))).await;
    assert_eq!(again.unwrap().status(), 201);
    assert!(stack.cognito_user(&user_id).await.is_some());
    assert!(stack.member(ACME, &user_id).await.is_some());
}

/// The invitee signs in (sets their password) while the reconciler is paused before it
/// disables them: it looks again after disabling, finds them confirmed, and backs off.
/// A user who signed in is never deleted, and is left enabled.
#[tokio::test]
async fn an_invitee_signing_in_while_the_reconciler_is_paused_is_not_deleted() {
    let stack = TestStack::seeded().await;
    let user_id = stranded_invitee(&stack).await;
    let (client, pool, id) =
        (stack.deps.directory.client().clone(), stack.deps.directory.user_pool_id().to_owned(), user_id.clone());

    let summary = reconcile_pausing_at(&stack, "AdminDisableUser", move || {
        block_on(
            client
                .admin_set_user_password()
                .user_pool_id(pool)
                .username(id)
                .password(DEMO_PASSWORD)
                .permanent(true)
                .send(),
        )
        .unwrap();
    })
    .await;

    assert_eq!(summary.repaired.stranded_users_deleted, 0);
    let user = stack.cognito_user(&user_id).await.expect("a user who signed in is never deleted");
    assert!(!user.is_unverified());
    assert!(user.enabled, "enabled again by the reconciler that backed off");
    assert!(summary.reported.users_without_membership >= 1, "reported for a person");
}

/// A record of the members table that is not a membership (written by hand, or by a bug)
/// used to fail every pass. It is passed over and reported, the rest of the pass done, and
/// the pass's metrics line (which the template's alarms watch) counts it.
#[tokio::test]
async fn a_malformed_record_is_reported_and_passed_over_and_counted_in_the_metrics() {
    let stack = TestStack::seeded().await;
    let client = stack.deps.store.client();
    client
        .put_item()
        .table_name(&stack.deps.config.tables.members)
        .item("orgId", aws_sdk_dynamodb::types::AttributeValue::S(ACME.into()))
        .item("userId", aws_sdk_dynamodb::types::AttributeValue::S("half-written".into()))
        .send()
        .await
        .unwrap();
    let later = shared::time::now()
        + chrono::Duration::from_std(stack.deps.config.lease).unwrap()
        + chrono::Duration::seconds(1);

    let summary = Box::pin(reconcile(&stack.deps, later, Duration::ZERO)).await.expect("the pass is not failed by it");

    assert_eq!(summary.reported.malformed_records, 1);
    assert!(summary.checked.members > 0, "the other memberships were checked");
    let metrics: serde_json::Value = serde_json::from_str(&reconciler::metrics_line(&summary, later)).unwrap();
    assert_eq!(metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"], "MembersApi");
    assert_eq!(metrics["_aws"]["Timestamp"], later.timestamp_millis());
    assert_eq!(metrics["MalformedRecords"], 1);
    assert_eq!(metrics["RepairFailures"], summary.reported.failures);
    let named: Vec<&str> = metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    for name in named {
        assert!(metrics[name].is_number(), "{name} has a value");
    }
}

//! The reconciler against the emulator: what dead requests left behind, converged once their
//! lease has lapsed; what needs a person, reported and left alone; nothing touched twice,
//! and nothing touched while requests are at work.

use members_tests::faults::{Fault, When};
use members_tests::seed::{ACME, ACME_INVITEE, ACME_INVITEE_2, ACME_INVITEE_3, DEMO_PASSWORD, GLOBEX, GLOBEX_INVITEE};
use members_tests::workload::{self, Settings};
use members_tests::{SharedInterceptor, TestStack, fixture, fixture_with};
use reconciler::{Repaired, reconcile};
use shared::domain::AuditAction;
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

//! The reconciler against the emulator: what dead requests left behind, converged once their
//! lease has lapsed; what needs a person, reported and left alone; nothing touched twice,
//! and nothing touched while requests are at work.

use members_tests::faults::{Fault, When};
use members_tests::seed::{ACME, ACME_INVITEE, ACME_INVITEE_2, ACME_INVITEE_3, DEMO_PASSWORD, GLOBEX, GLOBEX_INVITEE};
use members_tests::workload::{self, Settings};
use members_tests::{TestStack, fixture, fixture_with};
use reconciler::{Repaired, reconcile};
use shared::domain::AuditAction;
use shared::ports::prelude::*;
use std::time::Duration;

#[tokio::test]
async fn what_dead_requests_left_is_converged_and_what_needs_a_person_reported() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    // A cancel of Carol died after deleting her, before its transaction.
    let dies = stack.instance().dynamo(Fault::new("TransactWriteItems", When::BeforeSending, 1)).deps();
    Box::pin(cancel_invitation::handle(&dies, fixture("cancel-invitation/admin-cancels-unverified.json")))
        .await
        .unwrap();
    // A cancel of Dan died after disabling him.
    let dies = stack
        .instance()
        .cognito(Fault::after("AdminGetUser", When::BeforeSending, 1, 1))
        .cognito(Fault::new("AdminEnableUser", When::BeforeSending, 1))
        .deps();
    let dan = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
        members_tests::retarget(e, ACME_INVITEE_2.user_id)
    });
    Box::pin(cancel_invitation::handle(&dies, dan)).await.unwrap();
    // A resend to Erin went out; its entry could not be written.
    let dies = stack.instance().dynamo(Fault::new("PutItem", When::BeforeSending, 1)).deps();
    let erin = fixture_with("resend-invitation/admin-resends-invitation.json", |e| {
        members_tests::retarget(e, ACME_INVITEE_3.user_id)
    });
    assert_eq!(Box::pin(resend_invitation::handle(&dies, erin)).await.unwrap().status(), 202);
    // An invitation (phone and email) died between Cognito and DynamoDB, and could not undo.
    let dies = stack
        .instance()
        .cognito(Fault::new("AdminDeleteUser", When::BeforeSending, 1))
        .dynamo(Fault::invitation_commit(When::BeforeSending))
        .deps();
    Box::pin(invite_user::handle(&dies, fixture("invite-user/admin-invites-member.json"))).await.unwrap();
    let stranded = stack.users_with_phone("+447700900106").await;
    assert_eq!(stranded.len(), 1);
    // A suspension of Bob committed; Cognito never disabled him (every attempt failed).
    let dies = stack.instance().cognito(Fault::new("AdminDisableUser", When::BeforeSending, 10)).deps();
    let suspended = Box::pin(suspend_member::handle(&dies, fixture("suspend-member/admin-suspends-verified.json")));
    assert_eq!(suspended.await.unwrap().status(), 503);
    // A promotion of Yan committed; Cognito never added him to the group.
    stack.admit(ACME, "acme-yan", shared::domain::Role::Member).await;
    let dies = stack.instance().cognito(Fault::new("AdminAddUserToGroup", When::BeforeSending, 10)).deps();
    let yan = fixture_with("change-member-role/admin-promotes-member.json", |e| members_tests::retarget(e, "acme-yan"));
    assert_eq!(Box::pin(change_member_role::handle(&dies, yan)).await.unwrap().status(), 503);
    // A removal of Zed was decided; his user could not be deleted.
    stack.admit(ACME, "acme-zed", shared::domain::Role::Member).await;
    let dies = stack.instance().cognito(Fault::new("AdminDeleteUser", When::BeforeSending, 10)).deps();
    let zed = fixture_with("remove-member/admin-removes-verified.json", |e| members_tests::retarget(e, "acme-zed"));
    assert_eq!(Box::pin(remove_member::handle(&dies, zed)).await.unwrap().status(), 503);
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
    let early = Box::pin(reconcile(deps, shared::time::now())).await.unwrap();
    assert_eq!(early.repaired, Repaired::default());

    let later =
        shared::time::now() + chrono::Duration::from_std(deps.config.lease).unwrap() + chrono::Duration::seconds(1);
    let summary = Box::pin(reconcile(deps, later)).await.unwrap();
    println!("{}", serde_json::to_string(&summary).unwrap());

    assert_eq!(
        summary.repaired,
        Repaired {
            cancels_finished: 1,
            cancels_undone: 1,
            resends_logged: 1,
            stranded_users_deleted: 1,
            reservations_removed: 2,
            changes_followed: 2,
            removals_finished: 1,
        }
    );
    let bob = stack.member(ACME, "acme-bob").await.unwrap();
    assert_eq!((bob.status, bob.change_pending), (shared::domain::MemberStatus::Suspended, None));
    assert!(!stack.cognito_user("acme-bob").await.unwrap().enabled, "Cognito follows the suspension");
    assert!(stack.member(ACME, "acme-zed").await.is_none() && stack.cognito_user("acme-zed").await.is_none());
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Removed).await.len(), 1);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Suspended).await.len(), 1);
    assert_eq!(stack.groups_of("acme-yan").await, ["org-admin"], "Cognito follows the promotion");
    assert_eq!(summary.reported, reconciler::Reported::default(), "nothing pending wants a person");
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

    let again = Box::pin(reconcile(deps, later)).await.unwrap();
    assert_eq!(again.repaired, Repaired::default(), "idempotent");
    assert_eq!(
        (again.checked.members, again.checked.reservations),
        (0, 0),
        "what was repaired left the pending-work indexes"
    );
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.len(), 1);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::ResentInvite).await.len(), 1);

    // What no pending work explains is the daily drift audit's to report.
    let drift = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();
    assert_eq!(drift.ghosts, 1, "Hank");
    assert_eq!(drift.users_without_membership, 1, "by-hand");
    assert_eq!((drift.members_enabled, drift.failures, drift.malformed_records), (0, 0, 0));
    assert!(stack.member(GLOBEX, GLOBEX_INVITEE.user_id).await.is_some(), "a ghost is reported, not removed");
    assert!(stack.cognito_user_exists("by-hand").await, "the drift audit deletes nothing");
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
                reconcile(&deps, shared::time::now()).await.expect("a pass");
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
    let dies = stack
        .instance()
        .cognito(Fault::new("AdminDeleteUser", When::BeforeSending, 1))
        .dynamo(Fault::invitation_commit(When::BeforeSending))
        .deps();
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
    let paused = stack.instance().cognito(pause).deps();
    let later = shared::time::now()
        + chrono::Duration::from_std(stack.deps.config.lease).unwrap()
        + chrono::Duration::seconds(1);
    Box::pin(reconcile(&paused, later)).await.unwrap()
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
/// with pending work on it, used to fail every pass. It is passed over and reported, the
/// rest of the pass done, and the pass's metrics line (which the template's alarms watch)
/// counts it; the drift audit, reading the table whole, reports it too.
#[tokio::test]
async fn a_malformed_record_is_reported_and_passed_over_and_counted_in_the_metrics() {
    let stack = TestStack::seeded().await;
    let client = stack.deps.store.client();
    let text = |value: &str| aws_sdk_dynamodb::types::AttributeValue::S(value.into());
    client
        .put_item()
        .table_name(&stack.deps.config.tables.members)
        .item("orgId", text(ACME))
        .item("userId", text("half-written"))
        .item("pendingWork", text(shared::store::pending::PENDING))
        .item("pendingSince", text("2026-01-01T00:00:00.000Z"))
        .send()
        .await
        .unwrap();
    // And a resend whose entry could not be written: the rest of the pass's work.
    let dies = stack.instance().dynamo(Fault::new("PutItem", When::BeforeSending, 1)).deps();
    let erin = fixture_with("resend-invitation/admin-resends-invitation.json", |e| {
        members_tests::retarget(e, ACME_INVITEE_3.user_id)
    });
    assert_eq!(Box::pin(resend_invitation::handle(&dies, erin)).await.unwrap().status(), 202);
    let later = shared::time::now()
        + chrono::Duration::from_std(stack.deps.config.lease).unwrap()
        + chrono::Duration::seconds(1);

    let summary = Box::pin(reconcile(&stack.deps, later)).await.expect("the pass is not failed by it");

    assert_eq!(summary.reported.malformed_records, 1);
    assert_eq!(summary.repaired.resends_logged, 1, "the rest of the pass was done");
    let metrics: serde_json::Value = serde_json::from_str(&reconciler::metrics_line(&summary, later)).unwrap();
    assert_eq!(metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"], "MembersApi");
    assert_eq!(metrics["_aws"]["Timestamp"], later.timestamp_millis());
    assert_eq!(metrics["Function"], "reconciler");
    assert_eq!(metrics["MalformedRecords"], 1);
    assert_eq!(metrics["RepairFailures"], summary.reported.failures);
    assert_eq!(metrics["Repaired"], 1);
    let named: Vec<&str> = metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 4);
    for name in named {
        assert!(metrics[name].is_number(), "{name} has a value");
    }

    let drift = Box::pin(drift_audit::audit(&stack.deps, Duration::ZERO)).await.expect("nor the audit");
    assert_eq!(drift.malformed_records, 1);
    assert!(drift.members_checked > 0, "the other memberships were checked");
    let metrics: serde_json::Value = serde_json::from_str(&drift_audit::metrics_line(&drift, later)).unwrap();
    assert_eq!((metrics["Function"].as_str(), metrics["MalformedRecords"].as_u64()), (Some("drift-audit"), Some(1)));
}

/// A pass reads pending work and nothing else: no `ListUsers`, no `Scan`, and the same two
/// index queries whether the organisation holds a handful of members or hundreds more. Its
/// calls grow with the lapsed work it finds, by a fixed few for each.
#[tokio::test]
async fn a_pass_costs_what_is_pending_not_what_is_kept() {
    let stack = TestStack::seeded().await;
    let (cognito, dynamo) = (members_tests::faults::Calls::new(), members_tests::faults::Calls::new());
    let watched = stack.instance().cognito(cognito.clone()).dynamo(dynamo.clone()).deps();
    let pass = async || {
        cognito.reset();
        dynamo.reset();
        let later = shared::time::now()
            + chrono::Duration::from_std(stack.deps.config.lease).unwrap()
            + chrono::Duration::seconds(1);
        let summary = Box::pin(reconcile(&watched, later)).await.unwrap();
        (summary, cognito.total(), dynamo.count("Query"), dynamo.total())
    };

    let (small, cognito_small, queries_small, dynamo_small) = pass().await;
    members_tests::seed::many_members(&stack.deps, ACME, 300).await;
    let (large, cognito_large, queries_large, dynamo_large) = pass().await;

    assert_eq!((small.checked.members, small.checked.reservations), (0, 0));
    assert_eq!(large, small);
    assert_eq!((cognito_small, cognito_large), (0, 0), "nothing pending: Cognito is not asked");
    assert_eq!((queries_small, queries_large), (2, 2), "one query of each pending-work index");
    assert_eq!((dynamo_small, dynamo_large), (2, 2), "and nothing else: no Scan");

    // Three resends whose entries could not be written: three lapsed pieces of work.
    for user in [ACME_INVITEE.user_id, ACME_INVITEE_2.user_id, ACME_INVITEE_3.user_id] {
        let dies = stack.instance().dynamo(Fault::new("PutItem", When::BeforeSending, 1)).deps();
        let resend =
            fixture_with("resend-invitation/admin-resends-invitation.json", |e| members_tests::retarget(e, user));
        assert_eq!(Box::pin(resend_invitation::handle(&dies, resend)).await.unwrap().status(), 202);
    }
    // A pass takes on at most its budget; what it found beyond says so, for the next pass.
    let begun_before = shared::time::now() + chrono::Duration::seconds(1);
    let two = stack.deps.store.members_with_work_since_before(begun_before, 2).await.unwrap();
    assert_eq!((two.found.len(), two.more), (2, true));
    let all = stack.deps.store.members_with_work_since_before(begun_before, 10).await.unwrap();
    assert_eq!((all.found.len(), all.more), (3, false));

    let (pending, cognito_pending, queries_pending, dynamo_pending) = pass().await;
    assert_eq!(pending.repaired.resends_logged, 3);
    assert_eq!(cognito_pending, 0, "a resend's entry needs no Cognito call");
    assert_eq!(queries_pending, 2);
    assert_eq!(dynamo.count("Scan"), 0);
    // For each: read it (GetItem), the entry (PutItem), the resend cleared (UpdateItem),
    // and out of the index (UpdateItem).
    assert_eq!(dynamo_pending, 2 + 3 * 4, "{:?}", dynamo);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::ResentInvite).await.len(), 3);
}

/// An entry of `action` on `member`, begun at `at`.
fn entry(
    member: &shared::domain::Member,
    action: AuditAction,
    at: shared::time::Timestamp,
) -> shared::domain::AuditEntry {
    shared::domain::AuditEntry {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: member.org_id.clone(),
        action,
        occurred_at: at,
        actor_id: "admin".into(),
        actor_name: "Admin".into(),
        target_id: member.user_id.to_string(),
        target_name: member.name.clone(),
        request_id: "req".into(),
        source_ip: "203.0.113.1".into(),
        user_agent: "test".into(),
        role_change: None,
    }
}

/// Two pieces of work on one membership: a resend begun two hours ago, whose entry was
/// never written, and a cancel begun now. The membership's place among pending work is the
/// older one's; a pass then finishes the resend, finds the cancel not lapsed, and moves the
/// membership to the cancel's start, so that passes before that read nothing; the pass
/// after the cancel's lease lapsed undoes it (the user is still there), and the membership
/// leaves the index.
#[tokio::test]
async fn a_membership_with_two_pieces_of_work_is_taken_up_when_each_lapses() {
    let stack = TestStack::seeded().await;
    let (deps, lease) = (&stack.deps, chrono::Duration::from_std(stack.deps.config.lease).unwrap());
    let carol = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    let now = shared::time::now();
    let resend = entry(&carol, AuditAction::ResentInvite, now - chrono::Duration::hours(2));
    let claimed = deps.store.claim_resend(&carol, resend.occurred_at, Duration::from_secs(60), &resend).await;
    assert_eq!(claimed.unwrap(), shared::ports::Cooldown::Claimed);
    let cancel = entry(&carol, AuditAction::CanceledInvite, now);
    assert_eq!(deps.store.mark_cancel_pending(&carol, &cancel, false).await.unwrap(), shared::ports::Outcome::Done);

    let first = Box::pin(reconcile(deps, now + chrono::Duration::seconds(1))).await.unwrap();
    assert_eq!(first.checked.members, 1);
    assert_eq!(first.repaired.resends_logged, 1);
    assert_eq!(first.repaired.cancels_undone, 0, "the cancel has not lapsed");
    let second = Box::pin(reconcile(deps, now + chrono::Duration::seconds(2))).await.unwrap();
    assert_eq!(second.checked.members, 0, "placed at the cancel's start now");

    let after = now + lease + chrono::Duration::seconds(1);
    let third = Box::pin(reconcile(deps, after)).await.unwrap();
    assert_eq!((third.checked.members, third.repaired.cancels_undone), (1, 1));
    let fourth = Box::pin(reconcile(deps, after)).await.unwrap();
    assert_eq!(fourth.checked.members, 0, "nothing pending: out of the index");
    let carol = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    assert!(carol.cancel_pending.is_none() && carol.resend_pending.is_none());
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::ResentInvite).await.len(), 1);
    assert!(stack.cognito_user_exists(ACME_INVITEE.user_id).await);
}

/// The write that takes a membership out of the index after its work is done can be lost
/// (the process dies between the two writes): the membership stays in the index with
/// nothing pending. The pass that meets it takes it out, and repairs nothing.
#[tokio::test]
async fn a_membership_left_in_the_index_with_nothing_pending_is_taken_out() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let carol = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    let cancel = entry(&carol, AuditAction::CanceledInvite, shared::time::now());
    deps.store.mark_cancel_pending(&carol, &cancel, false).await.unwrap();
    // The cancel is cleared by a write that loses its second one.
    let dies = stack.instance().dynamo(Fault::after("UpdateItem", When::BeforeSending, 1, 1)).deps();
    assert!(dies.store.clear_cancel_pending(&carol, &cancel.id).await.is_err(), "the second write failed");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().cancel_pending.is_none());
    let later =
        shared::time::now() + chrono::Duration::from_std(deps.config.lease).unwrap() + chrono::Duration::seconds(1);

    let first = Box::pin(reconcile(deps, later)).await.unwrap();
    assert_eq!(first.checked.members, 1, "still in the index");
    assert_eq!(first.repaired, Repaired::default());
    let second = Box::pin(reconcile(deps, later)).await.unwrap();
    assert_eq!(second.checked.members, 0, "taken out");
}

/// Finishing a dead cancel, the reconciler's transaction commits but its answer is lost: it
/// reads its own audit entry (by the transaction's token) to know it committed, and reports
/// the cancel finished, with one entry, not a failure to be retried.
#[tokio::test]
async fn a_finishing_transaction_whose_answer_is_lost_is_known_committed_by_its_entry() {
    let stack = TestStack::seeded().await;
    let dies = stack.instance().dynamo(Fault::new("TransactWriteItems", When::BeforeSending, 1)).deps();
    Box::pin(cancel_invitation::handle(&dies, fixture("cancel-invitation/admin-cancels-unverified.json")))
        .await
        .unwrap();
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.is_some(), "the cancel died before its transaction");

    let calls = members_tests::faults::Calls::new();
    let losing = stack
        .instance()
        .dynamo(Fault::new("TransactWriteItems", When::AfterServerAnswered, 1))
        .dynamo(calls.clone())
        .deps();
    let later = shared::time::now()
        + chrono::Duration::from_std(stack.deps.config.lease).unwrap()
        + chrono::Duration::seconds(1);
    let summary = Box::pin(reconcile(&losing, later)).await.unwrap();

    assert_eq!(summary.repaired.cancels_finished, 1, "{}", serde_json::to_string(&summary).unwrap());
    let audit_reads = calls.requests("GetItem");
    assert!(
        audit_reads.iter().any(|read| read["TableName"].as_str().is_some_and(|t| t.ends_with("-AuditTable"))),
        "the entry was read back"
    );
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.is_none());
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.len(), 1);
}

//! The drift audit against the emulator: what no pending work explains, repaired where that
//! is safe and reported where it wants a person; nothing deleted.

use members_tests::TestStack;
use members_tests::seed::{ACME, ACME_ADMIN, ACME_INVITEE, ACME_INVITEE_3, ACME_VERIFIED};
use shared::domain::{AuditAction, MemberStatus};
use shared::ports::prelude::*;
use shared::ports::{Directory, Outcome};
use std::time::Duration;

/// Carol signed in while a cancel of her was at work: the cancel had disabled her, saw her
/// confirmed, and died before enabling her again; her sign-in's trigger cleared the pending
/// cancel. She is a verified member nobody can sign in as, with no pending work left for
/// the reconciler. The audit enables her. Bob, disabled by an operator, is reported and left
/// disabled.
#[tokio::test]
async fn a_verified_member_a_dead_cancel_disabled_is_enabled_and_one_disabled_by_an_operator_is_reported() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let carol = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    let actor = shared::domain::Actor { id: "admin".into(), org_id: ACME.into(), name: "Admin".into() };
    let meta = shared::domain::RequestMeta::default();
    let cancel =
        shared::domain::AuditEntry::new(AuditAction::CanceledInvite, &actor, &meta, &carol, shared::time::now());
    assert_eq!(deps.store.mark_cancel_pending(&carol, &cancel, true).await.unwrap(), Outcome::Done);
    assert!(deps.directory.disable(ACME_INVITEE.user_id).await.unwrap());
    members_tests::seed::confirm(deps, &ACME_INVITEE).await.unwrap();
    let carol = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    assert_eq!(carol.status, MemberStatus::Verified);
    assert!(carol.cancel_pending.is_none() && carol.disabled_by.is_some(), "the state the dead cancel left");
    assert!(deps.directory.disable(ACME_VERIFIED.user_id).await.unwrap(), "an operator disables Bob");

    let drift = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();

    assert_eq!(drift.members_enabled, 1);
    assert_eq!(drift.disabled_members, 1, "Bob");
    assert_eq!(drift.failures, 0);
    assert!(stack.cognito_user(ACME_INVITEE.user_id).await.unwrap().enabled, "Carol can sign in again");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().disabled_by.is_none());
    assert!(!stack.cognito_user(ACME_VERIFIED.user_id).await.unwrap().enabled, "Bob is the operator's to enable");
    let metrics: serde_json::Value =
        serde_json::from_str(&drift_audit::metrics_line(&drift, shared::time::now())).unwrap();
    assert_eq!((metrics["Repaired"].as_u64(), metrics["ReportedDrift"].as_u64()), (Some(1), Some(1)));

    let again = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();
    assert_eq!((again.members_enabled, again.disabled_members), (0, 1), "idempotent");
}

/// An invitation under way has a user and no membership yet: its reservation explains it,
/// and the audit does not report it. The same user without the reservation is reported,
/// and never deleted.
#[tokio::test]
async fn a_user_whose_invitation_holds_a_reservation_is_not_drift() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let user_id = shared::domain::UserId::parse("in-flight-1").unwrap();
    let phone = "+447700900177";
    let contacts = [shared::domain::Contact::Phone(phone.to_owned())];
    let reserved = deps.store.reserve_contacts(&user_id, ACME, &contacts, shared::time::now()).await.unwrap();
    assert_eq!(reserved, shared::ports::Reservation::Reserved);
    deps.directory
        .client()
        .admin_create_user()
        .user_pool_id(deps.directory.user_pool_id())
        .username(user_id.as_str())
        .user_attributes(
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                .name("phone_number")
                .value(phone)
                .build()
                .unwrap(),
        )
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
        .unwrap();

    let under_way = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();
    assert_eq!(under_way.users_without_membership, 0);

    deps.store.release_contacts(&user_id, &contacts).await.unwrap();
    let left = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();
    assert_eq!(left.users_without_membership, 1);
    assert!(stack.cognito_user_exists(user_id.as_str()).await, "reported, never deleted");
}

/// Erin's invitation made her an administrator, but its `AdminAddUserToGroup` failed after
/// the membership committed; Bob, a plain member, was put in the administrators' group by
/// hand. The audit gives Erin the group and takes Bob out: the role the console shows is
/// what the API judges by.
#[tokio::test]
async fn the_administrators_group_is_made_to_follow_the_role() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let group = deps.config.admin_group.clone();
    assert!(stack.groups_of(ACME_INVITEE_3.user_id).await.contains(&group), "the seed gave Erin the group");
    deps.directory.remove_from_group(ACME_INVITEE_3.user_id, &group).await.unwrap();
    deps.directory.add_to_group(ACME_VERIFIED.user_id, &group).await.unwrap();

    let drift = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();

    assert_eq!(drift.groups_repaired, 2);
    assert_eq!(drift.failures, 0);
    assert!(stack.groups_of(ACME_INVITEE_3.user_id).await.contains(&group), "Erin is an administrator");
    assert!(!stack.groups_of(ACME_VERIFIED.user_id).await.contains(&group), "Bob is not");
    assert!(stack.groups_of(ACME_ADMIN.user_id).await.contains(&group), "Ada untouched");
    let again = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();
    assert_eq!(again.groups_repaired, 0, "idempotent");
}

/// A membership written before the pending-work index existed: a cancel pending on it, no
/// place in the index, so the reconciler never meets it. The drift audit places it, and the
/// next pass after its lease finishes the work.
#[tokio::test]
async fn pending_work_from_before_the_index_is_placed_in_it_for_the_reconciler() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let carol = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    let actor = shared::domain::Actor { id: "admin".into(), org_id: ACME.into(), name: "Admin".into() };
    let meta = shared::domain::RequestMeta::default();
    let begun = shared::time::now() - chrono::Duration::hours(1);
    let cancel = shared::domain::AuditEntry::new(AuditAction::CanceledInvite, &actor, &meta, &carol, begun);
    deps.store.mark_cancel_pending(&carol, &cancel, false).await.unwrap();
    deps.store
        .client()
        .update_item()
        .table_name(&deps.config.tables.members)
        .key("orgId", aws_sdk_dynamodb::types::AttributeValue::S(ACME.into()))
        .key("userId", aws_sdk_dynamodb::types::AttributeValue::S(ACME_INVITEE.user_id.into()))
        .update_expression("REMOVE pendingWork, pendingSince")
        .send()
        .await
        .unwrap();
    let now = shared::time::now();
    assert_eq!(Box::pin(reconciler::reconcile(deps, now)).await.unwrap().checked.members, 0, "not found");

    let drift = Box::pin(drift_audit::audit(deps, Duration::ZERO)).await.unwrap();
    assert_eq!(drift.pending_indexed, 1);

    let pass = Box::pin(reconciler::reconcile(deps, now)).await.unwrap();
    assert_eq!((pass.checked.members, pass.repaired.cancels_undone), (1, 1), "Carol is still in the pool");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().cancel_pending.is_none());
}

/// A pass goes on across runs: each run reads at most its budget of pages and saves where it
/// stopped; the next goes on from there, and the pass's findings are those of one whole
/// pass. Once the pass is over, runs do nothing until the next is due.
#[tokio::test]
async fn a_pass_goes_on_across_runs_from_its_saved_position() {
    let stack = TestStack::seeded().await;
    let deps = &stack.deps;
    let group = deps.config.admin_group.clone();
    deps.directory.add_to_group(ACME_VERIFIED.user_id, &group).await.unwrap();
    members_tests::seed::many_members(deps, ACME, 150).await; // two pages of memberships
    let one_page = drift_audit::Budget { pages: Some(1), ..drift_audit::Budget::unlimited() };
    let day = chrono::Duration::hours(24);
    let run = || drift_audit::run(deps, Duration::ZERO, Duration::ZERO, one_page, day);

    let mut runs = Vec::new();
    loop {
        let drift = Box::pin(run()).await.unwrap();
        assert!(drift.pages <= 1, "{drift:?}");
        runs.push(drift.clone());
        if drift.finished {
            break;
        }
        assert!(runs.len() < 10, "the pass ends");
    }
    assert!(runs[0].began && runs[1..].iter().all(|d| !d.began), "{runs:?}");
    assert!(runs.len() >= 3, "two pages of members, one of users at least: {runs:?}");
    let members = stack.deps.store.all_members().await.unwrap().len();
    let users = stack.deps.directory.all_users().await.unwrap().len();
    assert_eq!(runs.iter().map(|d| d.members_checked).sum::<usize>(), members, "each membership once");
    assert_eq!(runs.iter().map(|d| d.users_checked).sum::<usize>(), users, "each user once");
    assert_eq!(runs.iter().map(|d| d.groups_repaired).sum::<usize>(), 1, "Bob taken out of the group");
    assert!(!stack.groups_of(ACME_VERIFIED.user_id).await.contains(&group));

    let idle = Box::pin(run()).await.unwrap();
    assert_eq!((idle.began, idle.pages), (false, 0), "the pass is over and the next not yet due");
    let next_day = drift_audit::run(deps, Duration::ZERO, Duration::ZERO, one_page, chrono::Duration::zero());
    assert!(Box::pin(next_day).await.unwrap().began, "a pass begins when due");
}

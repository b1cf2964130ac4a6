//! The cancel rule on the ports in memory (`shared::fakes`): what it decides and the order
//! of its calls, in milliseconds. The same stories against the emulator, through the real
//! SDK clients, with faults and races, are in `tests/tests/emulator/cancel_invitation.rs`.

use cancel_invitation::cancel_invitation;
use shared::ApiError;
use shared::domain::{AuditAction, Member, MemberStatus, Role, UserId};
use shared::fakes::{self, FakeDirectory, FakeStore};
use shared::ports::UserState;

const ORG: &str = "acme";
const PHONE: &str = "+447700900123";

fn invitee(deps: &shared::Deps<FakeDirectory, FakeStore>, id: &str) -> UserId {
    let user_id = UserId::parse(id).unwrap();
    let member = Member::new(ORG, user_id.clone(), "Ivy Invitee", Role::Member, MemberStatus::Unverified)
        .reached_at(Some(PHONE.into()), None)
        .invited("admin-1", deps.config.clock.now());
    deps.store.put_member(member);
    deps.directory.put_invited(id, ORG, PHONE);
    user_id
}

async fn cancel(deps: &shared::Deps<FakeDirectory, FakeStore>, org: &str, target: &UserId) -> Result<(), ApiError> {
    let request = fakes::admitted(fakes::caller(org, "admin-1", true), target.clone(), deps.config.clock.now());
    cancel_invitation(deps, &request).await
}

#[tokio::test]
async fn an_unverified_invitee_is_deleted_after_the_entry_is_recorded_and_the_user_disabled() {
    let deps = fakes::deps();
    let target = invitee(&deps, "ivy");
    cancel(&deps, ORG, &target).await.unwrap();

    assert_eq!(
        deps.store.journal().calls_to(&["directory.", "store.get_member", "store.mark_", "store.remove"]),
        [
            "store.get_member",
            "directory.get_user ivy",
            "store.mark_cancel_pending",
            "directory.disable ivy",
            "directory.get_user ivy",
            "directory.delete ivy",
            "store.remove_member_with_audit",
        ]
    );
    assert!(deps.directory.user("ivy").is_none());
    assert!(deps.store.member(ORG, "ivy").is_none());
    assert!(deps.store.claims().is_empty(), "the phone can be invited again");
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AuditAction::CanceledInvite);
    assert_eq!(log[0].target_id, "ivy");
}

#[tokio::test]
async fn a_verified_member_is_refused_and_never_disabled_or_deleted() {
    let deps = fakes::deps();
    let target = invitee(&deps, "vera");
    deps.directory
        .put(shared::ports::DirectoryUser { status: UserState::Confirmed, ..deps.directory.user("vera").unwrap() });
    assert!(matches!(cancel(&deps, ORG, &target).await, Err(ApiError::AlreadyVerified)));
    assert!(deps.store.journal().calls_to(&["directory.disable", "directory.delete"]).is_empty());
    assert_eq!(deps.store.member(ORG, "vera").unwrap().status, MemberStatus::Verified, "the mirror corrected");
    only_accepted(&deps);
}

#[tokio::test]
async fn an_invitee_who_verifies_while_being_disabled_is_enabled_again_and_kept() {
    let deps = fakes::deps();
    let target = invitee(&deps, "quick");
    deps.directory.after("disable", |users| users.get_mut("quick").unwrap().status = UserState::Confirmed);
    assert!(matches!(cancel(&deps, ORG, &target).await, Err(ApiError::AlreadyVerified)));
    let user = deps.directory.user("quick").expect("never deleted");
    assert!(user.enabled, "enabled again");
    let member = deps.store.member(ORG, "quick").expect("kept");
    assert_eq!(member.status, MemberStatus::Verified);
    assert_eq!(member.disabled_by, None);
    only_accepted(&deps);
}

#[tokio::test]
async fn another_organisations_invitee_is_not_found_and_untouched() {
    let deps = fakes::deps();
    let target = invitee(&deps, "ivy");
    assert!(matches!(cancel(&deps, "globex", &target).await, Err(ApiError::NotFound)));
    assert!(deps.store.journal().calls_to(&["directory."]).is_empty(), "Cognito never asked");
    assert!(deps.store.member(ORG, "ivy").is_some());
}

#[tokio::test]
async fn a_delete_without_an_answer_enables_the_invitee_again_and_the_retry_writes_one_entry() {
    let deps = fakes::deps();
    let target = invitee(&deps, "ivy");
    deps.directory.fail("delete");
    assert!(matches!(cancel(&deps, ORG, &target).await, Err(ApiError::Unavailable(_))));
    assert!(deps.directory.user("ivy").unwrap().enabled, "left as found");
    assert!(deps.store.member(ORG, "ivy").unwrap().cancel_pending.is_some(), "the entry is recorded");
    assert!(deps.store.audit_entries(ORG).is_empty());

    cancel(&deps, ORG, &target).await.unwrap();
    assert!(deps.directory.user("ivy").is_none());
    assert_eq!(deps.store.audit_entries(ORG).len(), 1, "one entry for one cancel");
}

#[tokio::test]
async fn the_transaction_failing_after_the_delete_leaves_the_entry_pending_for_the_next_call() {
    let deps = fakes::deps();
    let target = invitee(&deps, "ivy");
    deps.store.fail("remove_member_with_audit");
    assert!(matches!(cancel(&deps, ORG, &target).await, Err(ApiError::Unavailable(_))));
    assert!(deps.directory.user("ivy").is_none(), "deleted");
    let pending = deps.store.member(ORG, "ivy").unwrap().cancel_pending.expect("still pending");
    assert!(deps.store.audit_entries(ORG).is_empty());

    cancel(&deps, ORG, &target).await.unwrap();
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.iter().map(|entry| &entry.id).collect::<Vec<_>>(), [&pending.id]);
    assert!(deps.store.member(ORG, "ivy").is_none());
}

/// The log holds the member's own acceptance, learned by the cancel, and no cancel.
fn only_accepted(deps: &shared::Deps<fakes::FakeDirectory, fakes::FakeStore>) {
    let actions: Vec<_> = deps.store.audit_entries(ORG).iter().map(|entry| entry.action).collect();
    assert_eq!(actions, [AuditAction::AcceptedInvite]);
}

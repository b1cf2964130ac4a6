//! The suspension rule on the ports in memory (`shared::fakes`). Against the emulator:
//! `tests/tests/emulator/member_lifecycle.rs`.

use shared::ApiError;
use shared::domain::{AuditAction, Member, MemberStatus, Role, UserId};
use shared::fakes::{self, FakeDirectory, FakeStore, put_verified};
use suspend_member::suspend;

const ORG: &str = "acme";
type FakeDeps = shared::Deps<FakeDirectory, FakeStore>;

async fn suspend_as(deps: &FakeDeps, by: &str, target: &UserId) -> Result<Member, ApiError> {
    let request = fakes::admitted(fakes::caller(ORG, by, true), target.clone(), deps.config.clock.now());
    Box::pin(suspend(deps, &request)).await
}

#[tokio::test]
async fn a_verified_member_is_suspended_then_signed_out_and_disabled() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let bob = put_verified(&deps, ORG, "bob", Role::Member, "+447700900102");

    assert_eq!(suspend_as(&deps, "ada", &bob).await.unwrap().status, MemberStatus::Suspended);

    assert_eq!(
        deps.store.journal().calls_to(&["directory.", "store.change", "store.clear"]),
        [
            "store.change_member",
            "directory.remove_from_group bob",
            "directory.sign_out bob",
            "directory.disable bob",
            "store.clear_change_pending"
        ]
    );
    assert!(!deps.directory.user("bob").unwrap().enabled);
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.iter().map(|e| e.action).collect::<Vec<_>>(), [AuditAction::Suspended]);
}

#[tokio::test]
async fn refusals_change_nothing() {
    let deps = fakes::deps();
    let ada = put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let ivy = UserId::parse("ivy").unwrap();
    deps.store.put_member(Member::new(ORG, ivy.clone(), "Ivy", Role::Member, MemberStatus::Unverified));
    deps.directory.put_invited("ivy", ORG, "+447700900104");

    assert!(matches!(suspend_as(&deps, "ada", &ada).await, Err(ApiError::OwnMembership)));
    assert!(matches!(suspend_as(&deps, "ada", &ivy).await, Err(ApiError::NotVerified)));
    assert!(matches!(suspend_as(&deps, "ada", &UserId::parse("nobody").unwrap()).await, Err(ApiError::NotFound)));
    assert!(deps.store.journal().calls_to(&["directory.", "store.change"]).is_empty());
    assert!(deps.store.audit_entries(ORG).is_empty());
}

#[tokio::test]
async fn the_last_active_administrator_is_not_suspended_by_another_who_is_not_counted() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let gil = put_verified(&deps, ORG, "gil", Role::Admin, "+447700900103");
    assert!(suspend_as(&deps, "ada", &gil).await.is_ok());
    assert_eq!(deps.store.admins(ORG), 1);
    // Ada is now the last; a second suspension of a suspended one changes nothing.
    assert_eq!(suspend_as(&deps, "ada", &gil).await.unwrap().status, MemberStatus::Suspended);
    assert_eq!(deps.store.audit_entries(ORG).len(), 1);
}

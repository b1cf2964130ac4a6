//! The role rule on the ports in memory (`shared::fakes`): what it decides, the order of its
//! calls, and the count of active administrators, in milliseconds. Against the emulator,
//! with real clients, races and faults: `tests/tests/emulator/member_lifecycle.rs`.

use change_member_role::{RoleRequest, change_role};
use shared::ApiError;
use shared::config::DEFAULT_ADMIN_GROUP;
use shared::domain::{AuditAction, Role, RoleChange, UserId};
use shared::fakes::{self, FakeDirectory, FakeStore, put_verified};

const ORG: &str = "acme";
type FakeDeps = shared::Deps<FakeDirectory, FakeStore>;

async fn set_role(deps: &FakeDeps, by: &str, target: &UserId, role: Role) -> Result<Role, ApiError> {
    let target = RoleRequest { user_id: target.clone(), role };
    let request = fakes::admitted(fakes::caller(ORG, by, true), target, deps.config.clock.now());
    Box::pin(change_role(deps, &request)).await.map(|member| member.role)
}

#[tokio::test]
async fn a_promotion_commits_with_its_entry_and_count_then_the_group_follows() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let bob = put_verified(&deps, ORG, "bob", Role::Member, "+447700900102");

    assert_eq!(set_role(&deps, "ada", &bob, Role::Admin).await.unwrap(), Role::Admin);

    assert_eq!(
        deps.store.journal().calls_to(&["directory.", "store.get_member", "store.change", "store.clear"]),
        [
            "store.get_member",
            "store.change_member",
            "directory.add_to_group bob",
            "store.get_member",
            "store.clear_change_pending",
        ]
    );
    assert!(deps.directory.in_group("bob", DEFAULT_ADMIN_GROUP));
    assert_eq!(deps.store.admins(ORG), 2);
    let stored = deps.store.member(ORG, "bob").unwrap();
    assert_eq!((stored.role, stored.change_pending), (Role::Admin, None));
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AuditAction::ChangedRole);
    assert_eq!(log[0].role_change, Some(RoleChange { from: Role::Member, to: Role::Admin }));
}

#[tokio::test]
async fn the_last_active_administrator_cannot_be_demoted_and_nothing_changes() {
    let deps = fakes::deps();
    let ada = put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    assert!(matches!(set_role(&deps, "ada", &ada, Role::Member).await, Err(ApiError::LastAdmin)));
    assert_eq!(deps.store.member(ORG, "ada").unwrap().role, Role::Admin);
    assert!(deps.directory.in_group("ada", DEFAULT_ADMIN_GROUP));
    assert!(deps.store.audit_entries(ORG).is_empty());
    assert_eq!(deps.store.admins(ORG), 1);
}

#[tokio::test]
async fn an_administrator_demotes_themselves_while_another_remains_and_the_second_is_then_the_last() {
    let deps = fakes::deps();
    let ada = put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let gil = put_verified(&deps, ORG, "gil", Role::Admin, "+447700900103");
    assert_eq!(set_role(&deps, "ada", &ada, Role::Member).await.unwrap(), Role::Member);
    assert!(!deps.directory.in_group("ada", DEFAULT_ADMIN_GROUP));
    assert!(matches!(set_role(&deps, "gil", &gil, Role::Member).await, Err(ApiError::LastAdmin)));
    assert_eq!(deps.store.admins(ORG), 1);
}

#[tokio::test]
async fn the_role_a_member_has_changes_nothing_and_writes_no_entry() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let bob = put_verified(&deps, ORG, "bob", Role::Member, "+447700900102");
    assert_eq!(set_role(&deps, "ada", &bob, Role::Member).await.unwrap(), Role::Member);
    assert!(deps.store.journal().calls_to(&["store.change"]).is_empty());
    assert!(deps.store.audit_entries(ORG).is_empty());
}

#[tokio::test]
async fn another_organisations_member_is_not_found_and_untouched() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let gus = put_verified(&deps, "globex", "gus", Role::Member, "+447700900201");
    assert!(matches!(set_role(&deps, "ada", &gus, Role::Admin).await, Err(ApiError::NotFound)));
    assert!(deps.store.journal().calls_to(&["directory.", "store.change"]).is_empty());
}

#[tokio::test]
async fn a_group_call_that_fails_leaves_the_change_committed_and_pending_and_the_retry_finishes_it() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let bob = put_verified(&deps, ORG, "bob", Role::Member, "+447700900102");
    deps.directory.fail("add_to_group");

    assert!(matches!(set_role(&deps, "ada", &bob, Role::Admin).await, Err(ApiError::Unavailable(_))));
    let stored = deps.store.member(ORG, "bob").unwrap();
    assert_eq!(stored.role, Role::Admin, "the membership, the authority, changed first");
    assert!(stored.change_pending.is_some(), "the reconciler's to finish");
    assert!(!deps.directory.in_group("bob", DEFAULT_ADMIN_GROUP), "Cognito behind, never ahead");

    assert_eq!(set_role(&deps, "ada", &bob, Role::Admin).await.unwrap(), Role::Admin);
    assert!(deps.directory.in_group("bob", DEFAULT_ADMIN_GROUP));
    assert_eq!(deps.store.member(ORG, "bob").unwrap().change_pending, None);
    assert_eq!(deps.store.audit_entries(ORG).len(), 1, "one change, one entry");
}

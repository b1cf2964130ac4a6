//! The reactivation rule on the ports in memory (`shared::fakes`). Against the emulator:
//! `tests/tests/emulator/member_lifecycle.rs`.

use reactivate_member::reactivate;
use shared::ApiError;
use shared::domain::{AuditAction, MemberStatus, Role, UserId};
use shared::fakes::{self, FakeDirectory, FakeStore, put_verified};

const ORG: &str = "acme";
type FakeDeps = shared::Deps<FakeDirectory, FakeStore>;

async fn reactivate_as(deps: &FakeDeps, by: &str, target: &UserId) -> Result<MemberStatus, ApiError> {
    let request = fakes::admitted(fakes::caller(ORG, by, true), target.clone(), deps.config.clock.now());
    Box::pin(reactivate(deps, &request)).await.map(|member| member.status)
}

#[tokio::test]
async fn a_suspended_administrator_is_reactivated_enabled_and_counted_again() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let gil = put_verified(&deps, ORG, "gil", Role::Admin, "+447700900103");
    let mut member = deps.store.member(ORG, "gil").unwrap();
    member.status = MemberStatus::Suspended;
    deps.store.put_member(member);
    deps.directory.put(shared::ports::DirectoryUser { enabled: false, ..deps.directory.user("gil").unwrap() });
    let before = deps.store.admins(ORG);

    assert_eq!(reactivate_as(&deps, "ada", &gil).await.unwrap(), MemberStatus::Verified);
    assert!(deps.directory.user("gil").unwrap().enabled);
    assert_eq!(deps.store.admins(ORG), before + 1);
    assert_eq!(deps.store.member(ORG, "gil").unwrap().role, Role::Admin, "with the role they had");
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.iter().map(|e| e.action).collect::<Vec<_>>(), [AuditAction::Reactivated]);
}

#[tokio::test]
async fn a_member_who_is_not_suspended_is_refused_and_nothing_changes() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let bob = put_verified(&deps, ORG, "bob", Role::Member, "+447700900102");
    assert!(matches!(reactivate_as(&deps, "ada", &bob).await, Err(ApiError::NotSuspended)));
    assert!(deps.store.journal().calls_to(&["directory.", "store.change"]).is_empty());
    assert!(deps.store.audit_entries(ORG).is_empty());
}

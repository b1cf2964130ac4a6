//! The removal rule on the ports in memory (`shared::fakes`). Against the emulator:
//! `tests/tests/emulator/member_lifecycle.rs`.

use remove_member::remove;
use shared::ApiError;
use shared::domain::{AuditAction, Member, MemberStatus, Role, UserId};
use shared::fakes::{self, FakeDirectory, FakeStore, put_verified};

const ORG: &str = "acme";
type FakeDeps = shared::Deps<FakeDirectory, FakeStore>;

async fn remove_as(deps: &FakeDeps, by: &str, target: &UserId) -> Result<(), ApiError> {
    let request = fakes::admitted(fakes::caller(ORG, by, true), target.clone(), deps.config.clock.now());
    Box::pin(remove(deps, &request)).await
}

#[tokio::test]
async fn a_verified_member_is_decided_signed_out_deleted_then_removed_with_one_entry() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let bob = put_verified(&deps, ORG, "bob", Role::Member, "+447700900102");

    remove_as(&deps, "ada", &bob).await.unwrap();

    assert_eq!(
        deps.store.journal().calls_to(&["directory.", "store.mark_remove", "store.remove"]),
        [
            "directory.get_user bob",
            "store.mark_remove_pending",
            "directory.sign_out bob",
            "directory.delete bob",
            "store.remove_member_with_audit",
        ]
    );
    assert!(deps.directory.user("bob").is_none());
    assert!(deps.store.member(ORG, "bob").is_none());
    assert!(deps.store.claims().iter().all(|claim| claim.user_id != "bob"), "the phone can be invited again");
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.iter().map(|e| e.action).collect::<Vec<_>>(), [AuditAction::Removed]);
}

#[tokio::test]
async fn a_removal_that_dies_after_deciding_is_finished_by_the_next_with_the_same_entry() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    put_verified(&deps, ORG, "gil", Role::Admin, "+447700900103");
    let bob = put_verified(&deps, ORG, "bob", Role::Member, "+447700900102");
    deps.directory.fail("delete");

    assert!(matches!(remove_as(&deps, "ada", &bob).await, Err(ApiError::Unavailable(_))));
    let decided = deps.store.member(ORG, "bob").unwrap().remove_pending.expect("decided");
    assert!(deps.store.audit_entries(ORG).is_empty(), "written when the membership goes");

    remove_as(&deps, "gil", &bob).await.unwrap();
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].id.as_str(), log[0].actor_id.as_str()), (decided.id.as_str(), "ada"), "the first decision's");
    assert!(deps.directory.user("bob").is_none());
}

#[tokio::test]
async fn refusals_change_nothing() {
    let deps = fakes::deps();
    let ada = put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    let ivy = UserId::parse("ivy").unwrap();
    deps.store.put_member(Member::new(ORG, ivy.clone(), "Ivy", Role::Member, MemberStatus::Unverified));
    deps.directory.put_invited("ivy", ORG, "+447700900104");
    let gus = put_verified(&deps, "globex", "gus", Role::Member, "+447700900201");

    assert!(matches!(remove_as(&deps, "ada", &ada).await, Err(ApiError::OwnMembership)));
    assert!(matches!(remove_as(&deps, "ada", &ivy).await, Err(ApiError::NotVerified)));
    assert!(matches!(remove_as(&deps, "ada", &gus).await, Err(ApiError::NotFound)));
    assert!(deps.store.journal().calls_to(&["directory.sign_out", "directory.delete", "store.mark_remove"]).is_empty());
    assert!(deps.store.audit_entries(ORG).is_empty());
    assert!(deps.directory.user("gus").is_some());
}

#[tokio::test]
async fn the_last_active_administrator_is_never_removed() {
    let deps = fakes::deps();
    put_verified(&deps, ORG, "ada", Role::Admin, "+447700900101");
    // Gil is an administrator suspended: not active, so Ada is the last active one.
    let gil = put_verified(&deps, ORG, "gil", Role::Admin, "+447700900103");
    let mut suspended = deps.store.member(ORG, "gil").unwrap();
    suspended.status = MemberStatus::Suspended;
    deps.store.put_member(suspended);
    // Removing suspended Gil is allowed (he is not counted) ...
    remove_as(&deps, "ada", &gil).await.unwrap();
    assert!(deps.store.member(ORG, "gil").is_none());
    // ... and Ada, the last, can remove nobody into leaving none: she cannot remove herself.
    let ada = UserId::parse("ada").unwrap();
    assert!(matches!(remove_as(&deps, "ada", &ada).await, Err(ApiError::OwnMembership)));
}

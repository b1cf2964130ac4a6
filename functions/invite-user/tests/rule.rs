//! The invitation rule on the ports in memory (`shared::fakes`): what it decides and the
//! order of its calls, in milliseconds. Against the emulator, with faults and races:
//! `tests/tests/emulator/invite_user.rs` and `tests/tests/emulator/abuse_limits.rs`.

use invite_user::{Invitation, invite};
use shared::ApiError;
use shared::domain::{AuditAction, Email, MemberStatus, PersonName, Phone, Role, UserId};
use shared::fakes::{self, FakeDirectory, FakeStore};
use shared::ports::ClaimState;

const ORG: &str = "acme";
type Deps = shared::Deps<FakeDirectory, FakeStore>;

fn invitation(phone: &str, role: Role) -> Invitation {
    Invitation {
        name: PersonName::parse("Ivy Invitee").unwrap(),
        phone: Phone::parse(phone).unwrap(),
        email: Some(Email::parse("ivy@example.com").unwrap()),
        role,
    }
}

async fn invite_as(deps: &Deps, id: &str, invitation: &Invitation) -> Result<shared::domain::Member, ApiError> {
    let caller = fakes::caller(ORG, "admin-1", true);
    let user_id = UserId::parse(id).unwrap();
    invite(deps, &caller, &Default::default(), invitation, &user_id, deps.config.clock.now()).await
}

#[tokio::test]
async fn an_invitation_reserves_checks_takes_creates_grants_an_admin_the_group_then_commits() {
    let deps = fakes::deps();
    let member = invite_as(&deps, "ivy", &invitation("+447700900123", Role::Admin)).await.unwrap();
    assert_eq!(member.status, MemberStatus::Unverified);
    let calls = deps.store.journal().calls_to(&[
        "store.reserve_contacts",
        "directory.",
        "store.take",
        "store.add_member_with_audit",
    ]);
    assert_eq!(
        calls,
        [
            "store.reserve_contacts",
            "directory.users_with +447700900123",
            "directory.users_with ivy@example.com",
            "store.take",
            "directory.create_user ivy",
            "directory.add_to_group ivy",
            "store.add_member_with_audit",
        ]
    );
    assert!(deps.directory.in_group("ivy", &deps.config.admin_group));
    assert_eq!(deps.directory.messages(), ["ivy"]);
    assert!(deps.store.claims().iter().all(|claim| claim.state == ClaimState::Member && claim.user_id == "ivy"));
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AuditAction::Invited);
}

#[tokio::test]
async fn a_contact_another_member_holds_is_refused_before_cognito_is_asked() {
    let deps = fakes::deps();
    invite_as(&deps, "first", &invitation("+447700900123", Role::Member)).await.unwrap();
    let before = deps.store.journal().calls().len();
    let refused = invite_as(&deps, "second", &invitation("+447700900123", Role::Member)).await;
    assert!(matches!(refused, Err(ApiError::ContactInUse)), "{refused:?}");
    let after: Vec<String> = deps.store.journal().calls().split_off(before);
    assert!(!after.iter().any(|call| call.starts_with("directory.")), "{after:?}");
    assert!(deps.directory.user("second").is_none());
    assert_eq!(deps.store.audit_entries(ORG).len(), 1);
}

#[tokio::test]
async fn an_organisation_out_of_invitations_is_refused_with_nothing_sent_and_the_contacts_free() {
    let deps = fakes::deps();
    let limits = deps.config.limits.invitation(ORG, &Phone::parse("+447700900999").unwrap());
    let organisation = limits.into_iter().next().unwrap();
    for used in 0..organisation.allowed {
        let id = format!("u{used}");
        let taken =
            shared::ports::Quotas::take(&deps.store, std::slice::from_ref(&organisation), &id, deps.config.clock.now())
                .await;
        assert_eq!(taken.unwrap(), shared::quota::Allowance::Granted);
    }
    let refused = invite_as(&deps, "ivy", &invitation("+447700900123", Role::Member)).await;
    assert!(matches!(refused, Err(ApiError::InvitationQuota { .. })), "{refused:?}");
    assert!(deps.store.journal().calls_to(&["directory.create_user"]).is_empty(), "nothing sent");
    assert!(deps.store.claims().is_empty(), "the reservation given back");
}

#[tokio::test]
async fn a_failed_commit_deletes_the_user_and_gives_back_the_contacts_and_the_uses() {
    let deps = fakes::deps();
    deps.store.fail("add_member_with_audit");
    let failed = invite_as(&deps, "ivy", &invitation("+447700900123", Role::Member)).await;
    assert!(matches!(failed, Err(ApiError::Unavailable(_))), "{failed:?}");
    assert!(deps.directory.user("ivy").is_none(), "the user deleted again");
    assert!(deps.store.claims().is_empty(), "the contacts free");
    assert!(deps.store.audit_entries(ORG).is_empty());
    // Everything given back: the same invitation goes through at once.
    invite_as(&deps, "ivy-again", &invitation("+447700900123", Role::Member)).await.unwrap();
}

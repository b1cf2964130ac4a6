//! The resend rule on the ports in memory (`shared::fakes`): what it decides and the order
//! of its calls, in milliseconds. Against the emulator, with faults and races:
//! `tests/tests/emulator/resend_invitation.rs`.

use resend_invitation::resend_invitation;
use shared::ApiError;
use shared::domain::{AuditAction, Member, MemberStatus, Role, UserId};
use shared::fakes::{self, FakeDirectory, FakeStore};

const ORG: &str = "acme";
const PHONE: &str = "+447700900123";
type Deps = shared::Deps<FakeDirectory, FakeStore>;

fn invitee(deps: &Deps, id: &str) -> UserId {
    let user_id = UserId::parse(id).unwrap();
    let sent = deps.config.clock.now() - std::time::Duration::from_secs(3600);
    let member = Member::new(ORG, user_id.clone(), "Ivy Invitee", Role::Member, MemberStatus::Unverified)
        .reached_at(Some(PHONE.into()), None)
        .invited("admin-1", sent);
    deps.store.put_member(member);
    deps.directory.put_invited(id, ORG, PHONE);
    user_id
}

async fn resend(deps: &Deps, target: &UserId) -> Result<resend_invitation::ResendAccepted, ApiError> {
    let request = fakes::admitted(fakes::caller(ORG, "admin-1", true), target.clone(), deps.config.clock.now());
    resend_invitation(deps, &request).await
}

#[tokio::test]
async fn a_resend_claims_the_cooldown_and_a_message_before_sending_and_logs_once_sent() {
    let deps = fakes::deps();
    let target = invitee(&deps, "ivy");
    let accepted = resend(&deps, &target).await.unwrap();
    assert_eq!(accepted.user_id, "ivy");
    assert_eq!(
        deps.store.journal().calls_to(&["directory.", "store.claim_resend", "store.take", "store.complete_resend"]),
        [
            "directory.get_user ivy",
            "store.claim_resend",
            "store.take",
            "directory.resend_invitation ivy",
            "store.complete_resend",
        ]
    );
    assert_eq!(deps.directory.messages(), ["ivy"]);
    let log = deps.store.audit_entries(ORG);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AuditAction::ResentInvite);
    let member = deps.store.member(ORG, "ivy").unwrap();
    assert_eq!(member.resend_pending, None);
    assert_eq!(member.last_resend_id.as_deref(), Some(log[0].id.as_str()));
}

#[tokio::test]
async fn a_second_resend_within_the_cooldown_is_refused_and_sends_nothing() {
    let deps = fakes::deps();
    let target = invitee(&deps, "ivy");
    resend(&deps, &target).await.unwrap();
    let refused = resend(&deps, &target).await;
    assert!(matches!(refused, Err(ApiError::ResendTooSoon { retry_after_seconds: 60 })), "{refused:?}");
    assert_eq!(deps.directory.messages(), ["ivy"], "one message");
    assert_eq!(deps.store.audit_entries(ORG).len(), 1);
}

#[tokio::test]
async fn a_number_out_of_messages_is_refused_and_the_cooldown_given_back() {
    let deps = fakes::deps();
    let target = invitee(&deps, "ivy");
    let before = deps.store.member(ORG, "ivy").unwrap();
    let phone = shared::domain::Phone::parse(PHONE).unwrap();
    let message = deps.config.limits.message(&phone);
    for used in 0..message.allowed {
        let granted = shared::ports::Quotas::take(
            &deps.store,
            std::slice::from_ref(&message),
            &format!("earlier-{used}"),
            before.invited_at.unwrap(),
        )
        .await;
        assert_eq!(granted.unwrap(), shared::quota::Allowance::Granted);
    }
    assert!(matches!(resend(&deps, &target).await, Err(ApiError::MessageQuota { .. })));
    assert!(deps.directory.messages().is_empty(), "nothing sent");
    let after = deps.store.member(ORG, "ivy").unwrap();
    assert_eq!(
        (after.last_resent_at, after.last_invitation_sent_at, after.resend_pending),
        (before.last_resent_at, before.last_invitation_sent_at, None),
        "the claim given back: a retry is not refused as too soon"
    );
    assert!(deps.store.audit_entries(ORG).is_empty());
}

#[tokio::test]
async fn a_verified_member_is_refused_and_the_status_mirror_corrected() {
    let deps = fakes::deps();
    let target = invitee(&deps, "vera");
    deps.directory.put(shared::ports::DirectoryUser {
        status: shared::ports::UserState::Confirmed,
        ..deps.directory.user("vera").unwrap()
    });
    assert!(matches!(resend(&deps, &target).await, Err(ApiError::AlreadyVerified)));
    assert!(deps.directory.messages().is_empty());
    assert_eq!(deps.store.member(ORG, "vera").unwrap().status, MemberStatus::Verified);
}

//! The demo organisations that `make dev` seeds and the event fixtures name. They are
//! created through the invite path's own code, as an administrator would, and the verified
//! ones confirmed through Cognito and the `member-verified` trigger.

use invite_user::Invitation;
use serde_json::json;
use shared::Deps;
use shared::domain::{Email, MemberStatus, PersonName, Phone, Role, UserId};
use shared::http::RequestMeta;
use shared::identity::Caller;
use shared::ports::prelude::*;

pub const ACME: &str = "org-acme";
pub const GLOBEX: &str = "org-globex";

#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    pub user_id: &'static str,
    /// The `sub` claim the fixtures carry for this user.
    pub sub: &'static str,
    pub org_id: &'static str,
    pub name: &'static str,
    pub phone: &'static str,
    pub email: Option<&'static str>,
    pub role: Role,
    pub status: MemberStatus,
}

impl DemoUser {
    /// This user as the functions see the caller of an ID token the fixtures carry for them.
    pub fn caller(&self, admin_group: &str) -> Caller {
        Caller {
            id: self.sub.into(),
            username: Some(self.user_id.into()),
            org_id: self.org_id.into(),
            display_name: self.name.into(),
            groups: if self.role == Admin { vec![admin_group.into()] } else { Vec::new() },
        }
    }
}

#[allow(clippy::too_many_arguments)]
const fn user(
    user_id: &'static str,
    sub: &'static str,
    org_id: &'static str,
    name: &'static str,
    phone: &'static str,
    email: Option<&'static str>,
    role: Role,
    status: MemberStatus,
) -> DemoUser {
    DemoUser { user_id, sub, org_id, name, phone, email, role, status }
}

use MemberStatus::{Unverified, Verified};
use Role::{Admin, Member as Plain};

#[rustfmt::skip]
pub const ACME_ADMIN: DemoUser = user("acme-admin", "a0d1a000-0000-4000-8000-00000000ac01", ACME, "Ada Admin", "+447700900101", Some("ada@acme.example"), Admin, Verified);
#[rustfmt::skip]
pub const ACME_VERIFIED: DemoUser = user("acme-bob", "b0b00000-0000-4000-8000-00000000ac02", ACME, "Bob Verified", "+447700900102", Some("bob@acme.example"), Plain, Verified);
#[rustfmt::skip]
pub const ACME_INVITEE: DemoUser = user("acme-carol", "c0000000-0000-4000-8000-00000000ac03", ACME, "Carol Invitee", "+447700900103", Some("carol@acme.example"), Plain, Unverified);
#[rustfmt::skip]
pub const ACME_INVITEE_2: DemoUser = user("acme-dan", "d0000000-0000-4000-8000-00000000ac04", ACME, "Dan Invitee", "+447700900104", None, Plain, Unverified);
#[rustfmt::skip]
pub const ACME_INVITEE_3: DemoUser = user("acme-erin", "e0000000-0000-4000-8000-00000000ac05", ACME, "Erin Invitee", "+447700900105", None, Admin, Unverified);
#[rustfmt::skip]
pub const GLOBEX_ADMIN: DemoUser = user("globex-admin", "6a500000-0000-4000-8000-00000000a601", GLOBEX, "Gus Globex", "+447700900201", Some("gus@globex.example"), Admin, Verified);
#[rustfmt::skip]
pub const GLOBEX_INVITEE: DemoUser = user("globex-hank", "4a000000-0000-4000-8000-00000000a602", GLOBEX, "Hank Invitee", "+447700900202", None, Plain, Unverified);

/// The seeded invitee whose invitation has expired (sent a day longer ago than it lives).
pub const EXPIRED_INVITEE: DemoUser = ACME_INVITEE_3;

/// In order: each organisation's administrator first, who then invites the others.
pub const DEMO_USERS: [DemoUser; 7] =
    [ACME_ADMIN, ACME_VERIFIED, ACME_INVITEE, ACME_INVITEE_2, ACME_INVITEE_3, GLOBEX_ADMIN, GLOBEX_INVITEE];

/// The password verified demo users sign in with.
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd-2026";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Creates every demo user that does not exist yet.
pub async fn seed(deps: &Deps) -> Result<(), BoxError> {
    for demo in DEMO_USERS {
        seed_user(deps, &demo).await?;
    }
    Ok(())
}

/// Who invites a demo user: the organisation's administrator, or for the administrator
/// themself, the seed.
fn inviter(deps: &Deps, demo: &DemoUser) -> Caller {
    let admin = DEMO_USERS.iter().find(|u| u.org_id == demo.org_id && u.role == Admin && u.status == Verified);
    let (id, name) = match admin {
        Some(admin) if admin.user_id != demo.user_id => (admin.sub, admin.name),
        _ => ("seed", "Demo seed"),
    };
    Caller {
        id: id.into(),
        username: None,
        org_id: demo.org_id.into(),
        display_name: name.into(),
        groups: vec![deps.config.admin_group.clone()],
    }
}

pub async fn seed_user(deps: &Deps, demo: &DemoUser) -> Result<(), BoxError> {
    let user_id = UserId::parse(demo.user_id)?;
    if deps.store.get_member(demo.org_id, &user_id).await?.is_some() {
        return Ok(());
    }
    let invitation = Invitation {
        name: PersonName::parse(demo.name)?,
        phone: Phone::parse(demo.phone)?,
        email: demo.email.map(Email::parse).transpose()?,
        role: demo.role,
    };
    let meta = RequestMeta {
        request_id: format!("seed-{}", demo.user_id),
        source_ip: "127.0.0.1".into(),
        user_agent: "devstack seed".into(),
    };
    // Erin's invitation went out longer ago than it lives: the seed shows an expired one.
    let mut sent = deps.config.clock.now();
    if demo.user_id == EXPIRED_INVITEE.user_id {
        sent = sent - deps.config.invitation_validity - chrono::Duration::days(1);
    }
    invite_user::invite(deps, &inviter(deps, demo), &meta, &invitation, &user_id, sent).await?;
    if demo.status == Verified {
        confirm(deps, demo).await?;
    }
    Ok(())
}

/// What happens when an invitee signs in and sets a password: Cognito confirms them and
/// runs the PostConfirmation trigger.
pub async fn confirm(deps: &Deps, demo: &DemoUser) -> Result<(), BoxError> {
    deps.directory
        .client()
        .admin_set_user_password()
        .user_pool_id(deps.directory.user_pool_id())
        .username(demo.user_id)
        .password(DEMO_PASSWORD)
        .permanent(true)
        .send()
        .await?;
    let event = trigger_event("PostConfirmation_ConfirmSignUp", deps.directory.user_pool_id(), demo);
    member_verified::mark_verified(&deps.store, &event, "seed-confirm").await;
    Ok(())
}

/// A Cognito trigger event, shaped as Cognito sends it.
pub fn trigger_event(trigger_source: &str, user_pool_id: &str, demo: &DemoUser) -> serde_json::Value {
    let mut attributes = json!({
        "sub": demo.sub,
        "cognito:user_status": "CONFIRMED",
        "custom:org_id": demo.org_id,
        "name": demo.name,
        "phone_number": demo.phone,
        "phone_number_verified": "true",
    });
    if let Some(email) = demo.email {
        attributes["email"] = email.into();
        attributes["email_verified"] = "false".into();
    }
    let mut request = json!({ "userAttributes": attributes });
    if trigger_source.starts_with("PostAuthentication") {
        request["newDeviceUsed"] = false.into();
    } else {
        request["clientMetadata"] = json!({});
    }
    json!({
        "version": "1",
        "region": "eu-west-1",
        "userPoolId": user_pool_id,
        "userName": demo.user_id,
        "callerContext": {
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": "5d755b68687d3262b064de3cdd"
        },
        "triggerSource": trigger_source,
        "request": request,
        "response": {}
    })
}

/// `count` memberships of `org_id` written through the store's own code, without Cognito
/// users or claims: an organisation's size, for what must not grow with it.
pub async fn many_members(deps: &Deps, org_id: &str, count: usize) {
    for index in 0..count {
        put_bulk_member(deps, org_id, index).await;
    }
}

/// The `index`th of [`many_members`]: `bulk-000042`, "Bulk Member 42", unverified.
pub async fn put_bulk_member(deps: &Deps, org_id: &str, index: usize) {
    let user_id = UserId::parse(&format!("bulk-{index:06}")).expect("a user id");
    let member =
        shared::domain::Member::new(org_id, user_id, &format!("Bulk Member {index}"), Role::Member, Unverified)
            .reached_at(Some(format!("+4477009{index:05}")), None)
            .invited(ACME_ADMIN.user_id, shared::time::now());
    deps.store.put_member_record(&member).await.expect("write a membership");
}

//! The demo organisations that `make dev` seeds and the event fixtures name.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
use shared::Deps;
use shared::directory::ORG_ATTRIBUTE;
use shared::domain::{Member, MemberStatus, Role, UserId};

pub const ACME: &str = "org-acme";
pub const GLOBEX: &str = "org-globex";

#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    pub user_id: &'static str,
    pub org_id: &'static str,
    pub name: &'static str,
    pub phone: &'static str,
    pub email: Option<&'static str>,
    pub role: Role,
    pub status: MemberStatus,
}

const fn user(
    user_id: &'static str,
    org_id: &'static str,
    name: &'static str,
    phone: &'static str,
    email: Option<&'static str>,
    role: Role,
    status: MemberStatus,
) -> DemoUser {
    DemoUser { user_id, org_id, name, phone, email, role, status }
}

use MemberStatus::{Unverified, Verified};
use Role::{Admin, Member as Plain};

pub const ACME_ADMIN: DemoUser =
    user("acme-admin", ACME, "Ada Admin", "+447700900101", Some("ada@acme.example"), Admin, Verified);
pub const ACME_VERIFIED: DemoUser =
    user("acme-bob", ACME, "Bob Verified", "+447700900102", Some("bob@acme.example"), Plain, Verified);
pub const ACME_INVITEE: DemoUser =
    user("acme-carol", ACME, "Carol Invitee", "+447700900103", Some("carol@acme.example"), Plain, Unverified);
pub const ACME_INVITEE_2: DemoUser = user("acme-dan", ACME, "Dan Invitee", "+447700900104", None, Plain, Unverified);
pub const ACME_INVITEE_3: DemoUser = user("acme-erin", ACME, "Erin Invitee", "+447700900105", None, Admin, Unverified);
pub const GLOBEX_ADMIN: DemoUser =
    user("globex-admin", GLOBEX, "Gus Globex", "+447700900201", Some("gus@globex.example"), Admin, Verified);
pub const GLOBEX_INVITEE: DemoUser =
    user("globex-hank", GLOBEX, "Hank Invitee", "+447700900202", None, Plain, Unverified);

pub const DEMO_USERS: [DemoUser; 7] =
    [ACME_ADMIN, ACME_VERIFIED, ACME_INVITEE, ACME_INVITEE_2, ACME_INVITEE_3, GLOBEX_ADMIN, GLOBEX_INVITEE];

/// The password verified demo users sign in with.
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd-2026";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Creates every demo user (skipping those that exist) and their membership records.
pub async fn seed(deps: &Deps) -> Result<(), BoxError> {
    for demo in DEMO_USERS {
        seed_user(deps, &demo).await?;
    }
    Ok(())
}

pub async fn seed_user(deps: &Deps, demo: &DemoUser) -> Result<(), BoxError> {
    let cognito = deps.directory.client();
    let pool = deps.directory.user_pool_id();
    let attribute = |name: &str, value: &str| AttributeType::builder().name(name).value(value).build();
    let mut attributes = vec![
        attribute("name", demo.name)?,
        attribute("phone_number", demo.phone)?,
        attribute(ORG_ATTRIBUTE, demo.org_id)?,
    ];
    if let Some(email) = demo.email {
        attributes.push(attribute("email", email)?);
    }
    let created = cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(demo.user_id)
        .set_user_attributes(Some(attributes))
        .message_action(MessageActionType::Suppress)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(error) if error.code() == Some("UsernameExistsException") => return Ok(()),
        Err(error) => return Err(error.into()),
    }
    if demo.status == Verified {
        cognito
            .admin_set_user_password()
            .user_pool_id(pool)
            .username(demo.user_id)
            .password(DEMO_PASSWORD)
            .permanent(true)
            .send()
            .await?;
    }
    if demo.role == Admin {
        cognito
            .admin_add_user_to_group()
            .user_pool_id(pool)
            .username(demo.user_id)
            .group_name(&deps.config.admin_group)
            .send()
            .await?;
    }
    let now = shared::time::now();
    let member = Member {
        org_id: demo.org_id.to_owned(),
        user_id: UserId::parse(demo.user_id)?,
        name: demo.name.to_owned(),
        phone: Some(demo.phone.to_owned()),
        email: demo.email.map(str::to_owned),
        role: demo.role,
        status: demo.status,
        invited_at: Some(now),
        invited_by: Some("seed".to_owned()),
        last_invitation_sent_at: Some(now),
        cancel_pending: None,
    };
    deps.store.put_new_member(&member).await?;
    Ok(())
}

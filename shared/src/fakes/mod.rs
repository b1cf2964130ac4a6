//! In-memory stand-ins for the ports, for tests of a rule and of the order of its calls
//! that run in milliseconds with no emulator. Compiled in every build (see lib.rs); no function names it.
//!
//! They keep the ports' promises that the rules rely on (a conditional write fails when
//! its condition does not hold, a transaction is all or nothing, a claim on a contact is
//! held by one user) and record every call in a [`Journal`], in order. They make no claim
//! about AWS: the adapters are tested against the emulator, through the real SDK clients.

mod directory;
mod store;
mod store_changes;
mod store_members;

pub use directory::FakeDirectory;
pub use store::FakeStore;

use crate::config::Config;
use crate::{Deps, time::Timestamp};
use std::sync::{Arc, Mutex};

/// The calls made on the fakes, in order: `directory.delete u-1`, `store.take`, …
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub fn record(&self, call: impl Into<String>) {
        self.0.lock().expect("journal").push(call.into());
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<String> {
        self.0.lock().expect("journal").clone()
    }

    /// The calls so far whose name starts with one of `prefixes` (`directory.`, `store.take`).
    pub fn calls_to(&self, prefixes: &[&str]) -> Vec<String> {
        self.calls().into_iter().filter(|call| prefixes.iter().any(|prefix| call.starts_with(prefix))).collect()
    }
}

/// Deps on fakes sharing one journal, configured as a deployed function is by default
/// (`FUNCTION_TIMEOUT_SECONDS` 10, invitations valid 7 days, resend cooldown 60 seconds).
pub fn deps() -> Deps<FakeDirectory, FakeStore> {
    let lookup = |name: &str| {
        let value = match name {
            "USER_POOL_ID" => "eu-west-2_fake",
            "TOKEN_ISSUER" => "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_fake",
            "FUNCTION_TIMEOUT_SECONDS" => "10",
            "INVITATION_VALIDITY_DAYS" => "7",
            "RESEND_COOLDOWN_SECONDS" => "60",
            table if table.ends_with("_TABLE") => table,
            _ => return None,
        };
        Some(value.to_owned())
    };
    let config = Config::from_lookup(lookup).expect("the fakes' configuration is valid");
    let journal = Journal::default();
    Deps { config, directory: FakeDirectory::new(journal.clone()), store: FakeStore::new(journal) }
}

/// A caller of `org_id` as the authorizer's claims make them; in the administrators' group
/// when `admin`.
pub fn caller(org_id: &str, id: &str, admin: bool) -> crate::identity::Caller {
    crate::identity::Caller {
        id: id.to_owned(),
        username: Some(id.to_owned()),
        org_id: org_id.to_owned(),
        display_name: id.to_owned(),
        groups: if admin { vec![crate::config::DEFAULT_ADMIN_GROUP.to_owned()] } else { Vec::new() },
    }
}

/// A request admitted for `caller` on `target`, as [`crate::request`] admits one, at `now`:
/// the caller's membership verified, an administrator's when their token says so.
pub fn admitted<T>(caller: crate::identity::Caller, target: T, now: Timestamp) -> crate::request::Admitted<T> {
    use crate::domain::{Member, MemberStatus, Role, UserId};
    let role = if caller.groups.is_empty() { Role::Member } else { Role::Admin };
    let user_id = UserId::parse(caller.username.as_deref().unwrap_or(&caller.id)).expect("a user id");
    let membership = Member::new(&caller.org_id, user_id, &caller.display_name, role, MemberStatus::Verified);
    crate::request::Admitted {
        caller,
        membership,
        target,
        meta: crate::domain::RequestMeta { request_id: "req-1".into(), ..Default::default() },
        key: None,
        fingerprint: String::new(),
        now,
    }
}

/// A verified member of `org_id`, as an invitation and a first sign-in leave them: their
/// membership (counted among the active administrators when `role` is admin), their
/// confirmed Cognito user, in the administrators' group when admin, and their phone claimed.
pub fn put_verified(
    deps: &Deps<FakeDirectory, FakeStore>,
    org_id: &str,
    id: &str,
    role: crate::domain::Role,
    phone: &str,
) -> crate::domain::UserId {
    use crate::domain::{Member, MemberStatus, Role, UserId};
    use crate::ports::{DirectoryUser, UserState};
    let user_id = UserId::parse(id).expect("a user id");
    let member = Member::new(org_id, user_id.clone(), id, role, MemberStatus::Verified)
        .reached_at(Some(phone.to_owned()), None)
        .invited("admin-0", deps.config.clock.now());
    deps.store.put_member(member);
    deps.directory.put(DirectoryUser {
        username: id.to_owned(),
        status: UserState::Confirmed,
        enabled: true,
        org_id: Some(org_id.to_owned()),
        name: Some(id.to_owned()),
        phone: Some(phone.to_owned()),
        email: None,
        created_at: None,
    });
    if role == Role::Admin {
        deps.directory.put_in_group(id, crate::config::DEFAULT_ADMIN_GROUP);
    }
    user_id
}

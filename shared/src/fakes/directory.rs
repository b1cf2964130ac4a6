//! [`FakeDirectory`]: the pool's users in memory.

use super::Journal;
use crate::ports::{
    ContactKind, Creation, Deletion, Directory, DirectoryError, DirectoryUser, NewUser, Resent, UserState,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

type Users = BTreeMap<String, DirectoryUser>;
type Hook = Box<dyn FnOnce(&mut Users) + Send>;

/// The pool: users by username, groups, and the invitations sent. A call named in
/// [`FakeDirectory::fail`] fails once, as an unanswered call does; a hook given to
/// [`FakeDirectory::after`] changes the pool once that call has run (someone signing in
/// between two of the rule's calls).
#[derive(Clone, Default)]
pub struct FakeDirectory {
    journal: Journal,
    users: Arc<Mutex<Users>>,
    groups: Arc<Mutex<BTreeSet<(String, String)>>>,
    sent: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<Vec<&'static str>>>,
    hooks: Arc<Mutex<Vec<(&'static str, Hook)>>>,
}

impl FakeDirectory {
    pub fn new(journal: Journal) -> Self {
        Self { journal, ..Self::default() }
    }

    /// An invited user of `org_id` who has not signed in yet.
    pub fn put_invited(&self, username: &str, org_id: &str, phone: &str) {
        self.put(DirectoryUser {
            username: username.to_owned(),
            status: UserState::Invited,
            enabled: true,
            org_id: Some(org_id.to_owned()),
            name: Some(username.to_owned()),
            phone: Some(phone.to_owned()),
            email: None,
            created_at: None,
        });
    }

    pub fn put(&self, user: DirectoryUser) {
        self.users.lock().expect("users").insert(user.username.clone(), user);
    }

    /// `username` in `group`, as an earlier call left them.
    pub fn put_in_group(&self, username: &str, group: &str) {
        self.groups.lock().expect("groups").insert((username.to_owned(), group.to_owned()));
    }

    pub fn user(&self, username: &str) -> Option<DirectoryUser> {
        self.users.lock().expect("users").get(username).cloned()
    }

    /// Whether `username` is in `group`.
    pub fn in_group(&self, username: &str, group: &str) -> bool {
        self.groups.lock().expect("groups").contains(&(username.to_owned(), group.to_owned()))
    }

    /// The usernames invitations (and resent invitations) went to, in order.
    pub fn messages(&self) -> Vec<String> {
        self.sent.lock().expect("sent").clone()
    }

    /// The next call to `operation` (`disable`, `delete`, …) fails without an answer.
    pub fn fail(&self, operation: &'static str) {
        self.failing.lock().expect("failing").push(operation);
    }

    /// After the next call to `operation`, `change` is applied to the pool.
    pub fn after(
        &self,
        operation: &'static str,
        change: impl FnOnce(&mut BTreeMap<String, DirectoryUser>) + Send + 'static,
    ) {
        self.hooks.lock().expect("hooks").push((operation, Box::new(change)));
    }

    /// Records the call, and fails it if it is to fail.
    fn call(&self, operation: &'static str, username: &str) -> Result<(), DirectoryError> {
        self.journal.record(format!("directory.{operation} {username}"));
        let mut failing = self.failing.lock().expect("failing");
        match failing.iter().position(|failing| *failing == operation) {
            Some(index) => {
                failing.remove(index);
                Err(DirectoryError {
                    operation,
                    delivery_quota: false,
                    outcome_unknown: true,
                    source: "injected: no answer".into(),
                })
            }
            None => Ok(()),
        }
    }

    fn then(&self, operation: &'static str) {
        let mut hooks = self.hooks.lock().expect("hooks");
        if let Some(index) = hooks.iter().position(|(name, _)| *name == operation) {
            let (_, change) = hooks.remove(index);
            change(&mut self.users.lock().expect("users"));
        }
    }

    fn set_enabled(&self, username: &str, enabled: bool) -> bool {
        let mut users = self.users.lock().expect("users");
        users.get_mut(username).map(|user| user.enabled = enabled).is_some()
    }
}

impl Directory for FakeDirectory {
    async fn get_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.call("get_user", username)?;
        let user = self.user(username);
        self.then("get_user");
        Ok(user)
    }

    async fn disable(&self, username: &str) -> Result<bool, DirectoryError> {
        self.call("disable", username)?;
        let found = self.set_enabled(username, false);
        self.then("disable");
        Ok(found)
    }

    async fn enable(&self, username: &str) -> Result<bool, DirectoryError> {
        self.call("enable", username)?;
        let found = self.set_enabled(username, true);
        self.then("enable");
        Ok(found)
    }

    async fn delete(&self, username: &str) -> Result<Deletion, DirectoryError> {
        self.call("delete", username)?;
        let removed = self.users.lock().expect("users").remove(username);
        self.then("delete");
        Ok(if removed.is_some() { Deletion::Deleted } else { Deletion::AlreadyGone })
    }

    async fn create_user(&self, user: &NewUser) -> Result<Creation, DirectoryError> {
        self.call("create_user", user.username.as_str())?;
        let mut users = self.users.lock().expect("users");
        if users.contains_key(user.username.as_str()) {
            return Ok(Creation::UsernameExists);
        }
        let phone = user.phone.as_str().to_owned();
        if users.values().any(|other| other.phone.as_deref() == Some(phone.as_str())) {
            return Ok(Creation::ContactInUse);
        }
        users.insert(
            user.username.to_string(),
            DirectoryUser {
                username: user.username.to_string(),
                status: UserState::Invited,
                enabled: true,
                org_id: Some(user.org_id.clone()),
                name: Some(user.name.clone()),
                phone: Some(phone),
                email: user.email.as_ref().map(|email| email.as_str().to_owned()),
                created_at: None,
            },
        );
        drop(users);
        self.sent.lock().expect("sent").push(user.username.to_string());
        self.then("create_user");
        Ok(Creation::Created)
    }

    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError> {
        self.call("add_to_group", username)?;
        self.groups.lock().expect("groups").insert((username.to_owned(), group.to_owned()));
        Ok(())
    }

    async fn remove_from_group(&self, username: &str, group: &str) -> Result<bool, DirectoryError> {
        self.call("remove_from_group", username)?;
        if self.user(username).is_none() {
            return Ok(false);
        }
        self.groups.lock().expect("groups").remove(&(username.to_owned(), group.to_owned()));
        Ok(true)
    }

    async fn sign_out(&self, username: &str) -> Result<bool, DirectoryError> {
        self.call("sign_out", username)?;
        // As Cognito: a disabled user is refused ("User is disabled."), which the adapter
        // answers as nothing to sign out.
        Ok(self.user(username).is_some_and(|user| user.enabled))
    }

    async fn users_with(&self, kind: ContactKind, value: &str) -> Result<Vec<DirectoryUser>, DirectoryError> {
        self.call("users_with", value)?;
        let users = self.users.lock().expect("users");
        let holds = |user: &&DirectoryUser| match kind {
            ContactKind::Phone => user.phone.as_deref() == Some(value),
            ContactKind::Email => user.email.as_deref() == Some(value),
        };
        Ok(users.values().filter(holds).cloned().collect())
    }

    async fn resend_invitation(&self, user: &DirectoryUser) -> Result<Resent, DirectoryError> {
        self.call("resend_invitation", &user.username)?;
        let current = self.user(&user.username);
        let resent = match current {
            None => Resent::NotFound,
            Some(current) if current.status != UserState::Invited => Resent::NotInvitable,
            Some(_) => {
                self.sent.lock().expect("sent").push(user.username.clone());
                Resent::Sent
            }
        };
        self.then("resend_invitation");
        Ok(resent)
    }
}

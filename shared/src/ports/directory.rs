//! What the functions need from Cognito: the [`Directory`] port and its users, in the
//! domain's words (the adapter is [`crate::directory::CognitoDirectory`]).

use super::Cause;
use crate::domain::{Email, Phone, UserId};
use crate::time::Timestamp;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
#[error("Cognito {operation} failed")]
pub struct DirectoryError {
    pub operation: &'static str,
    /// Cognito refused to send a message because a delivery quota is used up (its own email
    /// sender's daily limit, or the account's): retrying soon will not help.
    pub delivery_quota: bool,
    /// No answer came (a timeout, a connection lost, an answer that could not be read): the
    /// call may have been carried out.
    pub outcome_unknown: bool,
    #[source]
    pub source: Cause,
}

impl From<DirectoryError> for crate::ApiError {
    fn from(error: DirectoryError) -> Self {
        if error.delivery_quota {
            crate::ApiError::DeliveryQuotaExhausted(Box::new(error))
        } else {
            crate::ApiError::unavailable(error)
        }
    }
}

/// Where a user of the pool stands, in the domain's words (the adapter maps Cognito's
/// `UserStatus` to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserState {
    /// Made by an invitation, never signed in with (Cognito: `FORCE_CHANGE_PASSWORD`).
    Invited,
    /// Signed up, not confirmed (`UNCONFIRMED`).
    Unconfirmed,
    /// Signed in and set a password (`CONFIRMED`).
    Confirmed,
    /// Anything else Cognito says (`RESET_REQUIRED`, `ARCHIVED`, `COMPROMISED`,
    /// `EXTERNAL_PROVIDER`, a status newer than this code), as it says it: counted as
    /// verified, so never deleted.
    Other(String),
}

impl UserState {
    /// Cognito's own name of the state, for logs and tools.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invited => "FORCE_CHANGE_PASSWORD",
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::Other(status) => status,
        }
    }
}

/// A user as Cognito holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryUser {
    pub username: String,
    pub status: UserState,
    pub enabled: bool,
    pub org_id: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub created_at: Option<Timestamp>,
}

impl DirectoryUser {
    /// Invited but not yet signed in and verified: the only users a cancel may delete.
    pub fn is_unverified(&self) -> bool {
        matches!(self.status, UserState::Invited | UserState::Unconfirmed)
    }

    /// Made by an invitation and never signed in with: the only users a reclaim deletes.
    pub fn awaits_first_sign_in(&self) -> bool {
        self.status == UserState::Invited
    }

    pub fn belongs_to(&self, org_id: &str) -> bool {
        self.org_id.as_deref() == Some(org_id)
    }
}

/// A person to invite.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub username: UserId,
    pub name: String,
    pub phone: Phone,
    pub email: Option<Email>,
    pub org_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    /// Created, and the invitation sent.
    Created,
    /// A user with this username exists already; nothing was sent.
    UsernameExists,
    /// Cognito refused the phone or email as already in use.
    ContactInUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    AlreadyGone,
}

#[derive(Debug)]
pub enum Resent {
    Sent,
    /// Cognito will not resend: the user is no longer in a state that takes an invitation.
    NotInvitable,
    NotFound,
    /// Cognito answered with another error (throttling, a quota): nothing was sent.
    Refused(DirectoryError),
}

/// A contact attribute that identifies one user of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    Phone,
    Email,
}

impl ContactKind {
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Phone => "phone_number",
            Self::Email => "email",
        }
    }
}

pub trait Directory: Send + Sync {
    fn get_user(&self, username: &str) -> impl Future<Output = Result<Option<DirectoryUser>, DirectoryError>> + Send;
    /// Returns false when the user does not exist.
    fn disable(&self, username: &str) -> impl Future<Output = Result<bool, DirectoryError>> + Send;
    /// Returns false when the user does not exist.
    fn enable(&self, username: &str) -> impl Future<Output = Result<bool, DirectoryError>> + Send;
    fn delete(&self, username: &str) -> impl Future<Output = Result<Deletion, DirectoryError>> + Send;
    /// Creates the user and sends the invitation by SMS, and by email where one is given.
    fn create_user(&self, user: &NewUser) -> impl Future<Output = Result<Creation, DirectoryError>> + Send;
    fn add_to_group(&self, username: &str, group: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Returns false when the user does not exist (a user outside the group is no error).
    fn remove_from_group(
        &self,
        username: &str,
        group: &str,
    ) -> impl Future<Output = Result<bool, DirectoryError>> + Send;
    /// Revokes every refresh token of the user (`AdminUserGlobalSignOut`); returns false
    /// when there is nothing to sign out: no such user, or a disabled one (Cognito refuses
    /// to sign out a disabled user, "User is disabled.", and disabling it revoked its tokens).
    fn sign_out(&self, username: &str) -> impl Future<Output = Result<bool, DirectoryError>> + Send;
    /// The users whose phone number or email address is `value`.
    fn users_with(
        &self,
        kind: ContactKind,
        value: &str,
    ) -> impl Future<Output = Result<Vec<DirectoryUser>, DirectoryError>> + Send;
    /// Sends `user`'s invitation again, by SMS and, where they have an email, by email.
    fn resend_invitation(&self, user: &DirectoryUser) -> impl Future<Output = Result<Resent, DirectoryError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(status: UserState) -> DirectoryUser {
        DirectoryUser {
            username: "u".into(),
            status,
            enabled: true,
            org_id: Some("org-a".into()),
            name: None,
            phone: None,
            email: None,
            created_at: None,
        }
    }

    #[test]
    fn only_invited_and_unconfirmed_users_are_unverified() {
        for status in [UserState::Invited, UserState::Unconfirmed] {
            assert!(user(status).is_unverified());
        }
        for status in [
            UserState::Confirmed,
            UserState::Other("RESET_REQUIRED".into()),
            UserState::Other("ARCHIVED".into()),
            UserState::Other("COMPROMISED".into()),
            UserState::Other("EXTERNAL_PROVIDER".into()),
            UserState::Other(String::new()),
        ] {
            assert!(!user(status.clone()).is_unverified(), "{status:?} counts as verified: never deleted");
        }
    }

    #[test]
    fn membership_of_an_organisation_is_exact() {
        assert!(user(UserState::Confirmed).belongs_to("org-a"));
        assert!(!user(UserState::Confirmed).belongs_to("org-a "));
        assert!(!user(UserState::Confirmed).belongs_to("org-"));
        let mut orphan = user(UserState::Confirmed);
        orphan.org_id = None;
        assert!(!orphan.belongs_to(""));
    }
}

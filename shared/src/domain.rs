//! Domain values that validate when built: a value that exists is a valid one. Nothing
//! here knows HTTP: a value that does not validate is an [`Invalid`], which the HTTP layer
//! answers as a bad request.

use crate::time::{self, Timestamp};
use std::fmt;

/// A value that does not validate, and why, in words a client may read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Where a request came from, as the audit log records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
}

/// Who did something, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub org_id: String,
    pub name: String,
}

/// A member's id: their Cognito username (1–128 characters, no white space or control
/// characters, as Cognito itself requires).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let length = raw.chars().count();
        if length == 0 || length > 128 {
            return Err(Invalid("userId must be 1 to 128 characters long.".into()));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid("userId must not contain spaces or control characters.".into()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form: `+`, a country code that does not start with 0, and at
/// most 15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let digits =
            raw.strip_prefix('+').ok_or("phone must be in E.164 form, starting with + and the country code")?;
        let valid =
            (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err("phone must be in E.164 form: + then 8 to 15 digits, e.g. +447700900123".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lower-cased so that one address has one spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let well_formed = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if well_formed { Ok(Self(email)) } else { Err("email must be an address such as ann@example.com".into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("name must not be empty".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!("name must be at most {} characters", Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err("name must not contain control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The mirror of a member's Cognito status kept in the membership record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Unverified,
    Verified,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Verified => "verified",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "unverified" => Some(Self::Unverified),
            "verified" => Some(Self::Verified),
            _ => None,
        }
    }
}

/// The status the Members page shows and filters by: the stored one, and `expired` for an
/// unverified member whose invitation's temporary password has lapsed. Computed when read
/// (from `lastInvitationSentAt` and the validity), so time passing rewrites no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownStatus {
    Verified,
    Unverified,
    Expired,
}

impl ShownStatus {
    pub const ALL: [Self; 3] = [Self::Verified, Self::Unverified, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Unverified => "unverified",
            Self::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// The stored status of the members shown with this one.
    pub fn stored(self) -> MemberStatus {
        match self {
            Self::Verified => MemberStatus::Verified,
            Self::Unverified | Self::Expired => MemberStatus::Unverified,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// A membership record: one member of one organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub org_id: String,
    pub user_id: UserId,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub status: MemberStatus,
    pub invited_at: Option<Timestamp>,
    pub invited_by: Option<String>,
    pub last_invitation_sent_at: Option<Timestamp>,
    /// When the invitation was last sent again: the resend cooldown runs from here.
    pub last_resent_at: Option<Timestamp>,
    /// The audit entry of a resend that was claimed and is being sent; written to the log
    /// once sent, or by whoever next finds it here if the resend stopped after sending.
    pub resend_pending: Option<AuditEntry>,
    /// Set just before a cancel deletes the Cognito user: the audit entry that the cancel
    /// will write. If the function dies after the deletion, the next call finds the user gone
    /// and this entry here, and finishes the job with it.
    pub cancel_pending: Option<AuditEntry>,
    /// The id of the cancel entry whose cancel disabled the Cognito user (set just before
    /// it disables, cleared when the user is enabled again): who may enable them again.
    /// Only a cancel disables; a user disabled without it was disabled by an operator.
    pub disabled_by: Option<String>,
    /// The id of a pending resend whose `AdminCreateUser(RESEND)` was sent but not answered:
    /// the message may have gone out, so the same request's retry does not send it again.
    pub resend_attempted: Option<String>,
    /// The id of the last resend whose entry went to the log: how a retry of that resend
    /// learns it was finished by someone else.
    pub last_resend_id: Option<String>,
}

impl Member {
    /// A member as its identity makes them, with no invitation sent and no work under way.
    pub fn new(org_id: &str, user_id: UserId, name: &str, role: Role, status: MemberStatus) -> Self {
        Self {
            org_id: org_id.to_owned(),
            user_id,
            name: name.to_owned(),
            phone: None,
            email: None,
            role,
            status,
            invited_at: None,
            invited_by: None,
            last_invitation_sent_at: None,
            last_resent_at: None,
            resend_pending: None,
            cancel_pending: None,
            disabled_by: None,
            resend_attempted: None,
            last_resend_id: None,
        }
    }

    /// With these contacts.
    pub fn reached_at(self, phone: Option<String>, email: Option<String>) -> Self {
        Self { phone, email, ..self }
    }

    /// Invited by `by` at `at`: the invitation went out then.
    pub fn invited(self, by: &str, at: Timestamp) -> Self {
        Self { invited_at: Some(at), invited_by: Some(by.to_owned()), last_invitation_sent_at: Some(at), ..self }
    }

    /// When an unverified member's temporary password lapses: `validity` after the last
    /// invitation went out. None for a verified member.
    pub fn invitation_expires_at(&self, validity: chrono::Duration) -> Option<Timestamp> {
        match self.status {
            MemberStatus::Unverified => self.last_invitation_sent_at.map(|sent| sent + validity),
            MemberStatus::Verified => None,
        }
    }

    pub fn shown_status(&self, now: Timestamp, validity: chrono::Duration) -> ShownStatus {
        match (self.status, self.invitation_expires_at(validity)) {
            (MemberStatus::Verified, _) => ShownStatus::Verified,
            (MemberStatus::Unverified, Some(expires)) if expires <= now => ShownStatus::Expired,
            (MemberStatus::Unverified, _) => ShownStatus::Unverified,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Invited,
    CanceledInvite,
    ResentInvite,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "Admin invited user",
            Self::CanceledInvite => "Admin canceled user invite",
            Self::ResentInvite => "Admin resent user invite",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Invited, Self::CanceledInvite, Self::ResentInvite].into_iter().find(|action| action.as_str() == raw)
    }
}

/// One line of an organisation's Log tab.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    pub org_id: String,
    pub action: AuditAction,
    pub occurred_at: Timestamp,
    pub actor_id: String,
    pub actor_name: String,
    pub target_id: String,
    pub target_name: String,
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
}

impl AuditEntry {
    /// A new entry: `actor` did `action` to `target` at `at`, in the request `meta`.
    pub fn new(action: AuditAction, actor: &Actor, meta: &RequestMeta, target: &Member, at: Timestamp) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: actor.org_id.clone(),
            action,
            occurred_at: at,
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            target_id: target.user_id.to_string(),
            target_name: target.name.clone(),
            request_id: meta.request_id.clone(),
            source_ip: meta.source_ip.clone(),
            user_agent: meta.user_agent.clone(),
        }
    }

    /// The same entry under `id`: one a retry of the same request derives again.
    pub fn with_id(self, id: String) -> Self {
        Self { id, ..self }
    }

    /// The entry's sort key within its organisation: time first, so that the log reads
    /// newest first, then the id, so that two entries of one millisecond stay distinct.
    pub fn entry_key(&self) -> String {
        format!("{}#{}", time::sortable(self.occurred_at), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_checked_like_cognito_usernames() {
        assert_eq!(UserId::parse("8f0e-1a2b").unwrap().as_str(), "8f0e-1a2b");
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse("a\u{0}b").is_err());
        assert!(UserId::parse(&"x".repeat(129)).is_err());
        assert!(UserId::parse(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn phones_must_be_e164() {
        assert!(Phone::parse("+447700900123").is_ok());
        assert!(Phone::parse("+12025550123").is_ok());
        for bad in ["447700900123", "+44 7700 900123", "+0447700900", "+44770", "+4477009001234567", "+44a7700900", ""]
        {
            assert!(Phone::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["ann", "ann@", "@example.com", "ann@example", "a b@example.com", "ann@@example.com", "ann@example."]
        {
            assert!(Email::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ann Example ").unwrap().as_str(), "Ann Example");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("Ann\nExample").is_err());
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn audit_actions_are_the_contract_strings() {
        assert_eq!(AuditAction::CanceledInvite.as_str(), "Admin canceled user invite");
        assert_eq!(AuditAction::Invited.as_str(), "Admin invited user");
        assert_eq!(AuditAction::ResentInvite.as_str(), "Admin resent user invite");
        assert_eq!(AuditAction::parse("Admin canceled user invite"), Some(AuditAction::CanceledInvite));
    }

    #[test]
    fn entry_keys_sort_by_time() {
        let entry = |secs, id: &str| AuditEntry {
            id: id.into(),
            org_id: "o".into(),
            action: AuditAction::Invited,
            occurred_at: chrono::DateTime::from_timestamp(secs, 0).unwrap(),
            actor_id: String::new(),
            actor_name: String::new(),
            target_id: String::new(),
            target_name: String::new(),
            request_id: String::new(),
            source_ip: String::new(),
            user_agent: String::new(),
        };
        assert!(entry(1_000, "zzz").entry_key() < entry(2_000, "aaa").entry_key());
        assert!(entry(9, "a").entry_key() < entry(10_000_000_000, "a").entry_key());
    }
}

//! Domain values that validate when built: a value that exists is a valid one.

use crate::error::ApiError;
use crate::time::{self, Timestamp};
use std::fmt;

/// A member's id: their Cognito username (1–128 characters, no white space or control
/// characters, as Cognito itself requires).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let length = raw.chars().count();
        if length == 0 || length > 128 {
            return Err(ApiError::BadRequest("userId must be 1 to 128 characters long.".into()));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ApiError::BadRequest("userId must not contain spaces or control characters.".into()));
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
    /// Set just before a cancel deletes the Cognito user: the audit entry that the cancel
    /// will write. If the function dies after the deletion, the next call finds the user gone
    /// and this entry here, and finishes the job with it.
    pub cancel_pending: Option<AuditEntry>,
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

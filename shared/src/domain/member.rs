//! The membership record, its status as stored and as shown, and which members a listing keeps.

use super::search::Search;
use super::{AuditEntry, Role, UserId};
use crate::time::Timestamp;

/// The mirror of a member's Cognito status kept in the membership record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Unverified,
    Verified,
    /// Verified, then suspended by an administrator: disabled in Cognito, refused by every
    /// function, until reactivated.
    Suspended,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Verified => "verified",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "unverified" => Some(Self::Unverified),
            "verified" => Some(Self::Verified),
            "suspended" => Some(Self::Suspended),
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
    Suspended,
}

impl ShownStatus {
    pub const ALL: [Self; 4] = [Self::Verified, Self::Unverified, Self::Expired, Self::Suspended];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Unverified => "unverified",
            Self::Expired => "expired",
            Self::Suspended => "suspended",
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
            Self::Suspended => MemberStatus::Suspended,
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
    /// The audit entry of the last role change, suspension or reactivation, from its commit
    /// until Cognito is known to follow it (the group, or the user disabled or enabled): the
    /// intent the reconciler finishes if the request stopped in between.
    pub change_pending: Option<AuditEntry>,
    /// The entry id of the last role change, suspension or reactivation committed: how the
    /// retry of that request (its `Idempotency-Key` derives the same id) knows it is done
    /// once its pending entry is cleared.
    pub last_change_id: Option<String>,
    /// Set when a removal is decided (and the organisation's count of active administrators
    /// has given the member up), before their Cognito user is deleted: the entry that the
    /// removal writes when the membership goes. A membership with one is being removed: its
    /// holder is refused everywhere, and no other change applies to it.
    pub remove_pending: Option<AuditEntry>,
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
            change_pending: None,
            last_change_id: None,
            remove_pending: None,
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
            MemberStatus::Verified | MemberStatus::Suspended => None,
        }
    }

    /// Counted among the organisation's active administrators: an administrator who has
    /// verified and is neither suspended nor being removed.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.status == MemberStatus::Verified && self.remove_pending.is_none()
    }

    pub fn shown_status(&self, now: Timestamp, validity: chrono::Duration) -> ShownStatus {
        match (self.status, self.invitation_expires_at(validity)) {
            (MemberStatus::Verified, _) => ShownStatus::Verified,
            (MemberStatus::Suspended, _) => ShownStatus::Suspended,
            (MemberStatus::Unverified, Some(expires)) if expires <= now => ShownStatus::Expired,
            (MemberStatus::Unverified, _) => ShownStatus::Unverified,
        }
    }
}

/// Which members the Members page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFilter {
    pub status: Option<ShownStatus>,
    /// Invitations last sent at or before this have lapsed: now − the validity.
    pub lapsed_at: Timestamp,
    pub search: Option<Search>,
}

impl MemberFilter {
    /// Everyone, as at `now`.
    pub fn all(now: Timestamp, validity: chrono::Duration) -> Self {
        Self { status: None, lapsed_at: now - validity, search: None }
    }

    /// The filter itself, as the store's query applies it: the answer's last word.
    pub fn keeps(&self, member: &Member) -> bool {
        let lapsed = member.last_invitation_sent_at.is_some_and(|sent| sent <= self.lapsed_at);
        let shown = match member.status {
            MemberStatus::Verified => ShownStatus::Verified,
            MemberStatus::Suspended => ShownStatus::Suspended,
            MemberStatus::Unverified if lapsed => ShownStatus::Expired,
            MemberStatus::Unverified => ShownStatus::Unverified,
        };
        self.status.is_none_or(|status| status == shown) && self.search.as_ref().is_none_or(|q| q.finds(member))
    }
}

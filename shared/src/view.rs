//! What the Members page is sent: the contract's member object.

use crate::domain::{Member, ShownStatus};
use crate::time;
use crate::time::Timestamp;
use serde::Serialize;

pub const RESEND_INVITATION: &str = "resend-invitation";
pub const CANCEL_INVITATION: &str = "cancel-invitation";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: String,
    pub name: String,
    /// Administrators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Administrators only, where the member has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub role: &'static str,
    pub status: &'static str,
    pub invited_at: Option<String>,
    pub invited_by: Option<String>,
    pub last_invitation_sent_at: Option<String>,
    /// Unverified and expired members only: when the temporary password lapses (lapsed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_expires_at: Option<String>,
    /// What the viewer may do to this row.
    pub actions: Vec<&'static str>,
}

impl MemberView {
    /// `member` as `viewer` sees it at `now`, invitations lasting `validity`.
    pub fn of(member: &Member, viewer_is_admin: bool, now: Timestamp, validity: chrono::Duration) -> Self {
        let status = member.shown_status(now, validity);
        let actions = if viewer_is_admin && status != ShownStatus::Verified {
            vec![RESEND_INVITATION, CANCEL_INVITATION]
        } else {
            Vec::new()
        };
        Self {
            user_id: member.user_id.to_string(),
            name: member.name.clone(),
            phone: member.phone.clone().filter(|_| viewer_is_admin),
            email: member.email.clone().filter(|_| viewer_is_admin),
            role: member.role.as_str(),
            status: status.as_str(),
            invited_at: member.invited_at.map(time::rfc3339),
            invited_by: member.invited_by.clone(),
            last_invitation_sent_at: member.last_invitation_sent_at.map(time::rfc3339),
            invitation_expires_at: member.invitation_expires_at(validity).map(time::rfc3339),
            actions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MemberStatus, Role, UserId};

    fn week() -> chrono::Duration {
        chrono::Duration::days(7)
    }

    fn sent() -> Timestamp {
        time::parse("2026-11-26T09:00:00.250Z").unwrap()
    }

    fn member(status: MemberStatus) -> Member {
        Member::new("org", UserId::parse("u1").unwrap(), "Ann", Role::Member, status)
            .reached_at(Some("+447700900123".into()), Some("ann@example.com".into()))
            .invited("admin", sent())
    }

    #[test]
    fn an_admin_sees_contacts_and_the_actions_of_an_unverified_member() {
        let view =
            serde_json::to_value(MemberView::of(&member(MemberStatus::Unverified), true, sent(), week())).unwrap();
        assert_eq!(view["status"], "unverified");
        assert_eq!(view["invitationExpiresAt"], "2026-12-03T09:00:00Z");
        assert_eq!(view["phone"], "+447700900123");
        assert_eq!(view["email"], "ann@example.com");
        assert_eq!(view["actions"], serde_json::json!(["resend-invitation", "cancel-invitation"]));
        assert_eq!(view["invitedAt"], "2026-11-26T09:00:00Z");
        assert_eq!(view["userId"], "u1");
    }

    #[test]
    fn a_verified_member_offers_no_actions() {
        let view = MemberView::of(&member(MemberStatus::Verified), true, sent(), week());
        assert!(view.actions.is_empty());
        assert_eq!(view.invitation_expires_at, None);
    }

    #[test]
    fn a_plain_member_sees_neither_contacts_nor_actions() {
        let view =
            serde_json::to_value(MemberView::of(&member(MemberStatus::Unverified), false, sent(), week())).unwrap();
        assert!(view.get("phone").is_none());
        assert!(view.get("email").is_none());
        assert_eq!(view["actions"], serde_json::json!([]));
    }

    #[test]
    fn an_invitation_expires_when_its_password_lapses_and_keeps_its_actions() {
        let unverified = member(MemberStatus::Unverified);
        let just_before = sent() + week() - chrono::Duration::milliseconds(1);
        assert_eq!(MemberView::of(&unverified, true, just_before, week()).status, "unverified");
        let expired = MemberView::of(&unverified, true, sent() + week(), week());
        assert_eq!(expired.status, "expired");
        assert_eq!(expired.invitation_expires_at.as_deref(), Some("2026-12-03T09:00:00Z"));
        assert_eq!(expired.actions, vec![RESEND_INVITATION, CANCEL_INVITATION]);
        assert_eq!(MemberView::of(&unverified, false, sent() + week(), week()).actions, Vec::<&str>::new());
    }
}

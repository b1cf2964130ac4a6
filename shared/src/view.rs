//! What the Members page is sent: the contract's member object.

use crate::domain::{Member, ShownStatus};
use crate::time;
use crate::time::Timestamp;
use serde::Serialize;

pub const RESEND_INVITATION: &str = "resend-invitation";
pub const CANCEL_INVITATION: &str = "cancel-invitation";
pub const CHANGE_ROLE: &str = "change-role";
pub const SUSPEND: &str = "suspend";
pub const REACTIVATE: &str = "reactivate";
pub const REMOVE: &str = "remove";

/// Who looks at the Members page, as far as the rows' `actions` depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// An administrator: the token's group and the membership's role.
    pub admin: bool,
    /// The viewer's own `userId`: no `suspend` or `remove` on their own row.
    pub user_id: String,
    /// The organisation's active administrators as counted: at one, the last one's row
    /// offers nothing that would demote, suspend or remove them.
    pub active_admins: u64,
}

impl Viewer {
    /// What the viewer may do to `member`, shown as `status`, in the contract's order.
    pub fn actions(&self, member: &Member, status: ShownStatus) -> Vec<&'static str> {
        if !self.admin || member.remove_pending.is_some() {
            return Vec::new();
        }
        let all = match status {
            ShownStatus::Unverified | ShownStatus::Expired => vec![RESEND_INVITATION, CANCEL_INVITATION, CHANGE_ROLE],
            ShownStatus::Verified => vec![CHANGE_ROLE, SUSPEND, REMOVE],
            ShownStatus::Suspended => vec![REACTIVATE, REMOVE],
        };
        let own = member.user_id.as_str() == self.user_id;
        let last_admin = member.is_active_admin() && self.active_admins <= 1;
        all.into_iter()
            .filter(|action| !(own && matches!(*action, SUSPEND | REMOVE)))
            .filter(|action| !(last_admin && matches!(*action, CHANGE_ROLE | SUSPEND | REMOVE)))
            .collect()
    }
}

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
    pub fn of(member: &Member, viewer: &Viewer, now: Timestamp, validity: chrono::Duration) -> Self {
        let status = member.shown_status(now, validity);
        let actions = viewer.actions(member, status);
        let viewer_is_admin = viewer.admin;
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

    fn admin() -> Viewer {
        Viewer { admin: true, user_id: "me".into(), active_admins: 2 }
    }

    fn plain() -> Viewer {
        Viewer { admin: false, user_id: "me".into(), active_admins: 2 }
    }

    fn member(status: MemberStatus) -> Member {
        Member::new("org", UserId::parse("u1").unwrap(), "Ann", Role::Member, status)
            .reached_at(Some("+447700900123".into()), Some("ann@example.com".into()))
            .invited("admin", sent())
    }

    #[test]
    fn an_admin_sees_contacts_and_the_actions_of_an_unverified_member() {
        let view =
            serde_json::to_value(MemberView::of(&member(MemberStatus::Unverified), &admin(), sent(), week())).unwrap();
        assert_eq!(view["status"], "unverified");
        assert_eq!(view["invitationExpiresAt"], "2026-12-03T09:00:00Z");
        assert_eq!(view["phone"], "+447700900123");
        assert_eq!(view["email"], "ann@example.com");
        assert_eq!(view["actions"], serde_json::json!(["resend-invitation", "cancel-invitation", "change-role"]));
        assert_eq!(view["invitedAt"], "2026-11-26T09:00:00Z");
        assert_eq!(view["userId"], "u1");
    }

    #[test]
    fn a_verified_member_offers_the_lifecycle_and_a_suspended_one_its_way_back() {
        let view = MemberView::of(&member(MemberStatus::Verified), &admin(), sent(), week());
        assert_eq!(view.actions, vec![CHANGE_ROLE, SUSPEND, REMOVE]);
        assert_eq!(view.invitation_expires_at, None);
        let view = MemberView::of(&member(MemberStatus::Suspended), &admin(), sent(), week());
        assert_eq!(view.actions, vec![REACTIVATE, REMOVE]);
        assert_eq!(view.status, "suspended");
        assert_eq!(view.invitation_expires_at, None);
    }

    #[test]
    fn nothing_is_offered_that_last_admin_or_own_membership_would_refuse() {
        let mut the_admin = member(MemberStatus::Verified);
        the_admin.role = Role::Admin;
        let last = Viewer { active_admins: 1, ..admin() };
        assert_eq!(MemberView::of(&the_admin, &last, sent(), week()).actions, Vec::<&str>::new());
        assert_eq!(MemberView::of(&the_admin, &admin(), sent(), week()).actions, vec![CHANGE_ROLE, SUSPEND, REMOVE]);
        let me = Viewer { user_id: "u1".into(), ..admin() };
        assert_eq!(MemberView::of(&the_admin, &me, sent(), week()).actions, vec![CHANGE_ROLE]);
        let me_last = Viewer { active_admins: 1, ..me };
        assert_eq!(MemberView::of(&the_admin, &me_last, sent(), week()).actions, Vec::<&str>::new());
        // A plain member of a one-administrator organisation keeps its actions.
        assert_eq!(
            MemberView::of(&member(MemberStatus::Verified), &last, sent(), week()).actions,
            vec![CHANGE_ROLE, SUSPEND, REMOVE]
        );
    }

    #[test]
    fn a_plain_member_sees_neither_contacts_nor_actions() {
        let view =
            serde_json::to_value(MemberView::of(&member(MemberStatus::Unverified), &plain(), sent(), week())).unwrap();
        assert!(view.get("phone").is_none());
        assert!(view.get("email").is_none());
        assert_eq!(view["actions"], serde_json::json!([]));
    }

    #[test]
    fn an_invitation_expires_when_its_password_lapses_and_keeps_its_actions() {
        let unverified = member(MemberStatus::Unverified);
        let just_before = sent() + week() - chrono::Duration::milliseconds(1);
        assert_eq!(MemberView::of(&unverified, &admin(), just_before, week()).status, "unverified");
        let expired = MemberView::of(&unverified, &admin(), sent() + week(), week());
        assert_eq!(expired.status, "expired");
        assert_eq!(expired.invitation_expires_at.as_deref(), Some("2026-12-03T09:00:00Z"));
        assert_eq!(expired.actions, vec![RESEND_INVITATION, CANCEL_INVITATION, CHANGE_ROLE]);
        assert_eq!(MemberView::of(&unverified, &plain(), sent() + week(), week()).actions, Vec::<&str>::new());
    }
}

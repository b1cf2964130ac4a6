//! How a membership is kept as an item of the members table: its sort keys (the Members
//! page's order, by name and by status then name) and its attributes, both ways.

use super::pending::{PENDING, oldest_pending};
use super::{Item, audit_from_item, audit_item, s, text, timestamp};
use crate::domain::{Member, MemberStatus, Role, UserId};
use crate::time;
use aws_sdk_dynamodb::types::AttributeValue;

/// Separates the parts of a sort key; below every printable character, so that `ann`
/// sorts before `ann b` whatever follows.
const KEY_SEPARATOR: char = '\u{1}';

/// `name` lower-cased, then the id: the Members page's order.
pub fn name_key(name: &str, user_id: &UserId) -> String {
    format!("{}{KEY_SEPARATOR}{}", name.to_lowercase(), user_id)
}

/// The status, then the name key: the Members page's order within one status.
pub fn status_key(status: MemberStatus, name: &str, user_id: &UserId) -> String {
    format!("{}{KEY_SEPARATOR}{}", status.as_str(), name_key(name, user_id))
}

/// What every sort key of one status starts with.
pub fn status_prefix(status: MemberStatus) -> String {
    format!("{}{KEY_SEPARATOR}", status.as_str())
}

/// What every sort key of one member ends with.
pub fn name_key_suffix(user_id: &UserId) -> String {
    format!("{KEY_SEPARATOR}{user_id}")
}

pub fn member_item(member: &Member) -> Item {
    let mut item = Item::from([
        ("orgId".into(), s(&member.org_id)),
        ("userId".into(), s(member.user_id.as_str())),
        ("name".into(), s(&member.name)),
        ("nameKey".into(), s(&name_key(&member.name, &member.user_id))),
        ("statusKey".into(), s(&status_key(member.status, &member.name, &member.user_id))),
        ("role".into(), s(member.role.as_str())),
        ("status".into(), s(member.status.as_str())),
    ]);
    let optional = [
        ("phone", member.phone.clone()),
        ("email", member.email.clone()),
        ("invitedAt", member.invited_at.map(time::sortable)),
        ("invitedBy", member.invited_by.clone()),
        ("lastInvitationSentAt", member.last_invitation_sent_at.map(time::sortable)),
        ("lastResentAt", member.last_resent_at.map(time::sortable)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.into(), s(&value));
        }
    }
    if let Some(entry) = &member.cancel_pending {
        item.insert("cancelPending".into(), AttributeValue::M(audit_item(entry)));
    }
    if let Some(entry) = &member.resend_pending {
        item.insert("resendPending".into(), AttributeValue::M(audit_item(entry)));
    }
    if let Some(since) = oldest_pending(member) {
        item.insert("pendingWork".into(), s(PENDING));
        item.insert("pendingSince".into(), s(&time::sortable(since)));
    }
    if let Some(id) = &member.disabled_by {
        item.insert("disabledBy".into(), s(id));
    }
    if let Some(id) = &member.resend_attempted {
        item.insert("resendAttempted".into(), s(id));
    }
    if let Some(id) = &member.last_resend_id {
        item.insert("lastResendId".into(), s(id));
    }
    if let Some(entry) = &member.change_pending {
        item.insert("changePending".into(), AttributeValue::M(audit_item(entry)));
    }
    if let Some(id) = &member.last_change_id {
        item.insert("lastChangeId".into(), s(id));
    }
    if let Some(entry) = &member.remove_pending {
        item.insert("removePending".into(), AttributeValue::M(audit_item(entry)));
    }
    item
}

pub fn member_from_item(item: &Item) -> Option<Member> {
    Some(Member {
        org_id: text(item, "orgId")?,
        user_id: UserId::parse(&text(item, "userId")?).ok()?,
        name: text(item, "name")?,
        phone: text(item, "phone"),
        email: text(item, "email"),
        role: Role::parse(&text(item, "role")?)?,
        status: MemberStatus::parse(&text(item, "status")?)?,
        invited_at: timestamp(item, "invitedAt"),
        invited_by: text(item, "invitedBy"),
        last_invitation_sent_at: timestamp(item, "lastInvitationSentAt"),
        last_resent_at: timestamp(item, "lastResentAt"),
        resend_pending: match item.get("resendPending") {
            Some(AttributeValue::M(entry)) => Some(audit_from_item(entry)?),
            _ => None,
        },
        cancel_pending: match item.get("cancelPending") {
            Some(AttributeValue::M(entry)) => Some(audit_from_item(entry)?),
            _ => None,
        },
        disabled_by: text(item, "disabledBy"),
        resend_attempted: text(item, "resendAttempted"),
        last_resend_id: text(item, "lastResendId"),
        change_pending: match item.get("changePending") {
            Some(AttributeValue::M(entry)) => Some(audit_from_item(entry)?),
            _ => None,
        },
        last_change_id: text(item, "lastChangeId"),
        remove_pending: match item.get("removePending") {
            Some(AttributeValue::M(entry)) => Some(audit_from_item(entry)?),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> UserId {
        UserId::parse(raw).unwrap()
    }

    #[test]
    fn shorter_names_sort_before_longer_ones_that_extend_them() {
        assert!(name_key("Ann", &id("zzz")) < name_key("ann b", &id("aaa")));
        assert!(name_key("ann", &id("b")) > name_key("ANN", &id("a")));
        assert!(name_key("Bob", &id("a")) > name_key("ann", &id("z")));
    }

    #[test]
    fn a_status_prefix_selects_exactly_that_status() {
        let key = status_key(MemberStatus::Unverified, "Ann", &id("u"));
        assert!(key.starts_with(&status_prefix(MemberStatus::Unverified)));
        assert!(!key.starts_with(&status_prefix(MemberStatus::Verified)));
    }

    #[test]
    fn a_member_survives_the_round_trip_through_an_item() {
        let member = Member {
            org_id: "org-a".into(),
            user_id: id("u-1"),
            name: "Ann Example".into(),
            phone: Some("+447700900123".into()),
            email: None,
            role: Role::Member,
            status: MemberStatus::Unverified,
            invited_at: time::parse("2026-11-26T09:00:00.123Z"),
            invited_by: Some("admin-1".into()),
            last_invitation_sent_at: time::parse("2026-11-26T09:00:00Z"),
            last_resent_at: None,
            resend_pending: None,
            cancel_pending: None,
            disabled_by: Some("entry-1".into()),
            resend_attempted: None,
            last_resend_id: Some("entry-0".into()),
            change_pending: None,
            last_change_id: Some("change-1".into()),
            remove_pending: None,
        };
        assert_eq!(member_from_item(&member_item(&member)), Some(member));
    }
}

//! The audit log's entries: who did what to whom, when, from where.

use super::{Actor, Member, RequestMeta, Role};
use crate::time::{self, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Invited,
    CanceledInvite,
    ResentInvite,
    AcceptedInvite,
    ChangedRole,
    Suspended,
    Reactivated,
    Removed,
}

impl AuditAction {
    pub const ALL: [Self; 8] = [
        Self::Invited,
        Self::CanceledInvite,
        Self::ResentInvite,
        Self::AcceptedInvite,
        Self::ChangedRole,
        Self::Suspended,
        Self::Reactivated,
        Self::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "Admin invited user",
            Self::CanceledInvite => "Admin canceled user invite",
            Self::ResentInvite => "Admin resent user invite",
            Self::AcceptedInvite => "User accepted invite",
            Self::ChangedRole => "Admin changed member role",
            Self::Suspended => "Admin suspended member",
            Self::Reactivated => "Admin reactivated member",
            Self::Removed => "Admin removed member",
        }
    }

    /// The Log filter's name for the action.
    pub fn filter_name(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::CanceledInvite => "canceled",
            Self::ResentInvite => "resent",
            Self::AcceptedInvite => "accepted",
            Self::ChangedRole => "role-changed",
            Self::Suspended => "suspended",
            Self::Reactivated => "reactivated",
            Self::Removed => "removed",
        }
    }

    /// The `detail-type` of the action's event on the stack's bus (docs/events.md).
    pub fn event_type(self) -> &'static str {
        match self {
            Self::Invited => "Invitation Created",
            Self::CanceledInvite => "Invitation Canceled",
            Self::ResentInvite => "Invitation Resent",
            Self::AcceptedInvite => "Invitation Accepted",
            Self::ChangedRole => "Member Role Changed",
            Self::Suspended => "Member Suspended",
            Self::Reactivated => "Member Reactivated",
            Self::Removed => "Member Removed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == raw)
    }

    pub fn from_filter_name(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.filter_name() == raw)
    }
}

/// What a role change changed: the entry's `changes.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleChange {
    pub from: Role,
    pub to: Role,
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
    /// A role change's before and after; none for the other actions.
    pub role_change: Option<RoleChange>,
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
            role_change: None,
        }
    }

    /// `member`'s own `User accepted invite`: the first time their membership is marked
    /// verified, by whichever request learned it from Cognito (`request_id`, of `learned_by`:
    /// the trigger, or a cancel or resend that found them confirmed), at `at`. The id is the
    /// member's own (one acceptance a membership), so a retry writes the same entry again.
    pub fn accepted(member: &Member, request_id: &str, learned_by: &str, at: Timestamp) -> Self {
        let actor = Actor { id: member.user_id.to_string(), org_id: member.org_id.clone(), name: member.name.clone() };
        let meta = RequestMeta {
            request_id: request_id.to_owned(),
            source_ip: "cognito".to_owned(),
            user_agent: learned_by.to_owned(),
        };
        let id = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("accepted\n{}\n{}", member.org_id, member.user_id).as_bytes(),
        );
        Self::new(AuditAction::AcceptedInvite, &actor, &meta, member, at).with_id(id.to_string())
    }

    /// What the entry changed, as the Log, the export and the events show it (a role
    /// change's `{"role": {"from", "to"}}`); none for the other actions.
    pub fn changes(&self) -> Option<serde_json::Value> {
        self.role_change
            .map(|change| serde_json::json!({"role": {"from": change.from.as_str(), "to": change.to.as_str()}}))
    }

    /// With the role change it records.
    pub fn changing_role(self, from: Role, to: Role) -> Self {
        Self { role_change: Some(RoleChange { from, to }), ..self }
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

    /// Whether `key` has the shape [`AuditEntry::entry_key`] gives (a time, `#`, an id): what
    /// a cursor read back from a client must carry.
    pub fn is_entry_key(key: &str) -> bool {
        key.split_once('#').is_some_and(|(at, id)| {
            time::parse(at).is_some() && !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_actions_are_the_contract_strings() {
        assert_eq!(AuditAction::CanceledInvite.as_str(), "Admin canceled user invite");
        assert_eq!(AuditAction::Invited.as_str(), "Admin invited user");
        assert_eq!(AuditAction::ResentInvite.as_str(), "Admin resent user invite");
        assert_eq!(AuditAction::parse("Admin canceled user invite"), Some(AuditAction::CanceledInvite));
        assert_eq!(AuditAction::AcceptedInvite.as_str(), "User accepted invite");
        assert_eq!(AuditAction::ChangedRole.as_str(), "Admin changed member role");
        assert_eq!(AuditAction::Suspended.as_str(), "Admin suspended member");
        assert_eq!(AuditAction::Reactivated.as_str(), "Admin reactivated member");
        assert_eq!(AuditAction::Removed.as_str(), "Admin removed member");
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
            assert_eq!(AuditAction::from_filter_name(action.filter_name()), Some(action));
        }
        assert_eq!(AuditAction::from_filter_name("role-changed"), Some(AuditAction::ChangedRole));
        let event_types: Vec<_> = AuditAction::ALL.into_iter().map(AuditAction::event_type).collect();
        assert_eq!(
            event_types,
            [
                "Invitation Created",
                "Invitation Canceled",
                "Invitation Resent",
                "Invitation Accepted",
                "Member Role Changed",
                "Member Suspended",
                "Member Reactivated",
                "Member Removed"
            ]
        );
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
            role_change: None,
        };
        assert!(entry(1_000, "zzz").entry_key() < entry(2_000, "aaa").entry_key());
        assert!(entry(9, "a").entry_key() < entry(10_000_000_000, "a").entry_key());
    }
}

//! An audit entry as its event on the stack's bus: `source` `members-api`, the action's
//! `detail-type`, and a `detail` naming who did what to whom, never a phone number or an
//! email address (docs/events.md is the catalogue).

use serde_json::{Value, json};
use shared::domain::AuditEntry;
use shared::time::{self, Timestamp};

/// Every event's `source`.
pub const SOURCE: &str = "members-api";

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// The audit entry's id: a consumer de-duplicates by it (delivery is at least once).
    pub entry_id: String,
    pub detail_type: &'static str,
    pub detail: Value,
    /// When the entry occurred: the event's `time`.
    pub time: Timestamp,
}

impl AuditEvent {
    pub fn of(entry: &AuditEntry) -> Self {
        let mut detail = json!({
            "entryId": entry.id,
            "orgId": entry.org_id,
            "occurredAt": time::rfc3339(entry.occurred_at),
            "actor": {"id": entry.actor_id, "name": entry.actor_name},
            "target": {"id": entry.target_id, "name": entry.target_name},
        });
        if let Some(changes) = entry.changes() {
            detail["changes"] = changes;
        }
        Self { entry_id: entry.id.clone(), detail_type: entry.action.event_type(), detail, time: entry.occurred_at }
    }

    /// The event as a rule's target would receive it, less what only EventBridge gives
    /// (`id`, `account`, `region`): the dead-letter queue's message, ready to be put again.
    pub fn to_json(&self) -> Value {
        json!({
            "source": SOURCE,
            "detail-type": self.detail_type,
            "time": time::rfc3339(self.time),
            "detail": self.detail,
        })
    }
}

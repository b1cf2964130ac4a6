//! The DynamoDB tables: membership records (the mirror the Members page lists) and the
//! append-only audit log.

use crate::domain::{AuditAction, AuditEntry, Member, MemberStatus, Role, UserId};
use crate::time;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} failed")]
pub struct StoreError {
    pub operation: &'static str,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    fn new(operation: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { operation, source: source.into() }
    }
}

impl From<StoreError> for crate::ApiError {
    fn from(error: StoreError) -> Self {
        crate::ApiError::unavailable(error)
    }
}

/// Whether a conditional write found the record it expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The condition failed: the membership was already gone (or, for an audit entry,
    /// the entry was already written).
    ConditionFailed,
}

#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    members_table: String,
    audit_table: String,
}

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

impl Store {
    pub fn new(client: Client, members_table: impl Into<String>, audit_table: impl Into<String>) -> Self {
        Self { client, members_table: members_table.into(), audit_table: audit_table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn member_key(org_id: &str, user_id: &UserId) -> Item {
        HashMap::from([("orgId".to_owned(), s(org_id)), ("userId".to_owned(), s(user_id.as_str()))])
    }

    pub async fn get_member(&self, org_id: &str, user_id: &UserId) -> Result<Option<Member>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.members_table)
            .set_key(Some(Self::member_key(org_id, user_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::new("GetItem", e))?;
        output
            .item
            .map(|item| {
                member_from_item(&item).ok_or_else(|| StoreError::new("GetItem", "malformed membership record"))
            })
            .transpose()
    }

    /// Writes a new membership record; fails the condition if one exists already.
    pub async fn put_new_member(&self, member: &Member) -> Result<Outcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.members_table)
            .set_item(Some(member_item(member)))
            .condition_expression("attribute_not_exists(userId)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Done),
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(StoreError::new("PutItem", e)),
        }
    }

    /// Records the audit entry a cancel is about to write, before it deletes anything.
    pub async fn mark_cancel_pending(&self, member: &Member, entry: &AuditEntry) -> Result<Outcome, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.members_table)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("SET cancelPending = :entry")
            .condition_expression("attribute_exists(userId)")
            .expression_attribute_values(":entry", AttributeValue::M(audit_item(entry)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Done),
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(StoreError::new("UpdateItem", e)),
        }
    }

    /// Corrects the status mirror once Cognito has said the member is verified, and drops
    /// any cancel that was in flight.
    pub async fn mark_verified(&self, member: &Member) -> Result<Outcome, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.members_table)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("SET #status = :verified, statusKey = :statusKey REMOVE cancelPending")
            .condition_expression("attribute_exists(userId)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":verified", s(MemberStatus::Verified.as_str()))
            .expression_attribute_values(
                ":statusKey",
                s(&status_key(MemberStatus::Verified, &member.name, &member.user_id)),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Done),
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(StoreError::new("UpdateItem", e)),
        }
    }

    /// Removes the membership and appends the audit entry in one transaction. The removal is
    /// conditional on the membership still existing, so of two cancels racing to finish only
    /// one commits, and only one entry is ever written; the entry itself is conditional on
    /// its key being new. The entry id doubles as the transaction's idempotency token, so an
    /// SDK retry of a transaction that did commit is not applied twice.
    pub async fn remove_member_with_audit(&self, member: &Member, entry: &AuditEntry) -> Result<Outcome, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.members_table)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .condition_expression("attribute_exists(userId)")
            .build()
            .map_err(|e| StoreError::new("TransactWriteItems", e))?;
        let put = Put::builder()
            .table_name(&self.audit_table)
            .set_item(Some(audit_item(entry)))
            .condition_expression("attribute_not_exists(entryId)")
            .build()
            .map_err(|e| StoreError::new("TransactWriteItems", e))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .client_request_token(&entry.id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Done),
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(StoreError::new("TransactWriteItems", e)),
        }
    }

    /// Every audit entry of an organisation, oldest first (tests and tools; the Log tab pages).
    pub async fn audit_entries(&self, org_id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.audit_table)
                .key_condition_expression("orgId = :org")
                .expression_attribute_values(":org", s(org_id))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::new("Query", e))?;
            for item in output.items() {
                entries.push(audit_from_item(item).ok_or_else(|| StoreError::new("Query", "malformed audit item"))?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(entries);
            }
        }
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn timestamp(item: &Item, name: &str) -> Option<time::Timestamp> {
    text(item, name).and_then(|t| time::parse(&t))
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
        ("invitedAt", member.invited_at.map(time::rfc3339)),
        ("invitedBy", member.invited_by.clone()),
        ("lastInvitationSentAt", member.last_invitation_sent_at.map(time::rfc3339)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.into(), s(&value));
        }
    }
    if let Some(entry) = &member.cancel_pending {
        item.insert("cancelPending".into(), AttributeValue::M(audit_item(entry)));
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
        cancel_pending: match item.get("cancelPending") {
            Some(AttributeValue::M(entry)) => Some(audit_from_item(entry)?),
            _ => None,
        },
    })
}

pub fn audit_item(entry: &AuditEntry) -> Item {
    Item::from([
        ("orgId".into(), s(&entry.org_id)),
        ("entryId".into(), s(&entry.entry_key())),
        ("id".into(), s(&entry.id)),
        ("action".into(), s(entry.action.as_str())),
        ("occurredAt".into(), s(&time::sortable(entry.occurred_at))),
        ("actorId".into(), s(&entry.actor_id)),
        ("actorName".into(), s(&entry.actor_name)),
        ("targetId".into(), s(&entry.target_id)),
        ("targetName".into(), s(&entry.target_name)),
        ("requestId".into(), s(&entry.request_id)),
        ("sourceIp".into(), s(&entry.source_ip)),
        ("userAgent".into(), s(&entry.user_agent)),
    ])
}

pub fn audit_from_item(item: &Item) -> Option<AuditEntry> {
    Some(AuditEntry {
        id: text(item, "id")?,
        org_id: text(item, "orgId")?,
        action: AuditAction::parse(&text(item, "action")?)?,
        occurred_at: timestamp(item, "occurredAt")?,
        actor_id: text(item, "actorId")?,
        actor_name: text(item, "actorName").unwrap_or_default(),
        target_id: text(item, "targetId")?,
        target_name: text(item, "targetName").unwrap_or_default(),
        request_id: text(item, "requestId")?,
        source_ip: text(item, "sourceIp").unwrap_or_default(),
        user_agent: text(item, "userAgent").unwrap_or_default(),
    })
}

/// A conditional write whose condition did not hold, alone or inside a transaction.
fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    let Some(service_error) = error.as_service_error() else { return false };
    match service_error.code() {
        Some("ConditionalCheckFailedException") => true,
        // A transaction lists a reason per item; a conflict with another transaction is
        // not a failed condition and is retried by the caller.
        Some("TransactionCanceledException") => {
            service_error.message().is_some_and(|m| m.contains("ConditionalCheckFailed"))
        }
        _ => false,
    }
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
    fn a_member_survives_the_round_trip_through_an_item() {
        let member = Member {
            org_id: "org-a".into(),
            user_id: id("u-1"),
            name: "Ann Example".into(),
            phone: Some("+447700900123".into()),
            email: None,
            role: Role::Member,
            status: MemberStatus::Unverified,
            invited_at: time::parse("2026-11-26T09:00:00Z"),
            invited_by: Some("admin-1".into()),
            last_invitation_sent_at: time::parse("2026-11-26T09:00:00Z"),
            cancel_pending: None,
        };
        assert_eq!(member_from_item(&member_item(&member)), Some(member));
    }
}

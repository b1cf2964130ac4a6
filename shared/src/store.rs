//! The DynamoDB tables as the [`Store`]: membership records (the mirror the Members page
//! lists), contact claims, the append-only audit log, and idempotency records.

use crate::config::Tables;
use crate::domain::{AuditAction, AuditEntry, Member, MemberStatus, Role, UserId};
use crate::ports::{
    Addition, AuditPage, Claim, Cooldown, MemberPage, Outcome, PageKey, Store, StoreError, StoredResponse,
};
use crate::time::{self, Timestamp};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use std::collections::HashMap;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// How long a response is kept for replay under its `Idempotency-Key`.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a call holds a key before another call with the same key may take over (longer
/// than a function's timeout, so a live call is never overtaken).
pub const IDEMPOTENCY_LEASE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
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

/// What every sort key of one status starts with.
pub fn status_prefix(status: MemberStatus) -> String {
    format!("{}{KEY_SEPARATOR}", status.as_str())
}

/// What every sort key of one member ends with.
pub fn name_key_suffix(user_id: &UserId) -> String {
    format!("{KEY_SEPARATOR}{user_id}")
}

/// The claim key of a phone number or email address in the contacts table.
pub fn contact_key(kind: &str, value: &str) -> String {
    format!("{kind}#{value}")
}

fn failed(operation: &'static str, source: impl Into<crate::ports::Cause>) -> StoreError {
    StoreError { operation, source: source.into() }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

fn timestamp(item: &Item, name: &str) -> Option<Timestamp> {
    text(item, name).and_then(|t| time::parse(&t))
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

/// The indexes of the items of a cancelled transaction whose condition failed; `None` when
/// the transaction failed for another reason (a conflict, throttling) and may be retried.
fn failed_conditions<R>(error: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<usize>> {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() else {
        return None;
    };
    let failed: Vec<usize> = cancelled
        .cancellation_reasons()
        .iter()
        .enumerate()
        .filter(|(_, reason)| reason.code() == Some("ConditionalCheckFailed"))
        .map(|(index, _)| index)
        .collect();
    (!failed.is_empty()).then_some(failed)
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn member_key(org_id: &str, user_id: &UserId) -> Item {
        Item::from([("orgId".to_owned(), s(org_id)), ("userId".to_owned(), s(user_id.as_str()))])
    }

    fn contact_claims(member: &Member) -> Vec<String> {
        let mut claims = Vec::new();
        if let Some(phone) = &member.phone {
            claims.push(contact_key("phone", phone));
        }
        if let Some(email) = &member.email {
            claims.push(contact_key("email", email));
        }
        claims
    }

    /// The audit entry as a transaction item, written only if its key is new.
    fn audit_put(&self, entry: &AuditEntry) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.tables.audit)
            .set_item(Some(audit_item(entry)))
            .condition_expression("attribute_not_exists(entryId)")
            .build()
            .map_err(|e| failed("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The entry id doubles as the transaction's idempotency token, so an SDK retry of a
    /// transaction that did commit is not applied twice.
    async fn commit(
        &self,
        items: Vec<TransactWriteItem>,
        entry: &AuditEntry,
    ) -> Result<(), SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(&entry.id)
            .send()
            .await
            .map(|_| ())
    }

    /// Writes a membership record as it is, without claims or audit (tests and tools).
    pub async fn put_member_record(&self, member: &Member) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.members)
            .set_item(Some(member_item(member)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("PutItem", e))
    }

    /// Every audit entry of an organisation, oldest first (tests and tools).
    pub async fn audit_entries(&self, org_id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.tables.audit)
                .key_condition_expression("orgId = :org")
                .expression_attribute_values(":org", s(org_id))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            for item in output.items() {
                entries.push(audit_from_item(item).ok_or_else(|| failed("Query", "malformed audit item"))?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(entries);
            }
        }
    }
}

impl Store for DynamoStore {
    async fn get_member(&self, org_id: &str, user_id: &UserId) -> Result<Option<Member>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(org_id, user_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?;
        output
            .item
            .map(|item| member_from_item(&item).ok_or_else(|| failed("GetItem", "malformed membership")))
            .transpose()
    }

    async fn add_member_with_audit(&self, member: &Member, entry: &AuditEntry) -> Result<Addition, StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| failed("TransactWriteItems", e);
        let mut items = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.tables.members)
                        .set_item(Some(member_item(member)))
                        .condition_expression("attribute_not_exists(userId)")
                        .build()
                        .map_err(build)?,
                )
                .build(),
        ];
        for claim in Self::contact_claims(member) {
            let item = Item::from([
                ("contact".to_owned(), s(&claim)),
                ("userId".to_owned(), s(member.user_id.as_str())),
                ("orgId".to_owned(), s(&member.org_id)),
            ]);
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.tables.contacts)
                            .set_item(Some(item))
                            .condition_expression("attribute_not_exists(contact) OR userId = :me")
                            .expression_attribute_values(":me", s(member.user_id.as_str()))
                            .build()
                            .map_err(build)?,
                    )
                    .build(),
            );
        }
        items.push(self.audit_put(entry)?);
        let result = self.commit(items, entry).await;
        match result {
            Ok(_) => Ok(Addition::Added),
            Err(error) => match failed_conditions(&error) {
                Some(indexes) if indexes.contains(&0) => Ok(Addition::AlreadyMember),
                Some(_) => Ok(Addition::ContactTaken),
                None => Err(failed("TransactWriteItems", error)),
            },
        }
    }

    async fn mark_cancel_pending(&self, member: &Member, entry: &AuditEntry) -> Result<Outcome, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("SET cancelPending = :entry")
            .condition_expression("attribute_exists(userId)")
            .expression_attribute_values(":entry", AttributeValue::M(audit_item(entry)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Done),
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    async fn mark_verified(&self, member: &Member) -> Result<Outcome, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.members)
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
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    /// The removal is conditional on the membership still existing, so of two cancels racing
    /// to finish only one commits, and only one entry is ever written; the entry itself is
    /// conditional on its key being new.
    async fn remove_member_with_audit(&self, member: &Member, entry: &AuditEntry) -> Result<Outcome, StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| failed("TransactWriteItems", e);
        let mut items = vec![
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.tables.members)
                        .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
                        .condition_expression("attribute_exists(userId)")
                        .build()
                        .map_err(build)?,
                )
                .build(),
        ];
        for claim in Self::contact_claims(member) {
            items.push(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.tables.contacts)
                            .key("contact", s(&claim))
                            .build()
                            .map_err(build)?,
                    )
                    .build(),
            );
        }
        items.push(self.audit_put(entry)?);
        let result = self.commit(items, entry).await;
        match result {
            Ok(_) => Ok(Outcome::Done),
            Err(error) if failed_conditions(&error).is_some() => Ok(Outcome::ConditionFailed),
            Err(error) => Err(failed("TransactWriteItems", error)),
        }
    }

    async fn list_members(
        &self,
        org_id: &str,
        status: Option<MemberStatus>,
        limit: usize,
        after: Option<&PageKey>,
    ) -> Result<MemberPage, StoreError> {
        let (index, sort_attribute) = if status.is_some() { ("byStatus", "statusKey") } else { ("byName", "nameKey") };
        let mut query = self
            .client
            .query()
            .table_name(&self.tables.members)
            .index_name(index)
            .expression_attribute_values(":org", s(org_id))
            // One more than asked for tells whether another page follows.
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        query = match status {
            Some(status) => query
                .key_condition_expression("orgId = :org AND begins_with(statusKey, :status)")
                .expression_attribute_values(":status", s(&status_prefix(status))),
            None => query.key_condition_expression("orgId = :org"),
        };
        if let Some(after) = after {
            query = query.set_exclusive_start_key(Some(Item::from([
                ("orgId".to_owned(), s(org_id)),
                ("userId".to_owned(), s(&after.user_id)),
                (sort_attribute.to_owned(), s(&after.sort_key)),
            ])));
        }
        let output = query.send().await.map_err(|e| failed("Query", e))?;
        let mut items = output.items().to_vec();
        let more = items.len() > limit || output.last_evaluated_key.is_some();
        items.truncate(limit);
        let next = match items.last() {
            Some(last) if more => Some(PageKey {
                user_id: text(last, "userId").unwrap_or_default(),
                sort_key: text(last, sort_attribute).unwrap_or_default(),
            }),
            _ => None,
        };
        let members = items
            .iter()
            .map(|item| member_from_item(item).ok_or_else(|| failed("Query", "malformed membership")))
            .collect::<Result<_, _>>()?;
        Ok(MemberPage { members, next })
    }

    async fn claim_resend(
        &self,
        member: &Member,
        now: Timestamp,
        cooldown: Duration,
        entry: &AuditEntry,
    ) -> Result<Cooldown, StoreError> {
        let cooldown_delta = chrono::Duration::from_std(cooldown).unwrap_or(chrono::Duration::MAX);
        let threshold = now.checked_sub_signed(cooldown_delta).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("SET lastInvitationSentAt = :now, lastResentAt = :now, resendPending = :entry")
            .condition_expression(
                "attribute_exists(userId) AND (attribute_not_exists(lastResentAt) OR lastResentAt <= :threshold)",
            )
            .expression_attribute_values(":now", s(&time::sortable(now)))
            .expression_attribute_values(":threshold", s(&time::sortable(threshold)))
            .expression_attribute_values(":entry", AttributeValue::M(audit_item(entry)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Cooldown::Claimed),
            Err(e) if is_condition_failure(&e) => {
                let Some(current) = self.get_member(&member.org_id, &member.user_id).await? else {
                    return Ok(Cooldown::NoMember);
                };
                let last = current.last_resent_at.unwrap_or(now);
                let wait = last
                    .checked_add_signed(cooldown_delta)
                    .map_or(i64::MAX, |allowed| (allowed - now).num_milliseconds().max(0));
                // Whole seconds, rounded up, and at least one.
                Ok(Cooldown::TooSoon { retry_after_seconds: (wait.saturating_add(999) / 1000).max(1) as u64 })
            }
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    async fn release_resend(&self, member: &Member, claimed_at: Timestamp) -> Result<(), StoreError> {
        let mut set = Vec::new();
        let mut remove = vec!["resendPending"];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .condition_expression("lastResentAt = :claimed")
            .expression_attribute_values(":claimed", s(&time::sortable(claimed_at)));
        for (attribute, previous) in
            [("lastInvitationSentAt", member.last_invitation_sent_at), ("lastResentAt", member.last_resent_at)]
        {
            match previous {
                Some(previous) => {
                    set.push(format!("{attribute} = :{attribute}"));
                    update = update.expression_attribute_values(format!(":{attribute}"), s(&time::sortable(previous)));
                }
                None => remove.push(attribute),
            }
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str(&format!("SET {} ", set.join(", ")));
        }
        expression.push_str(&format!("REMOVE {}", remove.join(", ")));
        match update.update_expression(expression).send().await {
            Ok(_) => Ok(()),
            // Someone resent since: their claim stands.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    async fn complete_resend(&self, member: &Member, entry: &AuditEntry) -> Result<(), StoreError> {
        self.append_audit(entry).await?;
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("REMOVE resendPending")
            .condition_expression("resendPending.id = :id")
            .expression_attribute_values(":id", s(&entry.id))
            .send()
            .await;
        match result {
            // Gone, or another resend's entry is pending now: nothing of ours to clear.
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.audit)
            .set_item(Some(audit_item(entry)))
            .condition_expression("attribute_not_exists(entryId)")
            .send()
            .await;
        match result {
            // Written already by an earlier attempt of this same entry.
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("PutItem", e)),
        }
    }

    async fn audit_page(&self, org_id: &str, limit: usize, before: Option<&str>) -> Result<AuditPage, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.tables.audit)
            .key_condition_expression("orgId = :org")
            .expression_attribute_values(":org", s(org_id))
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        if let Some(before) = before {
            query = query.set_exclusive_start_key(Some(Item::from([
                ("orgId".to_owned(), s(org_id)),
                ("entryId".to_owned(), s(before)),
            ])));
        }
        let output = query.send().await.map_err(|e| failed("Query", e))?;
        let mut items = output.items().to_vec();
        let more = items.len() > limit || output.last_evaluated_key.is_some();
        items.truncate(limit);
        let next = if more { items.last().and_then(|last| text(last, "entryId")) } else { None };
        let entries = items
            .iter()
            .map(|item| audit_from_item(item).ok_or_else(|| failed("Query", "malformed audit item")))
            .collect::<Result<_, _>>()?;
        Ok(AuditPage { entries, next })
    }

    async fn claim_idempotency_key(&self, key: &str, fingerprint: &str, now: Timestamp) -> Result<Claim, StoreError> {
        let now_s = now.timestamp();
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.idempotency)
            .item("key", s(key))
            .item("fingerprint", s(fingerprint))
            .item("state", s("pending"))
            .item("leaseUntil", n(now_s + IDEMPOTENCY_LEASE.as_secs() as i64))
            .item("expiresAt", n(now_s + IDEMPOTENCY_TTL.as_secs() as i64))
            // A new key; or one whose record expired but was not yet swept; or one whose
            // holder died mid-way (lease over) with this same request, which we take over.
            .condition_expression(
                "attribute_not_exists(#key) OR expiresAt < :now OR (#state = :pending AND leaseUntil < :now AND fingerprint = :fp)",
            )
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now_s))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":fp", s(fingerprint))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(Claim::Claimed),
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(failed("PutItem", e)),
        }
        let existing = self
            .client
            .get_item()
            .table_name(&self.tables.idempotency)
            .key("key", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?
            .item;
        let Some(existing) = existing else {
            // Released between our write and our read: the holder failed; let the client retry.
            return Ok(Claim::InFlight);
        };
        if text(&existing, "fingerprint").as_deref() != Some(fingerprint) {
            return Ok(Claim::Mismatch);
        }
        if text(&existing, "state").as_deref() != Some("done") {
            return Ok(Claim::InFlight);
        }
        let headers = text(&existing, "headers").and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
        Ok(Claim::Replay(StoredResponse {
            status: number(&existing, "status").and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
            headers,
            body: text(&existing, "body").unwrap_or_default(),
        }))
    }

    async fn finish_idempotency_key(
        &self,
        key: &str,
        response: &StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("key", s(key))
            .update_expression("SET #state = :done, #status = :status, headers = :headers, body = :body, expiresAt = :expires REMOVE leaseUntil")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":status", n(i64::from(response.status)))
            .expression_attribute_values(":headers", s(&serde_json::to_string(&response.headers).unwrap_or_default()))
            .expression_attribute_values(":body", s(&response.body))
            .expression_attribute_values(":expires", n(now.timestamp() + IDEMPOTENCY_TTL.as_secs() as i64))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("UpdateItem", e))
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.idempotency)
            .key("key", s(key))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| if is_condition_failure(&e) { Ok(()) } else { Err(failed("DeleteItem", e)) })
    }
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
        };
        assert_eq!(member_from_item(&member_item(&member)), Some(member));
    }
}

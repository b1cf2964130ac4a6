//! The audit table: `orgId` + `entryId` (time, then the entry's id), append-only. Every
//! write is conditional on the key being new, so an entry is never overwritten and a repeat
//! of the same entry is never a second one.

use super::member_listing::FILTERED_PAGE_READ;
use super::{Backfilled, DynamoStore, Item, failed, is_condition_failure, n, s, text, timestamp};
use crate::domain::{AuditAction, AuditEntry, Role, RoleChange};
use crate::ports::{AuditFilter, AuditLog, AuditPage, StoreError};
use crate::time::{self, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

/// The audit table's TTL attribute (the template's `TimeToLiveSpecification`).
pub const EXPIRES_AT: &str = "expiresAt";

/// What every read of the log keeps: entries with no TTL, or whose TTL is still ahead.
/// DynamoDB deletes an expired item only some time (up to days) after its TTL, so a read
/// that did not ask would show it.
const UNEXPIRED: &str = "(attribute_not_exists(expiresAt) OR expiresAt > :now)";

impl DynamoStore {
    /// One page (`page` items read) of the migration that gives entries written before the
    /// Log's action index their `orgAction` (`orgId#action`), which the index is keyed by:
    /// without it the action filter misses them. Idempotent (each write is conditional on
    /// the attribute still missing, and on the entry existing) and resumable from `start`.
    /// The audit table is otherwise append-only: an operator runs this (`make migrate`) with
    /// their own credentials; no function's role may update an entry.
    pub async fn backfill_org_action(&self, start: Option<Item>, page: i32) -> Result<Backfilled, StoreError> {
        let output = self
            .client
            .scan()
            .table_name(&self.tables.audit)
            .filter_expression("attribute_not_exists(orgAction)")
            .projection_expression("orgId, entryId, #action")
            .expression_attribute_names("#action", "action")
            .limit(page)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| failed("Scan", e))?;
        let mut done = Backfilled { updated: 0, unreadable: 0, next: output.last_evaluated_key.clone() };
        for item in output.items() {
            let action = text(item, "action").and_then(|a| AuditAction::parse(&a));
            let (Some(org_id), Some(entry_id), Some(action)) = (text(item, "orgId"), text(item, "entryId"), action)
            else {
                done.unreadable += 1;
                continue;
            };
            let result = self
                .client
                .update_item()
                .table_name(&self.tables.audit)
                .key("orgId", s(&org_id))
                .key("entryId", s(&entry_id))
                .update_expression("SET orgAction = :orgAction")
                .condition_expression("attribute_exists(entryId) AND attribute_not_exists(orgAction)")
                .expression_attribute_values(":orgAction", s(&org_action(&org_id, action)))
                .send()
                .await;
            match result {
                Ok(_) => done.updated += 1,
                Err(e) if is_condition_failure(&e) => {} // Given it since.
                Err(e) => return Err(failed("UpdateItem", e)),
            }
        }
        Ok(done)
    }

    /// The audit entry as an item of the transaction `token`, written only if its key is
    /// new. The item keeps the token, so that the writer alone can tell it wrote it.
    pub(super) fn audit_put(&self, entry: &AuditEntry, token: &str) -> Result<TransactWriteItem, StoreError> {
        let mut item = self.audit_record(entry);
        item.insert("writtenBy".into(), s(token));
        let put = Put::builder()
            .table_name(&self.tables.audit)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(entryId)")
            .build()
            .map_err(|e| failed("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// `entry` as the audit table keeps it: its item, with the TTL the store's retention
    /// gives it (`expiresAt`, seconds since the epoch, counted from when it occurred).
    fn audit_record(&self, entry: &AuditEntry) -> Item {
        let mut item = audit_item(entry);
        if let Some(retention) = self.audit_retention {
            item.insert(EXPIRES_AT.into(), n((entry.occurred_at + retention).timestamp()));
        }
        item
    }

    /// `entry`'s item as stored, with only `attribute`, if it is in the log.
    async fn stored(&self, entry: &AuditEntry, attribute: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.audit)
            .key("orgId", s(&entry.org_id))
            .key("entryId", s(&entry.entry_key()))
            .consistent_read(true)
            .projection_expression(attribute)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?;
        Ok(output.item)
    }

    /// Whether the transaction `token` wrote `entry`: how a writer whose answer was lost
    /// learns that it committed (and not another request finishing the same entry).
    pub(super) async fn written_by(&self, entry: &AuditEntry, token: &str) -> Result<bool, StoreError> {
        let item = self.stored(entry, "writtenBy").await?;
        Ok(item.is_some_and(|item| text(&item, "writtenBy").as_deref() == Some(token)))
    }

    /// One page (DynamoDB's, up to 1 MB) of an organisation's entries that occurred from
    /// `from` to `to` (both included), newest first, none past its retention; `start` is the
    /// previous page's `next`. The export reads a range whole this way, a page in memory at
    /// a time: one query a page, on the table's own key, read consistently.
    pub async fn audit_range_page(
        &self,
        org_id: &str,
        from: Timestamp,
        to: Timestamp,
        start: Option<Item>,
    ) -> Result<(Vec<AuditEntry>, Option<Item>), StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.tables.audit)
            .key_condition_expression("orgId = :org AND entryId BETWEEN :from AND :to")
            .filter_expression(UNEXPIRED)
            .expression_attribute_values(":org", s(org_id))
            .expression_attribute_values(":from", s(&time::sortable(from)))
            // Past every key of the millisecond `to`: `#` (the key's separator) sorts before `$`.
            .expression_attribute_values(":to", s(&format!("{}$", time::sortable(to))))
            .expression_attribute_values(":now", n(time::now().timestamp()))
            .scan_index_forward(false)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| failed("Query", e))?;
        let entries = output
            .items()
            .iter()
            .map(|item| audit_from_item(item).ok_or_else(|| failed("Query", "malformed audit item")))
            .collect::<Result<_, _>>()?;
        Ok((entries, output.last_evaluated_key))
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

impl AuditLog for DynamoStore {
    async fn contains(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        Ok(self.stored(entry, "entryId").await?.is_some())
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.audit)
            .set_item(Some(self.audit_record(entry)))
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

    async fn audit_page(
        &self,
        org_id: &str,
        filter: &AuditFilter,
        limit: usize,
        before: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.tables.audit)
            .scan_index_forward(false)
            // One more than asked for tells whether another page follows; a member's history
            // is filtered by organisation (and action), so it may read further to fill a page.
            .limit(
                i32::try_from(if filter.target_id.is_some() { (limit + 1).max(FILTERED_PAGE_READ) } else { limit + 1 })
                    .unwrap_or(i32::MAX),
            );
        let mut start = Item::from([("orgId".to_owned(), s(org_id))]);
        query = match (&filter.target_id, filter.action) {
            // One member's history: user ids are unique in the pool, and the organisation is
            // checked too, so another organisation's member shows nothing.
            (Some(target), action) => {
                start.insert("targetId".into(), s(target));
                let query = query
                    .index_name("byTarget")
                    .key_condition_expression("targetId = :target")
                    .expression_attribute_values(":target", s(target))
                    .expression_attribute_values(":org", s(org_id));
                match action {
                    Some(action) => query
                        .filter_expression(format!("orgId = :org AND #action = :action AND {UNEXPIRED}"))
                        .expression_attribute_names("#action", "action")
                        .expression_attribute_values(":action", s(action.as_str())),
                    None => query.filter_expression(format!("orgId = :org AND {UNEXPIRED}")),
                }
            }
            (None, Some(action)) => {
                let key = org_action(org_id, action);
                start.insert("orgAction".into(), s(&key));
                query
                    .index_name("byAction")
                    .key_condition_expression("orgAction = :orgAction")
                    .expression_attribute_values(":orgAction", s(&key))
                    .filter_expression(UNEXPIRED)
            }
            // The table itself reads consistently: the Log tab is read right after the action
            // it should show. (Global indexes cannot; they follow within a second or so.)
            (None, None) => query
                .key_condition_expression("orgId = :org")
                .expression_attribute_values(":org", s(org_id))
                .filter_expression(UNEXPIRED)
                .consistent_read(true),
        };
        let mut query = query.expression_attribute_values(":now", n(time::now().timestamp()));
        if let Some(before) = before {
            start.insert("entryId".into(), s(before));
            query = query.set_exclusive_start_key(Some(start));
        }
        let output = query.send().await.map_err(|e| failed("Query", e))?;
        let mut items = output.items().to_vec();
        // More than `limit` kept: the next page starts after the last one shown. Otherwise
        // after the last one DynamoDB looked at, if it stopped early (filtered pages).
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().and_then(|last| text(last, "entryId"))
        } else {
            output.last_evaluated_key().and_then(|key| text(key, "entryId"))
        };
        let entries = items
            .iter()
            .map(|item| audit_from_item(item).ok_or_else(|| failed("Query", "malformed audit item")))
            .collect::<Result<_, _>>()?;
        Ok(AuditPage { entries, next })
    }
}

/// The `byAction` index's key: an organisation's entries of one action.
pub fn org_action(org_id: &str, action: AuditAction) -> String {
    format!("{org_id}#{}", action.as_str())
}

pub fn audit_item(entry: &AuditEntry) -> Item {
    let mut item = Item::from([
        ("orgId".into(), s(&entry.org_id)),
        ("entryId".into(), s(&entry.entry_key())),
        ("id".into(), s(&entry.id)),
        ("action".into(), s(entry.action.as_str())),
        ("occurredAt".into(), s(&time::sortable(entry.occurred_at))),
        ("actorId".into(), s(&entry.actor_id)),
        ("actorName".into(), s(&entry.actor_name)),
        ("targetId".into(), s(&entry.target_id)),
        ("orgAction".into(), s(&org_action(&entry.org_id, entry.action))),
        ("targetName".into(), s(&entry.target_name)),
        ("requestId".into(), s(&entry.request_id)),
        ("sourceIp".into(), s(&entry.source_ip)),
        ("userAgent".into(), s(&entry.user_agent)),
    ]);
    if let Some(change) = entry.role_change {
        let role = Item::from([("from".into(), s(change.from.as_str())), ("to".into(), s(change.to.as_str()))]);
        item.insert("changes".into(), AttributeValue::M(Item::from([("role".into(), AttributeValue::M(role))])));
    }
    item
}

fn role_change_of(item: &Item) -> Option<RoleChange> {
    let role = item.get("changes")?.as_m().ok()?.get("role")?.as_m().ok()?;
    Some(RoleChange { from: Role::parse(&text(role, "from")?)?, to: Role::parse(&text(role, "to")?)? })
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
        role_change: role_change_of(item),
    })
}

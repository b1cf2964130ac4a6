//! The member lifecycle's transactions, and the organisations table's count of active
//! administrators that they keep (see the template's `OrgsTable`).
//!
//! Every write that makes or unmakes an active administrator (role `admin`, `verified`, not
//! being removed) moves the count in the same transaction as the membership: a role change,
//! a suspension, a reactivation, a removal decided, and a first verification
//! ([`crate::ports::Members::mark_verified`]). A decrease is conditional on the count staying
//! at one or more, and the membership's part on it being as the rule read it, so two
//! administrators demoting each other at the same moment cannot both commit: DynamoDB
//! serialises the two transactions on the count's item, and the second finds it at one.
//! An organisation never counted (created before the count) refuses every decrease until
//! its count is written (docs/deploy.md): the safe way to be wrong.

use super::member_item::status_key;
use super::pending::PENDING;
use super::{DynamoStore, Item, audit_item, conflicted, failed, failed_conditions, number, s};
use crate::domain::{AuditEntry, Member};
use crate::ports::{Change, MemberChanges, Members, StoreError};
use crate::time;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

/// What every lifecycle change requires of the membership as stored: still there, as read,
/// and not being removed.
const AS_READ: &str =
    "attribute_exists(userId) AND #status = :was_status AND #role = :was_role AND attribute_not_exists(removePending)";

impl DynamoStore {
    /// The count's move for a change from `before` to `after`, as an item of its
    /// transaction: none when the member's standing as an active administrator is the same.
    pub(super) fn admin_count_update(
        &self,
        org_id: &str,
        before: bool,
        after: bool,
    ) -> Result<Option<TransactWriteItem>, StoreError> {
        let update = Update::builder().table_name(&self.tables.orgs).key("orgId", s(org_id));
        let update = match (before, after) {
            (false, true) => update.update_expression("ADD activeAdmins :one"),
            (true, false) => update
                .update_expression("SET activeAdmins = activeAdmins - :one")
                .condition_expression("activeAdmins > :one"),
            _ => return Ok(None),
        };
        let update = update
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(|e| failed("TransactWriteItems", e))?;
        Ok(Some(TransactWriteItem::builder().update(update).build()))
    }

    /// Runs a lifecycle transaction whose first item is the membership's and whose second,
    /// if any, the count's; `entry` (written by it, or pending in it) tells a lost answer.
    ///
    /// Two administrators acting on each other touch the same count in the same moment:
    /// DynamoDB cancels one transaction with `TransactionConflict`, having applied nothing,
    /// and it is tried again (after a pause) to find the other's outcome.
    async fn commit_change(
        &self,
        items: Vec<TransactWriteItem>,
        entry: &AuditEntry,
        written: bool,
    ) -> Result<Change, StoreError> {
        const ATTEMPTS: u64 = 4;
        for attempt in 1..=ATTEMPTS {
            let token = Self::new_token();
            let mut items = items.clone();
            if written {
                items.push(self.audit_put(entry, &token)?);
            }
            match self.transact(items, &token).await {
                Ok(()) => return Ok(Change::Done),
                Err(_) if written && self.committed(entry, &token).await? => return Ok(Change::Done),
                Err(error) if conflicted(&error) && attempt < ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Err(error) => {
                    return match failed_conditions(&error) {
                        Some(indexes) if indexes.contains(&0) => Ok(Change::Stale),
                        Some(_) => Ok(Change::LastAdmin),
                        None => Err(failed("TransactWriteItems", error)),
                    };
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    fn membership_update(&self, before: &Member) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&before.org_id, &before.user_id)))
            .condition_expression(AS_READ)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":was_status", s(before.status.as_str()))
            .expression_attribute_values(":was_role", s(before.role.as_str()))
            .expression_attribute_values(":pending", s(PENDING))
    }
}

impl MemberChanges for DynamoStore {
    async fn change_member(&self, before: &Member, after: &Member, entry: &AuditEntry) -> Result<Change, StoreError> {
        let membership = self
            .membership_update(before)
            .update_expression(
                "SET #role = :role, #status = :status, statusKey = :statusKey, changePending = :entry, \
                 lastChangeId = :id, pendingWork = :pending, pendingSince = if_not_exists(pendingSince, :since)",
            )
            .expression_attribute_values(":role", s(after.role.as_str()))
            .expression_attribute_values(":status", s(after.status.as_str()))
            .expression_attribute_values(":statusKey", s(&status_key(after.status, &after.name, &after.user_id)))
            .expression_attribute_values(":entry", AttributeValue::M(audit_item(entry)))
            .expression_attribute_values(":id", s(&entry.id))
            .expression_attribute_values(":since", s(&time::sortable(entry.occurred_at)))
            .build()
            .map_err(|e| failed("TransactWriteItems", e))?;
        let mut items = vec![TransactWriteItem::builder().update(membership).build()];
        items.extend(self.admin_count_update(&before.org_id, before.is_active_admin(), after.is_active_admin())?);
        self.commit_change(items, entry, true).await
    }

    async fn mark_remove_pending(&self, member: &Member, entry: &AuditEntry) -> Result<Change, StoreError> {
        let membership = self
            .membership_update(member)
            .update_expression(
                "SET removePending = :entry, pendingWork = :pending, pendingSince = if_not_exists(pendingSince, :since)",
            )
            .expression_attribute_values(":entry", AttributeValue::M(audit_item(entry)))
            .expression_attribute_values(":since", s(&time::sortable(entry.occurred_at)))
            .build()
            .map_err(|e| failed("TransactWriteItems", e))?;
        let mut items = vec![TransactWriteItem::builder().update(membership).build()];
        items.extend(self.admin_count_update(&member.org_id, member.is_active_admin(), false)?);
        match self.commit_change(items, entry, false).await {
            // The answer may have been lost: the membership tells whether it is ours.
            Err(error) => match self.get_member(&member.org_id, &member.user_id).await {
                Ok(Some(now)) if now.remove_pending.as_ref().is_some_and(|pending| pending.id == entry.id) => {
                    Ok(Change::Done)
                }
                _ => Err(error),
            },
            outcome => outcome,
        }
    }

    async fn clear_change_pending(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        // Gone, or another change is pending now: its own follower clears it.
        self.update_if_still(member, "REMOVE changePending", "changePending.id = :id", id).await?;
        self.leave_pending_work_if_none(member).await
    }

    async fn active_admins(&self, org_id: &str) -> Result<u64, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.orgs)
            .key("orgId", s(org_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?;
        Ok(output.item.as_ref().and_then(|item: &Item| number(item, "activeAdmins")).unwrap_or(0).max(0) as u64)
    }
}

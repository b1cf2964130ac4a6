//! Pending work as the reconciler finds it ([`PendingWork`]): by two sparse global indexes
//! that hold only what is under way, so a pass reads what is pending and nothing else.
//!
//! - the members table's `byPendingSince`: a membership with a cancel, a resend, a lifecycle change or a removal under way
//!   carries `pendingWork` (always [`PENDING`]) and `pendingSince` (when its oldest pending
//!   work began). The write that marks the work sets both, in the same update; the write
//!   that clears it is followed by [`DynamoStore::leave_pending_work_if_none`]. If that
//!   second write is lost, the pass that meets the membership settles it.
//! - the contacts table's `byReservedAt`: a reservation carries `state` = `reserved` and
//!   `reservedAt`; the commit that makes it a member claim removes `reservedAt`, so it
//!   leaves the index in the same write.
//!
//! One partition key value per index: every write of pending work goes to one index
//! partition (about 1 000 writes a second), far above what invitations, cancels and resends
//! of an admin console make.

use super::contacts::{RESERVED, claim_from_item};
use super::{DynamoStore, Item, failed, is_condition_failure, member_from_item, n, s, text};
use crate::domain::Member;
use crate::ports::{ContactClaim, LapsedWork, PendingWork, StoreError};
use crate::time::{self, Timestamp};

pub const PENDING_INDEX: &str = "byPendingSince";
pub const RESERVATIONS_INDEX: &str = "byReservedAt";
/// The one value of `pendingWork`.
pub const PENDING: &str = "pending";

/// When the oldest work still pending on `member` began.
pub fn oldest_pending(member: &Member) -> Option<Timestamp> {
    [&member.cancel_pending, &member.resend_pending, &member.change_pending, &member.remove_pending]
        .into_iter()
        .flatten()
        .map(|entry| entry.occurred_at)
        .min()
}

/// Items one query of an index returns at most: a pass asks for pages of this size until it
/// has its budget.
const PAGE: usize = 100;

impl DynamoStore {
    /// Takes the membership out of the pending-work index when nothing is pending on it
    /// any more (read by the condition, not from what the caller saw).
    pub(super) async fn leave_pending_work_if_none(&self, member: &Member) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("REMOVE pendingWork, pendingSince")
            .condition_expression(
                "attribute_exists(pendingSince) AND attribute_not_exists(cancelPending) AND attribute_not_exists(resendPending) \
                AND attribute_not_exists(changePending) AND attribute_not_exists(removePending)",
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Gone, out of the index already, or other work is pending: its place stands.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    /// What an index's query finds, a page at a time, up to `budget` items; and whether
    /// more was found than that.
    async fn index_items(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        budget: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = query
                .clone()
                .limit(i32::try_from(budget.saturating_sub(items.len()).clamp(1, PAGE)).unwrap_or(1))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            items.extend_from_slice(output.items());
            start = output.last_evaluated_key;
            match start {
                None => return Ok((items, false)),
                Some(_) if items.len() >= budget => return Ok((items, true)),
                Some(_) => {}
            }
        }
    }
}

impl PendingWork for DynamoStore {
    async fn members_with_work_since_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> Result<LapsedWork<Member>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.members)
            .index_name(PENDING_INDEX)
            .key_condition_expression("pendingWork = :pending AND pendingSince < :before")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":before", s(&time::sortable(before)));
        let (keys, more) = self.index_items(query, budget).await?;
        let mut work = LapsedWork { found: Vec::new(), malformed: Vec::new(), more };
        for key in keys {
            let (org_id, user_id) = (text(&key, "orgId").unwrap_or_default(), text(&key, "userId").unwrap_or_default());
            // The index lags its table: the membership is read again, consistently.
            let output = self
                .client
                .get_item()
                .table_name(&self.tables.members)
                .key("orgId", s(&org_id))
                .key("userId", s(&user_id))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| failed("GetItem", e))?;
            match output.item.as_ref().map(member_from_item) {
                None => {} // Removed since.
                Some(Some(member)) => work.found.push(member),
                Some(None) => work.malformed.push(format!("{org_id}/{user_id}")),
            }
        }
        Ok(work)
    }

    async fn reservations_taken_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> Result<LapsedWork<ContactClaim>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.contacts)
            .index_name(RESERVATIONS_INDEX)
            .key_condition_expression("#state = :reserved AND reservedAt < :before")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":reserved", s(RESERVED))
            .expression_attribute_values(":before", n(before.timestamp_millis()));
        let (items, more) = self.index_items(query, budget).await?;
        let mut work = LapsedWork { found: Vec::new(), malformed: Vec::new(), more };
        for item in items {
            match claim_from_item(&item) {
                Some(claim) => work.found.push(claim),
                None => work.malformed.push(text(&item, "contact").unwrap_or_default()),
            }
        }
        Ok(work)
    }

    async fn settle_pending_work(&self, member: &Member) -> Result<(), StoreError> {
        let Some(oldest) = oldest_pending(member) else {
            return self.leave_pending_work_if_none(member).await;
        };
        // Still pending: its place is its oldest work's start, while that work is still the
        // same (a new cancel or resend sets the place itself).
        let mut condition = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("SET pendingWork = :pending, pendingSince = :since")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":since", s(&time::sortable(oldest)));
        for (attribute, entry) in [
            ("cancelPending", &member.cancel_pending),
            ("resendPending", &member.resend_pending),
            ("changePending", &member.change_pending),
            ("removePending", &member.remove_pending),
        ] {
            match entry {
                Some(entry) => {
                    condition.push(format!("{attribute}.id = :{attribute}"));
                    update = update.expression_attribute_values(format!(":{attribute}"), s(&entry.id));
                }
                None => condition.push(format!("attribute_not_exists({attribute})")),
            }
        }
        match update.condition_expression(condition.join(" AND ")).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }
}

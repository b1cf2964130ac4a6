//! The members table: `orgId` + `userId`, the mirror the Members page lists (two local
//! indexes: by name, and by status then name; a search reads the search table first, see
//! [`super::search_index`]). A membership is written, and removed, in one
//! transaction with its contact claims and its audit entry.

use super::contacts::{MEMBER, contact_key};
use super::member_item::{member_from_item, member_item, status_key};
use super::pending::PENDING;
use super::{DynamoStore, Item, audit_item, failed, failed_conditions, is_condition_failure, s};
use crate::domain::{AuditEntry, Contact, Member, MemberStatus, UserId};
use crate::ports::{
    Addition, AuditLog, Cooldown, MemberFilter, MemberPage, Members, Outcome, PageKey, Receipt, StoreError,
};
use crate::time::{self, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use std::time::Duration;

impl DynamoStore {
    pub(super) fn member_key(org_id: &str, user_id: &UserId) -> Item {
        Item::from([("orgId".to_owned(), s(org_id)), ("userId".to_owned(), s(user_id.as_str()))])
    }

    /// The contacts table keys a member holds.
    pub fn contact_claims_of(member: &Member) -> Vec<String> {
        Contact::all_of(member.phone.as_deref(), member.email.as_deref()).iter().map(contact_key).collect()
    }

    /// Applies `update` to the membership if `condition` (on `:id`) still holds; when it no
    /// longer does (the member is gone, or another request's work is there now), there is
    /// nothing of ours to change.
    pub(super) async fn update_if_still(
        &self,
        member: &Member,
        update: &str,
        condition: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_values(":id", s(id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    /// After a transaction whose answer did not come back (or came back "condition failed"
    /// from the SDK's retry of one that had committed): whether it committed, read from the
    /// one thing only it wrote, its audit entry marked with its token.
    ///
    /// The outcome decides whether the caller answers success or a retry repeats the work,
    /// so an unanswered read is asked again, a few times, before the outcome is called
    /// unknown.
    pub(super) async fn committed(&self, entry: &AuditEntry, token: &str) -> Result<bool, StoreError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.written_by(entry, token).await {
                Err(error) if attempts < 3 => tracing::warn!(%error, "could not read whether a transaction committed"),
                outcome => return outcome,
            }
        }
    }
}

impl Members for DynamoStore {
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
        // Findable before it exists: the search skips terms whose membership is not there.
        // (Boxed: the batch's future would otherwise swell every caller's.)
        Box::pin(self.write_search_terms(member)).await?;
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
        for claim in Self::contact_claims_of(member) {
            // The invitation reserved its contacts; they become member claims only if they
            // are still its own, and no reclaim holds them (see crate::reclaim).
            items.push(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.tables.contacts)
                            .key("contact", s(&claim))
                            .update_expression("SET #state = :member REMOVE reservedAt")
                            .condition_expression("userId = :me AND attribute_not_exists(heldBy)")
                            .expression_attribute_names("#state", "state")
                            .expression_attribute_values(":me", s(member.user_id.as_str()))
                            .expression_attribute_values(":member", s(MEMBER))
                            .build()
                            .map_err(build)?,
                    )
                    .build(),
            );
        }
        let token = Self::new_token();
        items.push(self.audit_put(entry, &token)?);
        match self.transact(items, &token).await {
            Ok(()) => Ok(Addition::Added),
            Err(_) if self.committed(entry, &token).await? => Ok(Addition::Added),
            Err(error) => match failed_conditions(&error) {
                Some(indexes) if indexes.contains(&0) => Ok(Addition::AlreadyMember),
                Some(_) => Ok(Addition::ReservationLost),
                None => Err(failed("TransactWriteItems", error)),
            },
        }
    }

    async fn mark_cancel_pending(
        &self,
        member: &Member,
        entry: &AuditEntry,
        disabling: bool,
    ) -> Result<Outcome, StoreError> {
        // Into the pending-work index in the same write (crate::store::pending), at its
        // oldest work's start.
        let update = if disabling {
            "SET cancelPending = :entry, disabledBy = :id, pendingWork = :pending, pendingSince = if_not_exists(pendingSince, :since)"
        } else {
            "SET cancelPending = :entry, pendingWork = :pending, pendingSince = if_not_exists(pendingSince, :since)"
        };
        let mut request = self
            .client
            .update_item()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression(update)
            .condition_expression("attribute_exists(userId)")
            .expression_attribute_values(":entry", AttributeValue::M(audit_item(entry)))
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":since", s(&time::sortable(entry.occurred_at)));
        if disabling {
            request = request.expression_attribute_values(":id", s(&entry.id));
        }
        match request.send().await {
            Ok(_) => Ok(Outcome::Done),
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    async fn clear_cancel_pending(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        self.update_if_still(member, "REMOVE cancelPending", "cancelPending.id = :id", id).await?;
        self.leave_pending_work_if_none(member).await
    }

    async fn clear_disabled_by(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        self.update_if_still(member, "REMOVE disabledBy", "disabledBy = :id", id).await
    }

    async fn mark_resend_attempted(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        self.update_if_still(member, "SET resendAttempted = :id", "resendPending.id = :id", id).await
    }

    async fn mark_verified(&self, member: &Member, accepted: &AuditEntry) -> Result<Outcome, StoreError> {
        // The first time: from unverified, with the member's entry and, for an
        // administrator, the organisation's count (crate::store::member_changes).
        let build = |e: aws_sdk_dynamodb::error::BuildError| failed("TransactWriteItems", e);
        let first = Update::builder()
            .table_name(&self.tables.members)
            .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
            .update_expression("SET #status = :verified, statusKey = :statusKey REMOVE cancelPending")
            .condition_expression("#status = :unverified")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":verified", s(MemberStatus::Verified.as_str()))
            .expression_attribute_values(":unverified", s(MemberStatus::Unverified.as_str()))
            .expression_attribute_values(
                ":statusKey",
                s(&status_key(MemberStatus::Verified, &member.name, &member.user_id)),
            )
            .build()
            .map_err(build)?;
        let verified = Member { status: MemberStatus::Verified, ..member.clone() };
        // An unverified member is never an active administrator: the count can only rise.
        let mut items = vec![TransactWriteItem::builder().update(first).build()];
        items.extend(self.admin_count_update(&member.org_id, false, verified.is_active_admin())?);
        let token = Self::new_token();
        items.push(self.audit_put(accepted, &token)?);
        match self.transact(items, &token).await {
            Ok(()) => {}
            Err(_) if self.committed(accepted, &token).await? => {}
            Err(error) if failed_conditions(&error).is_some() => {
                // Verified already (or gone): only a cancel in flight is left to drop.
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.tables.members)
                    .set_key(Some(Self::member_key(&member.org_id, &member.user_id)))
                    .update_expression("REMOVE cancelPending")
                    .condition_expression("attribute_exists(userId)")
                    .send()
                    .await;
                match result {
                    Ok(_) => {}
                    Err(e) if is_condition_failure(&e) => return Ok(Outcome::ConditionFailed),
                    Err(e) => return Err(failed("UpdateItem", e)),
                }
            }
            Err(error) => return Err(failed("TransactWriteItems", error)),
        }
        self.leave_pending_work_if_none(member).await?;
        Ok(Outcome::Done)
    }

    /// The removal is conditional on the membership still existing, so of two cancels racing
    /// to finish only one commits, and only one entry is ever written; the entry itself is
    /// conditional on its key being new.
    async fn remove_member_with_audit(
        &self,
        member: &Member,
        entry: &AuditEntry,
        receipt: Option<&Receipt>,
    ) -> Result<Outcome, StoreError> {
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
        for claim in Self::contact_claims_of(member) {
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
        let token = Self::new_token();
        items.push(self.audit_put(entry, &token)?);
        if let Some(receipt) = receipt {
            items.push(self.receipt_update(receipt)?);
        }
        let outcome = match self.transact(items, &token).await {
            Ok(()) => Outcome::Done,
            // Lost its answer the first time and was applied then: the entry is ours.
            Err(_) if self.committed(entry, &token).await? => Outcome::Done,
            Err(error) if failed_conditions(&error).is_some() => return Ok(Outcome::ConditionFailed),
            Err(error) => return Err(failed("TransactWriteItems", error)),
        };
        // Terms left behind only cost a search a read (crate::store::search_index): the
        // removal stands whether or not they go.
        if let Err(error) = Box::pin(self.remove_search_terms(member)).await {
            tracing::warn!(error = %error, "search terms of a removed member left behind");
        }
        Ok(outcome)
    }

    async fn list_members(
        &self,
        org_id: &str,
        filter: &MemberFilter,
        limit: usize,
        after: Option<&PageKey>,
    ) -> Result<MemberPage, StoreError> {
        self.members_page_of(org_id, filter, limit, after).await
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
            .update_expression(
                "SET lastInvitationSentAt = :now, lastResentAt = :now, resendPending = :entry, pendingWork = :pending, pendingSince = if_not_exists(pendingSince, :now) REMOVE resendAttempted",
            )
            .condition_expression(
                // Or the claim is this same resend's, from an attempt whose answer was lost.
                "attribute_exists(userId) AND (attribute_not_exists(lastResentAt) OR lastResentAt <= :threshold OR resendPending.id = :id)",
            )
            .expression_attribute_values(":id", s(&entry.id))
            .expression_attribute_values(":now", s(&time::sortable(now)))
            .expression_attribute_values(":threshold", s(&time::sortable(threshold)))
            .expression_attribute_values(":entry", AttributeValue::M(audit_item(entry)))
            .expression_attribute_values(":pending", s(PENDING))
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
        let mut remove = vec!["resendPending", "resendAttempted"];
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
            Ok(_) => self.leave_pending_work_if_none(member).await,
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
            .update_expression("SET lastResendId = :id REMOVE resendPending, resendAttempted")
            .condition_expression("resendPending.id = :id")
            .expression_attribute_values(":id", s(&entry.id))
            .send()
            .await;
        match result {
            Ok(_) => self.leave_pending_work_if_none(member).await,
            // Gone, or another resend's entry is pending now: nothing of ours to clear.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }
}

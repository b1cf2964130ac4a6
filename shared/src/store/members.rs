//! The members table: `orgId` + `userId`, the mirror the Members page lists (two local
//! indexes: by name, and by status then name; a search reads the search table first, see
//! [`super::search_index`]). A membership is written, and removed, in one
//! transaction with its contact claims and its audit entry.

use super::contacts::{MEMBER, contact_key};
use super::pending::{PENDING, oldest_pending};
use super::{
    DynamoStore, Item, audit_from_item, audit_item, failed, failed_conditions, is_condition_failure, s, text, timestamp,
};
use crate::domain::{AuditEntry, Member, MemberStatus, Role, ShownStatus, UserId};
use crate::ports::{
    Addition, AuditLog, Cooldown, MemberFilter, MemberPage, Members, Outcome, PageKey, Receipt, StoreError,
};
use crate::time::{self, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use std::time::Duration;

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

/// One page of the members table.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedMembers {
    pub members: Vec<Member>,
    /// The keys (`orgId/userId`) of the records that are not a membership.
    pub malformed: Vec<String>,
    /// Where the next page starts; none at the end of the table.
    pub next: Option<Item>,
}

impl DynamoStore {
    pub(super) fn member_key(org_id: &str, user_id: &UserId) -> Item {
        Item::from([("orgId".to_owned(), s(org_id)), ("userId".to_owned(), s(user_id.as_str()))])
    }

    /// The contacts table keys a member holds.
    pub fn contact_claims_of(member: &Member) -> Vec<String> {
        let mut claims = Vec::new();
        if let Some(phone) = &member.phone {
            claims.push(contact_key("phone", phone));
        }
        if let Some(email) = &member.email {
            claims.push(contact_key("email", email));
        }
        claims
    }

    /// Writes a membership record as it is, without claims or audit (tests and tools).
    pub async fn put_member_record(&self, member: &Member) -> Result<(), StoreError> {
        Box::pin(self.write_search_terms(member)).await?;
        self.client
            .put_item()
            .table_name(&self.tables.members)
            .set_item(Some(member_item(member)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("PutItem", e))
    }

    /// Every membership of the table (tests and tools); a malformed record fails it.
    pub async fn all_members(&self) -> Result<Vec<Member>, StoreError> {
        let (members, malformed) = self.scan_members().await?;
        match malformed.first() {
            Some(key) => Err(failed("Scan", format!("malformed membership {key}"))),
            None => Ok(members),
        }
    }

    /// Every membership of the table, and the keys (`orgId/userId`) of the records that are
    /// not one (for the reconciler to report and pass over).
    pub async fn scan_members(&self) -> Result<(Vec<Member>, Vec<String>), StoreError> {
        let (mut members, mut malformed) = (Vec::new(), Vec::new());
        let mut start = None;
        loop {
            let page = self.members_page(start, None).await?;
            members.extend(page.members);
            malformed.extend(page.malformed);
            start = page.next;
            if start.is_none() {
                return Ok((members, malformed));
            }
        }
    }

    /// One page of the members table (at most `limit` records, read consistently) from
    /// `start`, a key a page before gave.
    pub async fn members_page(&self, start: Option<Item>, limit: Option<i32>) -> Result<ScannedMembers, StoreError> {
        let output = self
            .client
            .scan()
            .table_name(&self.tables.members)
            .consistent_read(true)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| failed("Scan", e))?;
        let mut page = ScannedMembers { members: Vec::new(), malformed: Vec::new(), next: output.last_evaluated_key };
        for item in output.items.unwrap_or_default() {
            match member_from_item(&item) {
                Some(member) => page.members.push(member),
                None => page.malformed.push(format!(
                    "{}/{}",
                    text(&item, "orgId").unwrap_or_default(),
                    text(&item, "userId").unwrap_or_default()
                )),
            }
        }
        Ok(page)
    }

    /// Applies `update` to the membership if `condition` (on `:id`) still holds; when it no
    /// longer does (the member is gone, or another request's work is there now), there is
    /// nothing of ours to change.
    async fn update_if_still(
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
    async fn committed(&self, entry: &AuditEntry, token: &str) -> Result<bool, StoreError> {
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
            Ok(_) => {
                self.leave_pending_work_if_none(member).await?;
                Ok(Outcome::Done)
            }
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(failed("UpdateItem", e)),
        }
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
        if let Some(search) = &filter.search {
            return self.search_members(org_id, filter, search, limit, after).await;
        }
        let (index, sort_attribute) =
            if filter.status.is_some() { ("byStatus", "statusKey") } else { ("byName", "nameKey") };
        let mut query = self
            .client
            .query()
            .table_name(&self.tables.members)
            .index_name(index)
            // Local indexes read consistently: a refresh after a cancel never shows the row.
            .consistent_read(true)
            .expression_attribute_values(":org", s(org_id))
            // One more than asked for tells whether another page follows. A filtered page
            // reads further (one query still, at most 1 MB), so that it is seldom short.
            .limit(i32::try_from(read_budget(filter, limit)).unwrap_or(i32::MAX));
        query = match filter.status {
            Some(status) => query
                .key_condition_expression("orgId = :org AND begins_with(statusKey, :status)")
                .expression_attribute_values(":status", s(&status_prefix(status.stored()))),
            None => query.key_condition_expression("orgId = :org"),
        };
        // Expiry is a filter on what the key range reads: computed from
        // `lastInvitationSentAt` at read time (no record changes as time passes).
        let mut conditions = Vec::new();
        match filter.status {
            Some(ShownStatus::Expired) => {
                conditions.push("lastInvitationSentAt <= :lapsed".to_owned());
            }
            Some(ShownStatus::Unverified) => {
                conditions
                    .push("(attribute_not_exists(lastInvitationSentAt) OR lastInvitationSentAt > :lapsed)".to_owned());
            }
            _ => {}
        }
        if matches!(filter.status, Some(ShownStatus::Expired | ShownStatus::Unverified)) {
            query = query.expression_attribute_values(":lapsed", s(&time::sortable(filter.lapsed_at)));
        }
        if !conditions.is_empty() {
            query = query.filter_expression(conditions.join(" AND "));
        }
        if let Some(after) = after {
            query = query.set_exclusive_start_key(Some(Item::from([
                ("orgId".to_owned(), s(org_id)),
                ("userId".to_owned(), s(&after.user_id)),
                (sort_attribute.to_owned(), s(&after.sort_key)),
            ])));
        }
        let output = query.send().await.map_err(|e| failed("Query", e))?;
        let mut kept = Vec::new();
        for item in output.items() {
            let member = member_from_item(item).ok_or_else(|| failed("Query", "malformed membership"))?;
            if filter.keeps(&member) {
                kept.push((item, member));
            }
        }
        // More than `limit` kept: the next page starts after the last one shown. Otherwise
        // after the last item DynamoDB looked at, if it stopped early (a filtered page).
        let key_of = |item: &Item| PageKey {
            user_id: text(item, "userId").unwrap_or_default(),
            sort_key: text(item, sort_attribute).unwrap_or_default(),
        };
        let next = if kept.len() > limit {
            kept.truncate(limit);
            kept.last().map(|(item, _)| key_of(item))
        } else {
            output.last_evaluated_key().map(key_of)
        };
        Ok(MemberPage { members: kept.into_iter().map(|(_, member)| member).collect(), next })
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

/// How many items a filtered page may read to fill itself: past this, it ends short and
/// carries a cursor.
pub const FILTERED_PAGE_READ: usize = 500;

/// How many items one page's query evaluates: `limit + 1` (the extra tells whether another
/// page follows), or for a page whose filter drops items, enough to fill it usually.
fn read_budget(filter: &MemberFilter, limit: usize) -> usize {
    if matches!(filter.status, Some(ShownStatus::Expired | ShownStatus::Unverified)) {
        (limit + 1).max(FILTERED_PAGE_READ)
    } else {
        limit + 1
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
        };
        assert_eq!(member_from_item(&member_item(&member)), Some(member));
    }
}

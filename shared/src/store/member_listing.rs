//! The Members page's query: one `Query` of a local index of the members table (by name, or
//! by status then name), in the page's order; a search goes to the search table instead
//! (see [`super::search_index`]).

use super::member_item::{member_from_item, name_key_suffix, status_prefix};
use super::{DynamoStore, Item, failed, s, text};
use crate::domain::{ShownStatus, UserId};
use crate::ports::{MemberFilter, MemberPage, PageKey, StoreError};
use crate::time;

impl DynamoStore {
    /// One page of `org_id`'s members that `filter` keeps, after `after`.
    pub(super) async fn members_page_of(
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

impl PageKey {
    /// Whether a listing of `status` (a search when `searching`) could have made this key:
    /// its sort key ends with its member's id and, for a status, starts with that status.
    /// A search pages through its term's items in name order whatever the status.
    pub fn fits(&self, status: Option<ShownStatus>, searching: bool) -> bool {
        let Ok(user_id) = UserId::parse(&self.user_id) else { return false };
        self.sort_key.ends_with(&name_key_suffix(&user_id))
            && (searching || status.is_none_or(|status| self.sort_key.starts_with(&status_prefix(status.stored()))))
    }
}

//! The search table: `term` + `entry`, one item for each term that finds a member
//! ([`crate::domain::search::terms`]), in the members' index (names) and in the administrators'
//! (names and contacts). `term` is the organisation, the index and the term; `entry` is the
//! member's name key, so that one term's items read in the Members page's order. An item
//! carries what the rule needs (name; in the administrators' index phone and email too) and
//! nothing that changes while the membership lives: a search reads one term's items, keeps
//! those the rule finds, and reads the page's memberships themselves (status, role, …).
//!
//! The terms are written before the membership commits (idempotent puts: a retry writes
//! the same items) and removed after it is removed. Items whose membership never committed
//! or is gone are passed over when read (the membership is not there), so a failure between
//! the two writes costs a read, never a wrong answer.

use super::member_item::{member_from_item, name_key};
use super::{Backfilled, DynamoStore, Item, failed, s, text};
use crate::domain::search::{Audience, terms};
use crate::domain::{Member, MemberStatus, Role, UserId};
use crate::ports::{MemberFilter, MemberPage, PageKey, Search, StoreError};
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;

/// Separates the parts of a term's key; never in an organisation id or a term.
const SEPARATOR: char = '\u{1}';

/// `BatchWriteItem`'s most items a call.
const BATCH_WRITE: usize = 25;

/// Attempts at the items a batch left unprocessed (throttled) before the write fails.
const BATCH_ATTEMPTS: u32 = 6;

/// How many term items a search page whose key may hold members it does not find (several
/// words, a long word, digits) reads at most; past it the page ends short, with a cursor.
pub const CANDIDATES_READ: usize = 500;

fn partition(org_id: &str, audience: Audience, term: &str) -> String {
    format!("{org_id}{SEPARATOR}{}{SEPARATOR}{term}", audience.as_str())
}

/// A member's term items, in both indexes.
fn term_items(member: &Member) -> Vec<Item> {
    let entry = name_key(&member.name, &member.user_id);
    let mut items = Vec::new();
    for audience in [Audience::Members, Audience::Administrators] {
        for term in terms(member, audience) {
            let mut item = Item::from([
                ("term".to_owned(), s(&partition(&member.org_id, audience, &term))),
                ("entry".to_owned(), s(&entry)),
                ("userId".to_owned(), s(member.user_id.as_str())),
                ("name".to_owned(), s(&member.name)),
            ]);
            if audience == Audience::Administrators {
                for (name, value) in [("phone", &member.phone), ("email", &member.email)] {
                    if let Some(value) = value {
                        item.insert(name.to_owned(), s(value));
                    }
                }
            }
            items.push(item);
        }
    }
    items
}

/// What a term item says of its member: enough for the rule, nothing more.
fn candidate(org_id: &str, item: &Item) -> Option<Member> {
    let user_id = UserId::parse(&text(item, "userId")?).ok()?;
    let member = Member::new(org_id, user_id, &text(item, "name")?, Role::Member, MemberStatus::Unverified);
    Some(member.reached_at(text(item, "phone"), text(item, "email")))
}

impl DynamoStore {
    /// Writes the terms that find `member` (before its membership commits).
    pub async fn write_search_terms(&self, member: &Member) -> Result<(), StoreError> {
        let requests = term_items(member).into_iter().map(|item| {
            Ok(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build()?).build())
        });
        self.batch_write(
            requests
                .collect::<Result<_, aws_sdk_dynamodb::error::BuildError>>()
                .map_err(|e| failed("BatchWriteItem", e))?,
        )
        .await
    }

    /// Removes the terms that found `member` (after its membership is gone).
    pub async fn remove_search_terms(&self, member: &Member) -> Result<(), StoreError> {
        let requests = term_items(member).into_iter().map(|item| {
            let key =
                Item::from([("term".to_owned(), item["term"].clone()), ("entry".to_owned(), item["entry"].clone())]);
            Ok(WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(key)).build()?).build())
        });
        self.batch_write(
            requests
                .collect::<Result<_, aws_sdk_dynamodb::error::BuildError>>()
                .map_err(|e| failed("BatchWriteItem", e))?,
        )
        .await
    }

    /// One page (`page` memberships read) of the migration that writes the terms of the
    /// memberships from before the search table (`make migrate`). Idempotent: a term is the
    /// same item however often it is put.
    pub async fn backfill_search_terms(&self, start: Option<Item>, page: i32) -> Result<Backfilled, StoreError> {
        let scanned = self.members_page(start, Some(page)).await?;
        for member in &scanned.members {
            self.write_search_terms(member).await?;
        }
        Ok(Backfilled { updated: scanned.members.len(), unreadable: scanned.malformed.len(), next: scanned.next })
    }

    /// `BatchWriteItem`, 25 items a call, the unprocessed ones again after a pause.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(BATCH_WRITE) {
            let mut pending = chunk.to_vec();
            for attempt in 0.. {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.tables.search, pending)
                    .send()
                    .await
                    .map_err(|e| failed("BatchWriteItem", e))?;
                pending = output
                    .unprocessed_items()
                    .and_then(|left| left.get(&self.tables.search))
                    .cloned()
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt + 1 >= BATCH_ATTEMPTS {
                    return Err(failed("BatchWriteItem", format!("{} items left unprocessed", pending.len())));
                }
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
        }
        Ok(())
    }

    /// One page of a search: one `Query` of the search's term, then the page's memberships
    /// (`BatchGetItem`, read consistently: a member cancelled a moment ago is not shown).
    pub(super) async fn search_members(
        &self,
        org_id: &str,
        filter: &MemberFilter,
        search: &Search,
        limit: usize,
        after: Option<&PageKey>,
    ) -> Result<MemberPage, StoreError> {
        let Some(term) = search.key() else {
            return Ok(MemberPage { members: Vec::new(), next: None });
        };
        let partition = partition(org_id, Audience::of(search.contacts), &term);
        let budget = if search.narrow() { limit + 1 } else { CANDIDATES_READ.max(limit + 1) };
        let output = self
            .client
            .query()
            .table_name(&self.tables.search)
            .consistent_read(true)
            .key_condition_expression("#term = :term")
            .expression_attribute_names("#term", "term")
            .expression_attribute_values(":term", s(&partition))
            .limit(i32::try_from(budget).unwrap_or(i32::MAX))
            .set_exclusive_start_key(after.map(|after| {
                Item::from([("term".to_owned(), s(&partition)), ("entry".to_owned(), s(&after.sort_key))])
            }))
            .send()
            .await
            .map_err(|e| failed("Query", e))?;
        let key_of = |item: &Item| PageKey {
            user_id: text(item, "userId").unwrap_or_default(),
            sort_key: text(item, "entry").unwrap_or_default(),
        };
        let mut found: Vec<PageKey> = output
            .items()
            .iter()
            .filter(|item| candidate(org_id, item).is_some_and(|member| search.finds(&member)))
            .map(key_of)
            .collect();
        let next = if found.len() > limit {
            found.truncate(limit);
            found.last().cloned()
        } else {
            output.last_evaluated_key().map(key_of)
        };
        let mut members = Box::pin(self.memberships(org_id, &found)).await?;
        // The membership's own record has the last word: its status, and the rule again.
        let members = found.iter().filter_map(|key| members.remove(&key.user_id)).filter(|m| filter.keeps(m)).collect();
        Ok(MemberPage { members, next })
    }

    /// The memberships of these keys that exist, by user id.
    async fn memberships(&self, org_id: &str, keys: &[PageKey]) -> Result<HashMap<String, Member>, StoreError> {
        let mut member_keys = Vec::with_capacity(keys.len());
        for key in keys {
            let user_id = UserId::parse(&key.user_id).map_err(|_| failed("Query", "malformed search term"))?;
            member_keys.push(Self::member_key(org_id, &user_id));
        }
        let mut members = HashMap::new();
        for item in self.batch_get(&self.tables.members, member_keys).await? {
            let member = member_from_item(&item).ok_or_else(|| failed("BatchGetItem", "malformed membership"))?;
            members.insert(member.user_id.as_str().to_owned(), member);
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_members_items_keep_its_contacts_out_of_the_members_index() {
        let ann =
            Member::new("org-a", UserId::parse("u-1").unwrap(), "Ann Example", Role::Member, MemberStatus::Verified)
                .reached_at(Some("+447700900123".into()), Some("zed@acme.example".into()));
        let items = term_items(&ann);
        let names: Vec<&Item> = items.iter().filter(|i| text(i, "term").unwrap().contains("\u{1}names\u{1}")).collect();
        assert!(!names.is_empty() && names.iter().all(|i| !i.contains_key("phone") && !i.contains_key("email")));
        assert!(names.iter().all(|i| !text(i, "term").unwrap().ends_with("\u{1}zed")));
        assert!(items.iter().any(|i| text(i, "term").unwrap() == "org-a\u{1}contacts\u{1}zed"));
        assert!(items.iter().all(|i| text(i, "entry").unwrap() == name_key("Ann Example", &ann.user_id)));
        let back = candidate("org-a", items.last().unwrap()).unwrap();
        assert_eq!((back.name.as_str(), back.user_id.as_str()), ("Ann Example", "u-1"));
    }
}

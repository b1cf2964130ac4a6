//! The members table read whole, a page at a time, and written record by record: for the
//! drift audit, the migrations and the tools (never a request's path).

use super::member_item::{member_from_item, member_item};
use super::{DynamoStore, Item, failed, text};
use crate::domain::Member;
use crate::ports::StoreError;

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

    /// Counts one more active administrator of `org_id`, for a record written by
    /// [`DynamoStore::put_member_record`] (tests and tools; the functions move the count only
    /// in the transaction that changes the membership).
    pub async fn count_active_admin(&self, org_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.orgs)
            .key("orgId", super::s(org_id))
            .update_expression("ADD activeAdmins :one")
            .expression_attribute_values(":one", aws_sdk_dynamodb::types::AttributeValue::N("1".into()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("UpdateItem", e))
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
}

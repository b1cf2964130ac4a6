//! The contacts table: `contact` (`phone#+44…`, `email#ann@…`) → the user who holds it.
//!
//! An invitation reserves its contacts before it creates anyone in Cognito; the
//! transaction that writes the membership turns the reservation into a member claim; a
//! cancel removes the claims with the membership. So a contact is held by at most one
//! invitation at a time, whatever runs concurrently. Claims written before reservations
//! existed carry no `state`: they are member claims.

use super::{DynamoStore, Item, conflicted, failed, failed_conditions, is_condition_failure, n, number, s, text};
use crate::domain::{Contact, UserId};
use crate::ports::{ClaimState, ContactClaim, ContactClaims, Outcome, Reservation, StoreError};
use crate::time::Timestamp;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

pub const RESERVED: &str = "reserved";
pub const MEMBER: &str = "member";

/// The claim key of a phone number or email address in the contacts table.
pub fn contact_key(contact: &Contact) -> String {
    format!("{}#{}", contact.kind(), contact.value())
}

/// The contact a claim key names.
fn contact_of(key: &str) -> Option<Contact> {
    match key.split_once('#')? {
        ("phone", value) => Some(Contact::Phone(value.to_owned())),
        ("email", value) => Some(Contact::Email(value.to_owned())),
        _ => None,
    }
}

pub fn claim_from_item(item: &Item) -> Option<ContactClaim> {
    Some(ContactClaim {
        contact: contact_of(&text(item, "contact")?)?,
        user_id: text(item, "userId")?,
        org_id: text(item, "orgId").unwrap_or_default(),
        state: match text(item, "state").as_deref() {
            Some(RESERVED) => ClaimState::Reserved,
            _ => ClaimState::Member,
        },
        reserved_at: number(item, "reservedAt"),
        held_by: text(item, "heldBy"),
    })
}

impl ContactClaim {
    /// A reservation older than `lease`: its invitation died before it committed.
    pub fn is_stale(&self, now: Timestamp, lease: std::time::Duration) -> bool {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        self.state == ClaimState::Reserved
            && self.reserved_at.is_none_or(|at| at.saturating_add(lease_ms) < now.timestamp_millis())
    }
}

impl DynamoStore {
    /// The claim of one contact, read consistently.
    async fn claim_at(&self, contact: &str) -> Result<Option<ContactClaim>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.contacts)
            .key("contact", s(contact))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?;
        Ok(output.item.as_ref().and_then(claim_from_item))
    }

    /// Every claim of the table (tests and tools).
    pub async fn contact_claims(&self) -> Result<Vec<ContactClaim>, StoreError> {
        let mut claims = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.tables.contacts)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Scan", e))?;
            claims.extend(output.items().iter().filter_map(claim_from_item));
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(claims);
            }
        }
    }
}

impl ContactClaims for DynamoStore {
    async fn claim_of(&self, contact: &Contact) -> Result<Option<ContactClaim>, StoreError> {
        self.claim_at(&contact_key(contact)).await
    }

    async fn reserve_contacts(
        &self,
        user_id: &UserId,
        org_id: &str,
        contacts: &[Contact],
        now: Timestamp,
    ) -> Result<Reservation, StoreError> {
        let mut items = Vec::new();
        for contact in contacts {
            let put = Put::builder()
                .table_name(&self.tables.contacts)
                .item("contact", s(&contact_key(contact)))
                .item("userId", s(user_id.as_str()))
                .item("orgId", s(org_id))
                .item("state", s(RESERVED))
                .item("reservedAt", n(now.timestamp_millis()))
                // Free, or this same invitation's own reservation from an earlier attempt.
                .condition_expression("attribute_not_exists(contact) OR (userId = :me AND #state = :reserved)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":me", s(user_id.as_str()))
                .expression_attribute_values(":reserved", s(RESERVED))
                .build()
                .map_err(|e| failed("TransactWriteItems", e))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        let error = match self.transact(items, &Self::new_token()).await {
            Ok(()) => return Ok(Reservation::Reserved),
            Err(error) => error,
        };
        let Some(indexes) = failed_conditions(&error) else {
            return if conflicted(&error) {
                Ok(Reservation::Contended)
            } else {
                Err(failed("TransactWriteItems", error))
            };
        };
        for index in indexes {
            let Some(holder) = self.claim_of(&contacts[index]).await? else {
                // Released since: whoever held it is gone; the caller may try again.
                continue;
            };
            if holder.user_id != user_id.as_str() {
                return Ok(Reservation::Taken(holder));
            }
            if holder.state == ClaimState::Member {
                return Ok(Reservation::Committed);
            }
        }
        Ok(Reservation::Contended)
    }

    async fn release_contacts(&self, user_id: &UserId, contacts: &[Contact]) -> Result<(), StoreError> {
        for contact in contacts {
            let result = self
                .client
                .delete_item()
                .table_name(&self.tables.contacts)
                .key("contact", s(&contact_key(contact)))
                .condition_expression("userId = :me AND #state = :reserved")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":me", s(user_id.as_str()))
                .expression_attribute_values(":reserved", s(RESERVED))
                .send()
                .await;
            match result {
                Ok(_) => {}
                // Not ours, or not a reservation any more: nothing to give back.
                Err(e) if is_condition_failure(&e) => {}
                Err(e) => return Err(failed("DeleteItem", e)),
            }
        }
        Ok(())
    }

    async fn hold_reservations(&self, reservations: &[ContactClaim], hold: &str) -> Result<Outcome, StoreError> {
        let mut items = Vec::new();
        for claim in reservations {
            let update = Update::builder()
                .table_name(&self.tables.contacts)
                .key("contact", s(&contact_key(&claim.contact)))
                .update_expression("SET heldBy = :hold")
                .condition_expression("userId = :holder AND #state = :reserved AND reservedAt = :at")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":hold", s(hold))
                .expression_attribute_values(":holder", s(&claim.user_id))
                .expression_attribute_values(":reserved", s(RESERVED))
                .expression_attribute_values(":at", n(claim.reserved_at.unwrap_or_default()))
                .build()
                .map_err(|e| failed("TransactWriteItems", e))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        match self.transact(items, &Self::new_token()).await {
            Ok(()) => Ok(Outcome::Done),
            Err(error) if failed_conditions(&error).is_some() || conflicted(&error) => Ok(Outcome::ConditionFailed),
            Err(error) => Err(failed("TransactWriteItems", error)),
        }
    }

    async fn holds(&self, reservations: &[ContactClaim], hold: &str) -> Result<bool, StoreError> {
        for claim in reservations {
            let held = self.claim_of(&claim.contact).await?.is_some_and(|now| {
                now.held_by.as_deref() == Some(hold)
                    && now.user_id == claim.user_id
                    && now.state == ClaimState::Reserved
            });
            if !held {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn release_hold(&self, reservations: &[ContactClaim], hold: &str) -> Result<(), StoreError> {
        for claim in reservations {
            let result = self
                .client
                .update_item()
                .table_name(&self.tables.contacts)
                .key("contact", s(&contact_key(&claim.contact)))
                .update_expression("REMOVE heldBy")
                .condition_expression("heldBy = :hold")
                .expression_attribute_values(":hold", s(hold))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(e) if is_condition_failure(&e) => {}
                Err(e) => return Err(failed("UpdateItem", e)),
            }
        }
        Ok(())
    }

    async fn remove_held_reservations(&self, reservations: &[ContactClaim], hold: &str) -> Result<usize, StoreError> {
        let mut removed = 0;
        for claim in reservations {
            let result = self
                .client
                .delete_item()
                .table_name(&self.tables.contacts)
                .key("contact", s(&contact_key(&claim.contact)))
                .condition_expression("heldBy = :hold")
                .expression_attribute_values(":hold", s(hold))
                .send()
                .await;
            match result {
                Ok(_) => removed += 1,
                Err(e) if is_condition_failure(&e) => {}
                Err(e) => return Err(failed("DeleteItem", e)),
            }
        }
        Ok(removed)
    }

    async fn remove_stale_reservation(&self, stale: &ContactClaim) -> Result<Outcome, StoreError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.tables.contacts)
            .key("contact", s(&contact_key(&stale.contact)))
            .condition_expression("userId = :holder AND #state = :reserved AND reservedAt = :at")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":holder", s(&stale.user_id))
            .expression_attribute_values(":reserved", s(RESERVED))
            .expression_attribute_values(":at", n(stale.reserved_at.unwrap_or_default()));
        match delete.send().await {
            Ok(_) => Ok(Outcome::Done),
            Err(e) if is_condition_failure(&e) => Ok(Outcome::ConditionFailed),
            Err(e) => Err(failed("DeleteItem", e)),
        }
    }
}

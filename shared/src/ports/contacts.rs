//! Who holds a phone number or an email address: the [`ContactClaims`] port.

use super::{Outcome, StoreError};
use crate::domain::{Contact, UserId};
use crate::time::Timestamp;
use std::future::Future;

/// A phone number's or email address's claim: which user holds it. A claim is `reserved`
/// while an invitation is under way and becomes `member` in the transaction that writes the
/// membership, so of two invitations of one contact only the first to reserve it goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactClaim {
    pub contact: Contact,
    pub user_id: String,
    pub org_id: String,
    pub state: ClaimState,
    /// When a reservation was taken (milliseconds since the epoch); none on member claims.
    pub reserved_at: Option<i64>,
    /// The reclaim that holds this reservation (see [`crate::reclaim`]), if one does.
    pub held_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimState {
    Reserved,
    Member,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Every contact is now held by this user (newly, or still from an earlier attempt).
    Reserved,
    /// This user's invitation committed already: its claims are member claims.
    Committed,
    /// Another user holds one of the contacts.
    Taken(ContactClaim),
    /// A contact changed hands while it was being reserved (a claim whose condition failed
    /// was gone when read, or a concurrent transaction conflicted): nothing was reserved,
    /// and trying again will meet whoever holds it now.
    Contended,
}

pub trait ContactClaims: Send + Sync {
    /// Who holds `contact`, if anyone (read consistently).
    fn claim_of(&self, contact: &Contact) -> impl Future<Output = Result<Option<ContactClaim>, StoreError>> + Send;

    /// Reserves every one of `contacts` for `user_id`, all or nothing.
    fn reserve_contacts(
        &self,
        user_id: &UserId,
        org_id: &str,
        contacts: &[Contact],
        now: Timestamp,
    ) -> impl Future<Output = Result<Reservation, StoreError>> + Send;

    /// Gives back what [`ContactClaims::reserve_contacts`] reserved, where it still is a
    /// reservation of `user_id`.
    fn release_contacts(
        &self,
        user_id: &UserId,
        contacts: &[Contact],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a reservation whose invitation died, if it is still exactly `stale`.
    fn remove_stale_reservation(
        &self,
        stale: &ContactClaim,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// Marks every one of `reservations` as held by `hold`, all or nothing, if each is still
    /// the reservation it was when read (the same user, taken at the same moment).
    fn hold_reservations(
        &self,
        reservations: &[ContactClaim],
        hold: &str,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// Whether `hold` still holds every one of `reservations` (read consistently).
    fn holds(&self, reservations: &[ContactClaim], hold: &str)
    -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Lets go of `hold` where it still holds.
    fn release_hold(
        &self,
        reservations: &[ContactClaim],
        hold: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the reservations `hold` still holds, and says how many; one rewritten since
    /// (re-reserved by its invitation's retry) stays.
    fn remove_held_reservations(
        &self,
        reservations: &[ContactClaim],
        hold: &str,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

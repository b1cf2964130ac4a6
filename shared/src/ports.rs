//! What the functions need from Cognito ([`Directory`]) and DynamoDB ([`Store`]), as small
//! traits. The real adapters are [`crate::directory::CognitoDirectory`] and
//! [`crate::store::DynamoStore`]; tests may put a fake in their place.

use crate::domain::{AuditAction, AuditEntry, Email, Member, MemberStatus, Phone, ShownStatus, UserId};
use crate::quota::{Allowance, Limit};
use crate::time::Timestamp;
use std::future::Future;

pub type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("Cognito {operation} failed")]
pub struct DirectoryError {
    pub operation: &'static str,
    /// Cognito refused to send a message because a delivery quota is used up (its own email
    /// sender's daily limit, or the account's): retrying soon will not help.
    pub delivery_quota: bool,
    /// No answer came (a timeout, a connection lost, an answer that could not be read): the
    /// call may have been carried out.
    pub outcome_unknown: bool,
    #[source]
    pub source: Cause,
}

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} failed")]
pub struct StoreError {
    pub operation: &'static str,
    #[source]
    pub source: Cause,
}

impl From<DirectoryError> for crate::ApiError {
    fn from(error: DirectoryError) -> Self {
        if error.delivery_quota {
            crate::ApiError::DeliveryQuotaExhausted(Box::new(error))
        } else {
            crate::ApiError::unavailable(error)
        }
    }
}

impl From<StoreError> for crate::ApiError {
    fn from(error: StoreError) -> Self {
        crate::ApiError::unavailable(error)
    }
}

/// Where a user of the pool stands, in the domain's words (the adapter maps Cognito's
/// `UserStatus` to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserState {
    /// Made by an invitation, never signed in with (Cognito: `FORCE_CHANGE_PASSWORD`).
    Invited,
    /// Signed up, not confirmed (`UNCONFIRMED`).
    Unconfirmed,
    /// Signed in and set a password (`CONFIRMED`).
    Confirmed,
    /// Anything else Cognito says (`RESET_REQUIRED`, `ARCHIVED`, `COMPROMISED`,
    /// `EXTERNAL_PROVIDER`, a status newer than this code), as it says it: counted as
    /// verified, so never deleted.
    Other(String),
}

impl UserState {
    /// Cognito's own name of the state, for logs and tools.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invited => "FORCE_CHANGE_PASSWORD",
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::Other(status) => status,
        }
    }
}

/// A user as Cognito holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryUser {
    pub username: String,
    pub status: UserState,
    pub enabled: bool,
    pub org_id: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub created_at: Option<Timestamp>,
}

impl DirectoryUser {
    /// Invited but not yet signed in and verified: the only users a cancel may delete.
    pub fn is_unverified(&self) -> bool {
        matches!(self.status, UserState::Invited | UserState::Unconfirmed)
    }

    /// Made by an invitation and never signed in with: the only users a reclaim deletes.
    pub fn awaits_first_sign_in(&self) -> bool {
        self.status == UserState::Invited
    }

    pub fn belongs_to(&self, org_id: &str) -> bool {
        self.org_id.as_deref() == Some(org_id)
    }
}

/// A person to invite.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub username: UserId,
    pub name: String,
    pub phone: Phone,
    pub email: Option<Email>,
    pub org_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    /// Created, and the invitation sent.
    Created,
    /// A user with this username exists already; nothing was sent.
    UsernameExists,
    /// Cognito refused the phone or email as already in use.
    ContactInUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    AlreadyGone,
}

#[derive(Debug)]
pub enum Resent {
    Sent,
    /// Cognito will not resend: the user is no longer in a state that takes an invitation.
    NotInvitable,
    NotFound,
    /// Cognito answered with another error (throttling, a quota): nothing was sent.
    Refused(DirectoryError),
}

/// A contact attribute that identifies one user of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    Phone,
    Email,
}

impl ContactKind {
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Phone => "phone_number",
            Self::Email => "email",
        }
    }
}

pub trait Directory: Send + Sync {
    fn get_user(&self, username: &str) -> impl Future<Output = Result<Option<DirectoryUser>, DirectoryError>> + Send;
    /// Returns false when the user does not exist.
    fn disable(&self, username: &str) -> impl Future<Output = Result<bool, DirectoryError>> + Send;
    /// Returns false when the user does not exist.
    fn enable(&self, username: &str) -> impl Future<Output = Result<bool, DirectoryError>> + Send;
    fn delete(&self, username: &str) -> impl Future<Output = Result<Deletion, DirectoryError>> + Send;
    /// Creates the user and sends the invitation by SMS, and by email where one is given.
    fn create_user(&self, user: &NewUser) -> impl Future<Output = Result<Creation, DirectoryError>> + Send;
    fn add_to_group(&self, username: &str, group: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// The users whose phone number or email address is `value`.
    fn users_with(
        &self,
        kind: ContactKind,
        value: &str,
    ) -> impl Future<Output = Result<Vec<DirectoryUser>, DirectoryError>> + Send;
    /// Sends `user`'s invitation again, by SMS and, where they have an email, by email.
    fn resend_invitation(&self, user: &DirectoryUser) -> impl Future<Output = Result<Resent, DirectoryError>> + Send;
}

/// Whether a conditional write found things as it expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The condition failed: the record was gone (or already there).
    ConditionFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addition {
    Added,
    /// The membership exists already: an earlier attempt of the same invitation committed.
    AlreadyMember,
    /// The contacts are no longer reserved for this user (the reservation outlived its
    /// lease and another invitation took it over).
    ReservationLost,
}

/// Where a page of members starts: the last row of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    pub user_id: String,
    pub sort_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberPage {
    pub members: Vec<Member>,
    pub next: Option<PageKey>,
}

/// Which members the Members page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFilter {
    pub status: Option<ShownStatus>,
    /// Invitations last sent at or before this have lapsed: now − the validity.
    pub lapsed_at: Timestamp,
    pub search: Option<Search>,
}

impl MemberFilter {
    /// Everyone, as at `now`.
    pub fn all(now: Timestamp, validity: chrono::Duration) -> Self {
        Self { status: None, lapsed_at: now - validity, search: None }
    }

    /// The filter itself, as the store's query applies it: the answer's last word.
    pub fn keeps(&self, member: &Member) -> bool {
        let lapsed = member.last_invitation_sent_at.is_some_and(|sent| sent <= self.lapsed_at);
        let shown = match member.status {
            MemberStatus::Verified => ShownStatus::Verified,
            MemberStatus::Unverified if lapsed => ShownStatus::Expired,
            MemberStatus::Unverified => ShownStatus::Unverified,
        };
        self.status.is_none_or(|status| status == shown) && self.search.as_ref().is_none_or(|q| q.finds(member))
    }
}

pub use crate::search::Search;

/// Which entries of the Log: one action, one member's history, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub target_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The `entryId` of the last entry, when more may follow.
    pub next: Option<String>,
}

/// The answer a request gives once its work commits, kept under its `Idempotency-Key` by
/// the very transaction that commits the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub key: String,
    pub fingerprint: String,
    pub response: StoredResponse,
    pub now: Timestamp,
}

/// A response kept for replay under an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: do the work, then finish or release it.
    Claimed,
    /// The work was done: answer with what was answered then.
    Replay(StoredResponse),
    /// The key was used with another request.
    Mismatch,
    /// Another call with this key is at work right now, for this many more seconds at most.
    InFlight { retry_after_seconds: u64 },
}

/// Whether a resend may go out now, under the cooldown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cooldown {
    Claimed,
    TooSoon { retry_after_seconds: u64 },
    NoMember,
}

/// A phone number's or email address's claim: which user holds it. A claim is `reserved`
/// while an invitation is under way and becomes `member` in the transaction that writes the
/// membership, so of two invitations of one contact only the first to reserve it goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactClaim {
    pub contact: String,
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

pub trait Members: Send + Sync {
    fn get_member(
        &self,
        org_id: &str,
        user_id: &UserId,
    ) -> impl Future<Output = Result<Option<Member>, StoreError>> + Send;

    /// Writes the membership, turns its reserved contacts into member claims, and appends
    /// the audit entry, all or nothing.
    fn add_member_with_audit(
        &self,
        member: &Member,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<Addition, StoreError>> + Send;

    /// Records the audit entry a cancel is about to write, before it deletes anything, and,
    /// when it is `disabling` the user, that this cancel is who disabled them.
    fn mark_cancel_pending(
        &self,
        member: &Member,
        entry: &AuditEntry,
        disabling: bool,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// Drops the pending cancel `id`, whose cancel died before it deleted anyone.
    fn clear_cancel_pending(&self, member: &Member, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets that the cancel `id` disabled the user, once they are enabled again.
    fn clear_disabled_by(&self, member: &Member, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that the pending resend `id` was sent to Cognito without an answer.
    fn mark_resend_attempted(&self, member: &Member, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Corrects the status mirror to verified and drops any cancel in flight.
    fn mark_verified(&self, member: &Member) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// Removes the membership and its contact claims and appends the audit entry, all or
    /// nothing, and only if the membership still exists; with a `receipt`, the request's
    /// `Idempotency-Key` is finished in the same transaction, so that a retry after a lost
    /// answer (or a process that died right after) replays the answer instead of finding
    /// nothing to cancel. `Done` also when this call's transaction committed and its answer
    /// was lost.
    fn remove_member_with_audit(
        &self,
        member: &Member,
        entry: &AuditEntry,
        receipt: Option<&Receipt>,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;

    /// One page of an organisation's members in the Members page's order, of those `filter`
    /// keeps. One query: a filtered page may hold fewer than `limit` and still have a next.
    fn list_members(
        &self,
        org_id: &str,
        filter: &MemberFilter,
        limit: usize,
        after: Option<&PageKey>,
    ) -> impl Future<Output = Result<MemberPage, StoreError>> + Send;

    /// Takes the right to resend now if the last resend went out at least `cooldown` ago:
    /// records `now` as the time of the last invitation and of the last resend, and keeps
    /// `entry`, the resend's audit entry, pending on the membership.
    fn claim_resend(
        &self,
        member: &Member,
        now: Timestamp,
        cooldown: std::time::Duration,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<Cooldown, StoreError>> + Send;

    /// Gives back a resend claimed but not sent: the times as they were, no entry pending.
    fn release_resend(
        &self,
        member: &Member,
        claimed_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes a resend's pending entry to the log (once, whoever calls) and clears it.
    fn complete_resend(
        &self,
        member: &Member,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait ContactClaims: Send + Sync {
    /// Reserves every one of `contacts` for `user_id`, all or nothing.
    fn reserve_contacts(
        &self,
        user_id: &UserId,
        org_id: &str,
        contacts: &[String],
        now: Timestamp,
    ) -> impl Future<Output = Result<Reservation, StoreError>> + Send;

    /// Gives back what [`ContactClaims::reserve_contacts`] reserved, where it still is a
    /// reservation of `user_id`.
    fn release_contacts(
        &self,
        user_id: &UserId,
        contacts: &[String],
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

pub trait AuditLog: Send + Sync {
    fn append_audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether `entry` (its key) is in the log.
    fn contains(&self, entry: &AuditEntry) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One page of an organisation's audit log, newest first, of the entries `filter` keeps.
    /// One query: a page may hold fewer than `limit` entries and still have a next.
    fn audit_page(
        &self,
        org_id: &str,
        filter: &AuditFilter,
        limit: usize,
        before: Option<&str>,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send;
}

pub trait IdempotencyRecords: Send + Sync {
    /// Takes an `Idempotency-Key` for a request with this fingerprint, for `lease` at most
    /// unless finished or released first.
    fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        lease: std::time::Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Keeps the response to replay for 24 hours.
    fn finish_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets a key whose work failed and may be retried.
    fn release_idempotency_key(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Work under way that a request may have left unfinished, found by when it started: the
/// reconciler's whole input (it reads no pool and scans no table). Every request with more
/// than one effect records it before its first effect: an invitation as its contacts'
/// reservations, a cancel and a resend on the membership (`cancelPending`,
/// `resendPending`). Each read goes by an index of that work alone, so it costs what is
/// pending, not what is kept.
pub trait PendingWork: Send + Sync {
    /// Memberships with a cancel or resend under way since before `before`, read
    /// consistently, at most `budget` of them; with the keys (`orgId/userId`) of records
    /// among them that are not a membership.
    fn members_with_work_since_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> impl Future<Output = Result<LapsedWork<Member>, StoreError>> + Send;

    /// Reservations taken before `before` (their invitation's lease lapsed), at most
    /// `budget` of them. Read from an index, which may lag: every use of them is a write
    /// conditional on the reservation being still what was read.
    fn reservations_taken_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> impl Future<Output = Result<LapsedWork<ContactClaim>, StoreError>> + Send;

    /// Makes the membership's place among pending work follow what `member` (read
    /// consistently) still has pending: out of it when nothing is, or at its oldest work.
    /// A membership changed since keeps its place: the change set it.
    fn settle_pending_work(&self, member: &Member) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What a read of pending work found.
#[derive(Debug, Clone, PartialEq)]
pub struct LapsedWork<T> {
    pub found: Vec<T>,
    /// Records found that could not be read as one (their keys).
    pub malformed: Vec<String>,
    /// More was pending than the budget allowed: the next pass goes on.
    pub more: bool,
}

/// The abuse limits' logs (see [`crate::quota`]).
pub trait Quotas: Send + Sync {
    /// One use of each of `limits` for `id`, all or none: refused when one has no room.
    fn take(
        &self,
        limits: &[Limit],
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Allowance, StoreError>> + Send;
    /// Gives `id`'s uses of `limits` back: what they paid for was never sent.
    fn give_back(&self, limits: &[Limit], id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Everything the functions keep in DynamoDB.
pub trait Store: Members + ContactClaims + AuditLog + IdempotencyRecords + PendingWork + Quotas {}

impl<T: Members + ContactClaims + AuditLog + IdempotencyRecords + PendingWork + Quotas> Store for T {}

/// The store's traits, for code that calls them on a concrete store rather than through a
/// `S: Store` bound.
pub mod prelude {
    pub use super::{AuditLog, ContactClaims, IdempotencyRecords, Members, PendingWork, Quotas, Store};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(status: UserState) -> DirectoryUser {
        DirectoryUser {
            username: "u".into(),
            status,
            enabled: true,
            org_id: Some("org-a".into()),
            name: None,
            phone: None,
            email: None,
            created_at: None,
        }
    }

    #[test]
    fn only_invited_and_unconfirmed_users_are_unverified() {
        for status in [UserState::Invited, UserState::Unconfirmed] {
            assert!(user(status).is_unverified());
        }
        for status in [
            UserState::Confirmed,
            UserState::Other("RESET_REQUIRED".into()),
            UserState::Other("ARCHIVED".into()),
            UserState::Other("COMPROMISED".into()),
            UserState::Other("EXTERNAL_PROVIDER".into()),
            UserState::Other(String::new()),
        ] {
            assert!(!user(status.clone()).is_unverified(), "{status:?} counts as verified: never deleted");
        }
    }

    #[test]
    fn membership_of_an_organisation_is_exact() {
        assert!(user(UserState::Confirmed).belongs_to("org-a"));
        assert!(!user(UserState::Confirmed).belongs_to("org-a "));
        assert!(!user(UserState::Confirmed).belongs_to("org-"));
        let mut orphan = user(UserState::Confirmed);
        orphan.org_id = None;
        assert!(!orphan.belongs_to(""));
    }
}

//! [`FakeStore`]: the tables in memory, one lock for all, so that every call is atomic as
//! a DynamoDB transaction is. The contacts, audit log, idempotency records, pending work
//! and quotas here; the memberships in `store_members.rs`.

use super::Journal;
use crate::domain::{AuditEntry, Contact, Member, UserId};
use crate::ports::{
    AuditFilter, AuditLog, AuditPage, Claim, ClaimState, ContactClaim, ContactClaims, IdempotencyRecords, LapsedWork,
    Outcome, PendingWork, Quotas, Reservation, StoreError, StoredResponse,
};
use crate::quota::{Allowance, Limit, Uses, Verdict};
use crate::time::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// An `Idempotency-Key`'s record.
#[derive(Debug, Clone)]
pub(super) enum KeyRecord {
    Leased { fingerprint: String, until: Timestamp },
    Done { fingerprint: String, response: StoredResponse },
}

#[derive(Debug, Default)]
pub(super) struct Tables {
    /// By (organisation, user id).
    pub members: BTreeMap<(String, String), Member>,
    pub claims: BTreeMap<Contact, ContactClaim>,
    pub audit: Vec<AuditEntry>,
    pub keys: HashMap<String, KeyRecord>,
    pub quotas: HashMap<String, Uses>,
    /// Each organisation's count of active administrators.
    pub admins: HashMap<String, u64>,
}

/// The store. A call named in [`FakeStore::fail`] fails once, before it changes anything.
#[derive(Clone, Default)]
pub struct FakeStore {
    journal: Journal,
    tables: Arc<Mutex<Tables>>,
    failing: Arc<Mutex<Vec<&'static str>>>,
}

impl FakeStore {
    pub fn new(journal: Journal) -> Self {
        Self { journal, ..Self::default() }
    }

    /// The calls made on this store and on the directory built beside it.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The next call to `operation` (`remove_member_with_audit`, `take`, …) fails.
    pub fn fail(&self, operation: &'static str) {
        self.failing.lock().expect("failing").push(operation);
    }

    /// A membership, as an earlier invitation left it, with its contacts claimed, counted
    /// among the active administrators if it is one (in place of the one it replaces).
    pub fn put_member(&self, member: Member) {
        let mut tables = self.lock();
        for contact in Contact::all_of(member.phone.as_deref(), member.email.as_deref()) {
            let claim = ContactClaim {
                contact: contact.clone(),
                user_id: member.user_id.to_string(),
                org_id: member.org_id.clone(),
                state: ClaimState::Member,
                reserved_at: None,
                held_by: None,
            };
            tables.claims.insert(contact, claim);
        }
        let counted = tables.admins.entry(member.org_id.clone()).or_default();
        *counted += u64::from(member.is_active_admin());
        let key = (member.org_id.clone(), member.user_id.to_string());
        if let Some(replaced) = tables.members.insert(key, member) {
            let counted = tables.admins.entry(replaced.org_id.clone()).or_default();
            *counted -= u64::from(replaced.is_active_admin());
        }
    }

    pub fn member(&self, org_id: &str, user_id: &str) -> Option<Member> {
        self.lock().members.get(&(org_id.to_owned(), user_id.to_owned())).cloned()
    }

    /// The organisation's log, oldest first.
    pub fn audit_entries(&self, org_id: &str) -> Vec<AuditEntry> {
        self.lock().audit.iter().filter(|entry| entry.org_id == org_id).cloned().collect()
    }

    pub fn claims(&self) -> Vec<ContactClaim> {
        self.lock().claims.values().cloned().collect()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().expect("tables")
    }

    /// Records the call, and fails it if it is to fail.
    pub(super) fn call(&self, operation: &'static str) -> Result<(), StoreError> {
        self.journal.record(format!("store.{operation}"));
        let mut failing = self.failing.lock().expect("failing");
        match failing.iter().position(|failing| *failing == operation) {
            Some(index) => {
                failing.remove(index);
                Err(StoreError { operation, source: "injected".into() })
            }
            None => Ok(()),
        }
    }
}

impl Tables {
    /// Appends `entry` unless it is there: the log's key makes a second write a no-op.
    pub(super) fn append(&mut self, entry: &AuditEntry) {
        if !self.audit.iter().any(|written| written.org_id == entry.org_id && written.id == entry.id) {
            self.audit.push(entry.clone());
        }
    }
}

impl ContactClaims for FakeStore {
    async fn claim_of(&self, contact: &Contact) -> Result<Option<ContactClaim>, StoreError> {
        self.call("claim_of")?;
        Ok(self.lock().claims.get(contact).cloned())
    }

    async fn reserve_contacts(
        &self,
        user_id: &UserId,
        org_id: &str,
        contacts: &[Contact],
        now: Timestamp,
    ) -> Result<Reservation, StoreError> {
        self.call("reserve_contacts")?;
        let mut tables = self.lock();
        for contact in contacts {
            match tables.claims.get(contact) {
                Some(holder) if holder.user_id != user_id.as_str() => return Ok(Reservation::Taken(holder.clone())),
                Some(own) if own.state == ClaimState::Member => return Ok(Reservation::Committed),
                _ => {}
            }
        }
        for contact in contacts {
            let claim = ContactClaim {
                contact: contact.clone(),
                user_id: user_id.to_string(),
                org_id: org_id.to_owned(),
                state: ClaimState::Reserved,
                reserved_at: Some(now.timestamp_millis()),
                held_by: None,
            };
            tables.claims.insert(contact.clone(), claim);
        }
        Ok(Reservation::Reserved)
    }

    async fn release_contacts(&self, user_id: &UserId, contacts: &[Contact]) -> Result<(), StoreError> {
        self.call("release_contacts")?;
        let mut tables = self.lock();
        tables.claims.retain(|contact, claim| {
            !(contacts.contains(contact) && claim.user_id == user_id.as_str() && claim.state == ClaimState::Reserved)
        });
        Ok(())
    }

    async fn remove_stale_reservation(&self, stale: &ContactClaim) -> Result<Outcome, StoreError> {
        self.call("remove_stale_reservation")?;
        let mut tables = self.lock();
        let same = |claim: &ContactClaim| {
            claim.user_id == stale.user_id
                && claim.state == ClaimState::Reserved
                && claim.reserved_at == stale.reserved_at
        };
        if tables.claims.get(&stale.contact).is_some_and(same) {
            tables.claims.remove(&stale.contact);
            return Ok(Outcome::Done);
        }
        Ok(Outcome::ConditionFailed)
    }

    async fn hold_reservations(&self, reservations: &[ContactClaim], hold: &str) -> Result<Outcome, StoreError> {
        self.call("hold_reservations")?;
        let mut tables = self.lock();
        let unchanged = reservations.iter().all(|read| {
            tables.claims.get(&read.contact).is_some_and(|claim| {
                claim.user_id == read.user_id
                    && claim.state == ClaimState::Reserved
                    && claim.reserved_at == read.reserved_at
            })
        });
        if !unchanged {
            return Ok(Outcome::ConditionFailed);
        }
        for read in reservations {
            if let Some(claim) = tables.claims.get_mut(&read.contact) {
                claim.held_by = Some(hold.to_owned());
            }
        }
        Ok(Outcome::Done)
    }

    async fn holds(&self, reservations: &[ContactClaim], hold: &str) -> Result<bool, StoreError> {
        self.call("holds")?;
        let tables = self.lock();
        Ok(reservations
            .iter()
            .all(|read| tables.claims.get(&read.contact).is_some_and(|claim| claim.held_by.as_deref() == Some(hold))))
    }

    async fn release_hold(&self, reservations: &[ContactClaim], hold: &str) -> Result<(), StoreError> {
        self.call("release_hold")?;
        let mut tables = self.lock();
        for read in reservations {
            if let Some(claim) = tables.claims.get_mut(&read.contact).filter(|c| c.held_by.as_deref() == Some(hold)) {
                claim.held_by = None;
            }
        }
        Ok(())
    }

    async fn remove_held_reservations(&self, reservations: &[ContactClaim], hold: &str) -> Result<usize, StoreError> {
        self.call("remove_held_reservations")?;
        let mut tables = self.lock();
        let mut removed = 0;
        for read in reservations {
            if tables.claims.get(&read.contact).is_some_and(|claim| claim.held_by.as_deref() == Some(hold)) {
                tables.claims.remove(&read.contact);
                removed += 1;
            }
        }
        Ok(removed)
    }
}

impl AuditLog for FakeStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.call("append_audit")?;
        self.lock().append(entry);
        Ok(())
    }

    async fn contains(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        self.call("contains")?;
        Ok(self.lock().audit.iter().any(|written| written.org_id == entry.org_id && written.id == entry.id))
    }

    async fn audit_page(
        &self,
        org_id: &str,
        filter: &AuditFilter,
        limit: usize,
        before: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        self.call("audit_page")?;
        let tables = self.lock();
        let mut entries: Vec<AuditEntry> = (tables.audit.iter())
            .filter(|entry| entry.org_id == org_id)
            .filter(|entry| filter.action.is_none_or(|action| entry.action == action))
            .filter(|entry| filter.target_id.as_ref().is_none_or(|target| &entry.target_id == target))
            .filter(|entry| before.is_none_or(|before| entry.entry_key().as_str() < before))
            .cloned()
            .collect();
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.entry_key()));
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next = if more { entries.last().map(AuditEntry::entry_key) } else { None };
        Ok(AuditPage { entries, next })
    }
}

impl IdempotencyRecords for FakeStore {
    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        lease: std::time::Duration,
    ) -> Result<Claim, StoreError> {
        self.call("claim_idempotency_key")?;
        let mut tables = self.lock();
        let claim = match tables.keys.get(key) {
            Some(KeyRecord::Done { fingerprint: first, .. } | KeyRecord::Leased { fingerprint: first, .. })
                if first != fingerprint =>
            {
                Claim::Mismatch
            }
            Some(KeyRecord::Done { response, .. }) => Claim::Replay(response.clone()),
            Some(KeyRecord::Leased { until, .. }) if *until > now => {
                Claim::InFlight { retry_after_seconds: (*until - now).num_seconds().max(1) as u64 }
            }
            _ => Claim::Claimed,
        };
        if claim == Claim::Claimed {
            let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
            tables.keys.insert(key.to_owned(), KeyRecord::Leased { fingerprint: fingerprint.to_owned(), until });
        }
        Ok(claim)
    }

    async fn finish_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        _now: Timestamp,
    ) -> Result<(), StoreError> {
        self.call("finish_idempotency_key")?;
        let record = KeyRecord::Done { fingerprint: fingerprint.to_owned(), response: response.clone() };
        self.lock().keys.insert(key.to_owned(), record);
        Ok(())
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        self.call("release_idempotency_key")?;
        let mut tables = self.lock();
        if matches!(tables.keys.get(key), Some(KeyRecord::Leased { .. })) {
            tables.keys.remove(key);
        }
        Ok(())
    }
}

impl PendingWork for FakeStore {
    async fn members_with_work_since_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> Result<LapsedWork<Member>, StoreError> {
        self.call("members_with_work_since_before")?;
        let tables = self.lock();
        let started = |member: &Member| {
            let pending = [&member.cancel_pending, &member.resend_pending];
            pending.into_iter().flatten().map(|entry| entry.occurred_at).min()
        };
        let mut found: Vec<Member> =
            tables.members.values().filter(|member| started(member).is_some_and(|at| at < before)).cloned().collect();
        let more = found.len() > budget;
        found.truncate(budget);
        Ok(LapsedWork { found, malformed: Vec::new(), more })
    }

    async fn reservations_taken_before(
        &self,
        before: Timestamp,
        budget: usize,
    ) -> Result<LapsedWork<ContactClaim>, StoreError> {
        self.call("reservations_taken_before")?;
        let tables = self.lock();
        let lapsed = |claim: &&ContactClaim| {
            claim.state == ClaimState::Reserved && claim.reserved_at.is_some_and(|at| at < before.timestamp_millis())
        };
        let mut found: Vec<ContactClaim> = tables.claims.values().filter(lapsed).cloned().collect();
        let more = found.len() > budget;
        found.truncate(budget);
        Ok(LapsedWork { found, malformed: Vec::new(), more })
    }

    /// The fake finds pending work from the memberships themselves: nothing to settle.
    async fn settle_pending_work(&self, _member: &Member) -> Result<(), StoreError> {
        self.call("settle_pending_work")
    }
}

impl Quotas for FakeStore {
    async fn take(&self, limits: &[Limit], id: &str, now: Timestamp) -> Result<Allowance, StoreError> {
        self.call("take")?;
        let mut tables = self.lock();
        let mut writes = Vec::new();
        for limit in limits {
            let key = format!("{:?}", limit.quota);
            let uses = tables.quotas.get(&key).cloned().unwrap_or_default();
            match uses.verdict(id, limit, now) {
                Verdict::Holds => {}
                Verdict::Room(uses) => writes.push((key, uses)),
                Verdict::Full { retry_after_seconds } => {
                    return Ok(Allowance::Refused { quota: limit.quota.clone(), retry_after_seconds });
                }
            }
        }
        tables.quotas.extend(writes);
        Ok(Allowance::Granted)
    }

    async fn give_back(&self, limits: &[Limit], id: &str) -> Result<(), StoreError> {
        self.call("give_back")?;
        let mut tables = self.lock();
        for limit in limits {
            if let Some(uses) = tables.quotas.get_mut(&format!("{:?}", limit.quota)) {
                uses.0.remove(id);
            }
        }
        Ok(())
    }
}

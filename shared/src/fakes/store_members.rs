//! [`FakeStore`]'s memberships: the [`Members`] port in memory, each write conditional as
//! the table's is.

use super::FakeStore;
use crate::domain::{AuditEntry, Contact, Member, MemberFilter, MemberStatus, UserId};
use crate::ports::{Addition, ClaimState, Cooldown, MemberPage, Members, Outcome, PageKey, Receipt, StoreError};
use crate::store::{name_key, status_key};
use crate::time::Timestamp;
use std::time::Duration;

fn key(member: &Member) -> (String, String) {
    (member.org_id.clone(), member.user_id.to_string())
}

impl FakeStore {
    /// Applies `change` to the stored membership if it is there and `condition` holds.
    fn update_if(
        &self,
        member: &Member,
        condition: impl FnOnce(&Member) -> bool,
        change: impl FnOnce(&mut Member),
    ) -> Outcome {
        let mut tables = self.lock();
        match tables.members.get_mut(&key(member)) {
            Some(stored) if condition(stored) => {
                change(stored);
                Outcome::Done
            }
            _ => Outcome::ConditionFailed,
        }
    }
}

impl Members for FakeStore {
    async fn get_member(&self, org_id: &str, user_id: &UserId) -> Result<Option<Member>, StoreError> {
        self.call("get_member")?;
        Ok(self.member(org_id, user_id.as_str()))
    }

    async fn add_member_with_audit(&self, member: &Member, entry: &AuditEntry) -> Result<Addition, StoreError> {
        self.call("add_member_with_audit")?;
        let mut tables = self.lock();
        if tables.members.contains_key(&key(member)) {
            return Ok(Addition::AlreadyMember);
        }
        let contacts = Contact::all_of(member.phone.as_deref(), member.email.as_deref());
        let ours = contacts.iter().all(|contact| {
            (tables.claims.get(contact))
                .is_some_and(|claim| claim.user_id == member.user_id.as_str() && claim.held_by.is_none())
        });
        if !ours {
            return Ok(Addition::ReservationLost);
        }
        for contact in &contacts {
            if let Some(claim) = tables.claims.get_mut(contact) {
                claim.state = ClaimState::Member;
                claim.reserved_at = None;
            }
        }
        tables.members.insert(key(member), member.clone());
        tables.append(entry);
        Ok(Addition::Added)
    }

    async fn mark_cancel_pending(
        &self,
        member: &Member,
        entry: &AuditEntry,
        disabling: bool,
    ) -> Result<Outcome, StoreError> {
        self.call("mark_cancel_pending")?;
        Ok(self.update_if(
            member,
            |_| true,
            |stored| {
                stored.cancel_pending = Some(entry.clone());
                if disabling {
                    stored.disabled_by = Some(entry.id.clone());
                }
            },
        ))
    }

    async fn clear_cancel_pending(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        self.call("clear_cancel_pending")?;
        let pending = |stored: &Member| stored.cancel_pending.as_ref().is_some_and(|entry| entry.id == id);
        self.update_if(member, pending, |stored| stored.cancel_pending = None);
        Ok(())
    }

    async fn clear_disabled_by(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        self.call("clear_disabled_by")?;
        self.update_if(member, |stored| stored.disabled_by.as_deref() == Some(id), |stored| stored.disabled_by = None);
        Ok(())
    }

    async fn mark_resend_attempted(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        self.call("mark_resend_attempted")?;
        let pending = |stored: &Member| stored.resend_pending.as_ref().is_some_and(|entry| entry.id == id);
        self.update_if(member, pending, |stored| stored.resend_attempted = Some(id.to_owned()));
        Ok(())
    }

    async fn mark_verified(&self, member: &Member, accepted: &AuditEntry) -> Result<Outcome, StoreError> {
        self.call("mark_verified")?;
        let mut tables = self.lock();
        let Some(stored) = tables.members.get_mut(&key(member)) else { return Ok(Outcome::ConditionFailed) };
        stored.cancel_pending = None;
        if stored.status == MemberStatus::Unverified {
            stored.status = MemberStatus::Verified;
            let admin = stored.is_active_admin();
            if admin {
                *tables.admins.entry(member.org_id.clone()).or_default() += 1;
            }
            tables.audit.push(accepted.clone());
        }
        Ok(Outcome::Done)
    }

    async fn remove_member_with_audit(
        &self,
        member: &Member,
        entry: &AuditEntry,
        receipt: Option<&Receipt>,
    ) -> Result<Outcome, StoreError> {
        self.call("remove_member_with_audit")?;
        let mut tables = self.lock();
        let written = tables.audit.iter().any(|e| e.org_id == entry.org_id && e.id == entry.id);
        if written || tables.members.remove(&key(member)).is_none() {
            return Ok(Outcome::ConditionFailed);
        }
        tables.claims.retain(|_, claim| claim.user_id != member.user_id.as_str());
        tables.append(entry);
        if let Some(receipt) = receipt {
            let record = super::store::KeyRecord::Done {
                fingerprint: receipt.fingerprint.clone(),
                response: receipt.response.clone(),
            };
            tables.keys.insert(receipt.key.clone(), record);
        }
        Ok(Outcome::Done)
    }

    async fn list_members(
        &self,
        org_id: &str,
        filter: &MemberFilter,
        limit: usize,
        after: Option<&PageKey>,
    ) -> Result<MemberPage, StoreError> {
        self.call("list_members")?;
        let by_status = filter.search.is_none() && filter.status.is_some();
        let sort_key = |member: &Member| match by_status {
            true => status_key(member.status, &member.name, &member.user_id),
            false => name_key(&member.name, &member.user_id),
        };
        let tables = self.lock();
        let mut rows: Vec<(String, Member)> = (tables.members.values())
            .filter(|member| member.org_id == org_id && filter.keeps(member))
            .map(|member| (sort_key(member), member.clone()))
            .filter(|(sort_key, _)| after.is_none_or(|after| sort_key.as_str() > after.sort_key.as_str()))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = match rows.last() {
            Some((sort_key, last)) if more => {
                Some(PageKey { user_id: last.user_id.to_string(), sort_key: sort_key.clone() })
            }
            _ => None,
        };
        Ok(MemberPage { members: rows.into_iter().map(|(_, member)| member).collect(), next })
    }

    async fn claim_resend(
        &self,
        member: &Member,
        now: Timestamp,
        cooldown: Duration,
        entry: &AuditEntry,
    ) -> Result<Cooldown, StoreError> {
        self.call("claim_resend")?;
        let cooldown = chrono::Duration::from_std(cooldown).unwrap_or(chrono::Duration::MAX);
        let Some(stored) = self.member(&member.org_id, member.user_id.as_str()) else { return Ok(Cooldown::NoMember) };
        let own = stored.resend_pending.as_ref().is_some_and(|pending| pending.id == entry.id);
        if let Some(last) = stored.last_resent_at.filter(|last| *last + cooldown > now && !own) {
            let wait_ms = (last + cooldown - now).num_milliseconds().max(0) as u64;
            return Ok(Cooldown::TooSoon { retry_after_seconds: wait_ms.div_ceil(1000).max(1) });
        }
        self.update_if(
            member,
            |_| true,
            |stored| {
                stored.last_invitation_sent_at = Some(now);
                stored.last_resent_at = Some(now);
                stored.resend_pending = Some(entry.clone());
                stored.resend_attempted = None;
            },
        );
        Ok(Cooldown::Claimed)
    }

    async fn release_resend(&self, member: &Member, claimed_at: Timestamp) -> Result<(), StoreError> {
        self.call("release_resend")?;
        self.update_if(
            member,
            |stored| stored.last_resent_at == Some(claimed_at),
            |stored| {
                stored.last_invitation_sent_at = member.last_invitation_sent_at;
                stored.last_resent_at = member.last_resent_at;
                stored.resend_pending = None;
                stored.resend_attempted = None;
            },
        );
        Ok(())
    }

    async fn complete_resend(&self, member: &Member, entry: &AuditEntry) -> Result<(), StoreError> {
        self.call("complete_resend")?;
        self.lock().append(entry);
        let pending = |stored: &Member| stored.resend_pending.as_ref().is_some_and(|pending| pending.id == entry.id);
        self.update_if(member, pending, |stored| {
            stored.last_resend_id = Some(entry.id.clone());
            stored.resend_pending = None;
            stored.resend_attempted = None;
        });
        Ok(())
    }
}

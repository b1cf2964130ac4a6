//! [`FakeStore`]'s lifecycle writes: the [`MemberChanges`] port in memory, under the one
//! lock, so each is all or nothing as the table's transaction is.

use super::FakeStore;
use crate::domain::{AuditEntry, Member};
use crate::ports::{Change, MemberChanges, StoreError};

impl FakeStore {
    /// The count of active administrators of `org_id`.
    pub fn admins(&self, org_id: &str) -> u64 {
        self.lock().admins.get(org_id).copied().unwrap_or(0)
    }

    /// Applies `change` to the membership as `before` was read, moving the count, if the
    /// membership is still so and the count stays at one or more.
    fn commit(&self, before: &Member, became_admin: bool, change: impl FnOnce(&mut Member)) -> Change {
        let mut tables = self.lock();
        let key = (before.org_id.clone(), before.user_id.to_string());
        let Some(stored) = tables.members.get(&key) else { return Change::Stale };
        if stored.status != before.status || stored.role != before.role || stored.remove_pending.is_some() {
            return Change::Stale;
        }
        let count = tables.admins.get(&before.org_id).copied().unwrap_or(0);
        let count = match (before.is_active_admin(), became_admin) {
            (true, false) if count <= 1 => return Change::LastAdmin,
            (true, false) => count - 1,
            (false, true) => count + 1,
            _ => count,
        };
        tables.admins.insert(before.org_id.clone(), count);
        change(tables.members.get_mut(&key).expect("read under the same lock"));
        Change::Done
    }
}

impl MemberChanges for FakeStore {
    async fn change_member(&self, before: &Member, after: &Member, entry: &AuditEntry) -> Result<Change, StoreError> {
        self.call("change_member")?;
        let outcome = self.commit(before, after.is_active_admin(), |stored| {
            stored.role = after.role;
            stored.status = after.status;
            stored.change_pending = Some(entry.clone());
            stored.last_change_id = Some(entry.id.clone());
        });
        if outcome == Change::Done {
            self.lock().audit.push(entry.clone());
        }
        Ok(outcome)
    }

    async fn mark_remove_pending(&self, member: &Member, entry: &AuditEntry) -> Result<Change, StoreError> {
        self.call("mark_remove_pending")?;
        Ok(self.commit(member, false, |stored| stored.remove_pending = Some(entry.clone())))
    }

    async fn clear_change_pending(&self, member: &Member, id: &str) -> Result<(), StoreError> {
        self.call("clear_change_pending")?;
        let mut tables = self.lock();
        if let Some(stored) = tables.members.get_mut(&(member.org_id.clone(), member.user_id.to_string()))
            && stored.change_pending.as_ref().is_some_and(|entry| entry.id == id)
        {
            stored.change_pending = None;
        }
        Ok(())
    }

    async fn active_admins(&self, org_id: &str) -> Result<u64, StoreError> {
        self.call("active_admins")?;
        Ok(self.admins(org_id))
    }
}

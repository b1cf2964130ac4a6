//! The append-only audit log: the [`AuditLog`] port, its filters and pages.

use super::StoreError;
use crate::domain::{AuditAction, AuditEntry};
use std::future::Future;

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

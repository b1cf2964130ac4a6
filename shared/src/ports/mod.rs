//! What the functions need from Cognito ([`Directory`]) and DynamoDB ([`Store`]), as small
//! traits, one file a capability, in the domain's words. The real adapters are
//! [`crate::directory::CognitoDirectory`] and [`crate::store::DynamoStore`]; tests may put a
//! fake in their place.

mod audit;
mod contacts;
mod directory;
mod idempotency;
mod member_changes;
mod members;
mod pending;
mod quotas;

pub use audit::*;
pub use contacts::*;
pub use directory::*;
pub use idempotency::*;
pub use member_changes::*;
pub use members::*;
pub use pending::*;
pub use quotas::*;

pub type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} failed")]
pub struct StoreError {
    pub operation: &'static str,
    #[source]
    pub source: Cause,
}

impl From<StoreError> for crate::ApiError {
    fn from(error: StoreError) -> Self {
        crate::ApiError::unavailable(error)
    }
}

pub use crate::domain::MemberFilter;
pub use crate::domain::search::Search;

/// Everything the functions keep in DynamoDB.
pub trait Store:
    Members + MemberChanges + ContactClaims + AuditLog + IdempotencyRecords + PendingWork + Quotas
{
}

impl<T: Members + MemberChanges + ContactClaims + AuditLog + IdempotencyRecords + PendingWork + Quotas> Store for T {}

/// The store's traits, for code that calls them on a concrete store rather than through a
/// `S: Store` bound.
pub mod prelude {
    pub use super::{AuditLog, ContactClaims, IdempotencyRecords, MemberChanges, Members, PendingWork, Quotas, Store};
}

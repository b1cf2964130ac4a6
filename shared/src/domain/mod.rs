//! The domain: values that validate when built (a value that exists is a valid one), the
//! membership and its audit entries, and the rules that read them (which members a listing
//! keeps, what a search finds). Nothing here knows HTTP or AWS: a value that does not
//! validate is an [`Invalid`], which the HTTP layer answers as a bad request.

mod audit;
mod contact;
mod member;
pub mod search;
mod values;

pub use audit::{AuditAction, AuditEntry, RoleChange};
pub use contact::Contact;
pub use member::{Member, MemberFilter, MemberStatus, ShownStatus};
pub use values::{Email, PersonName, Phone, Role, UserId};

/// A value that does not validate, and why, in words a client may read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Where a request came from, as the audit log records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
}

/// Who did something, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub org_id: String,
    pub name: String,
}

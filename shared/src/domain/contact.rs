//! A way to reach someone: what only one user of the pool may hold at a time.

use std::fmt;

/// A phone number or an email address, as the pool holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contact {
    Phone(String),
    Email(String),
}

impl Contact {
    /// The contacts a person with this phone number and email address holds.
    pub fn all_of(phone: Option<&str>, email: Option<&str>) -> Vec<Self> {
        let phone = phone.map(|phone| Self::Phone(phone.to_owned()));
        let email = email.map(|email| Self::Email(email.to_owned()));
        phone.into_iter().chain(email).collect()
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Phone(_) => "phone",
            Self::Email(_) => "email",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Self::Phone(value) | Self::Email(value) => value,
        }
    }
}

/// `phone +447700900123`: for logs and test messages.
impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.value())
    }
}

//! The values a request carries: a member's id, phone number, email address, name and role.

use super::Invalid;
use std::fmt;

/// A member's id: their Cognito username (1–128 characters, no white space or control
/// characters, as Cognito itself requires).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let length = raw.chars().count();
        if length == 0 || length > 128 {
            return Err(Invalid("userId must be 1 to 128 characters long.".into()));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid("userId must not contain spaces or control characters.".into()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form: `+`, a country code that does not start with 0, and at
/// most 15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let digits =
            raw.strip_prefix('+').ok_or("phone must be in E.164 form, starting with + and the country code")?;
        let valid =
            (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err("phone must be in E.164 form: + then 8 to 15 digits, e.g. +447700900123".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lower-cased so that one address has one spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let well_formed = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if well_formed { Ok(Self(email)) } else { Err("email must be an address such as ann@example.com".into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("name must not be empty".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!("name must be at most {} characters", Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err("name must not contain control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_checked_like_cognito_usernames() {
        assert_eq!(UserId::parse("8f0e-1a2b").unwrap().as_str(), "8f0e-1a2b");
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse("a\u{0}b").is_err());
        assert!(UserId::parse(&"x".repeat(129)).is_err());
        assert!(UserId::parse(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn phones_must_be_e164() {
        assert!(Phone::parse("+447700900123").is_ok());
        assert!(Phone::parse("+12025550123").is_ok());
        for bad in ["447700900123", "+44 7700 900123", "+0447700900", "+44770", "+4477009001234567", "+44a7700900", ""]
        {
            assert!(Phone::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["ann", "ann@", "@example.com", "ann@example", "a b@example.com", "ann@@example.com", "ann@example."]
        {
            assert!(Email::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ann Example ").unwrap().as_str(), "Ann Example");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("Ann\nExample").is_err());
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
    }
}

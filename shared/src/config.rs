//! Configuration read from the environment once per cold start.

use std::time::Duration;

/// Everything a function needs to find its resources. AWS endpoints, region and credentials
/// are deliberately absent: they come from the standard AWS configuration chain.
#[derive(Debug, Clone)]
pub struct Config {
    pub user_pool_id: String,
    pub members_table: String,
    pub audit_table: String,
    pub admin_group: String,
    pub resend_cooldown: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

pub const DEFAULT_ADMIN_GROUP: &str = "org-admin";
pub const DEFAULT_RESEND_COOLDOWN_SECONDS: u64 = 60;

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so that tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let admin_group = lookup("ADMIN_GROUP")
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| DEFAULT_ADMIN_GROUP.to_owned());
        let resend_cooldown = match lookup("RESEND_COOLDOWN_SECONDS") {
            None => DEFAULT_RESEND_COOLDOWN_SECONDS,
            Some(raw) => raw.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                name: "RESEND_COOLDOWN_SECONDS",
                reason: format!("expected a whole number of seconds, got {raw:?}"),
            })?,
        };
        Ok(Self {
            user_pool_id: required("USER_POOL_ID")?,
            members_table: required("MEMBERS_TABLE")?,
            audit_table: required("AUDIT_TABLE")?,
            admin_group,
            resend_cooldown: Duration::from_secs(resend_cooldown),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    const FULL: &[(&str, &str)] =
        &[("USER_POOL_ID", "eu-west-1_abc"), ("MEMBERS_TABLE", "members"), ("AUDIT_TABLE", "audit")];

    #[test]
    fn defaults_apply_when_optional_variables_are_absent() {
        let config = Config::from_lookup(lookup(FULL)).unwrap();
        assert_eq!(config.admin_group, "org-admin");
        assert_eq!(config.resend_cooldown, Duration::from_secs(60));
        assert_eq!(config.members_table, "members");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = Config::from_lookup(lookup(&FULL[..2])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("AUDIT_TABLE"));
        assert_eq!(err.to_string(), "missing environment variable AUDIT_TABLE");
    }

    #[test]
    fn a_blank_variable_counts_as_missing() {
        let mut pairs = FULL.to_vec();
        pairs[0] = ("USER_POOL_ID", "  ");
        assert_eq!(Config::from_lookup(lookup(&pairs)).unwrap_err(), ConfigError::Missing("USER_POOL_ID"));
    }

    #[test]
    fn a_bad_cooldown_is_refused() {
        let mut pairs = FULL.to_vec();
        pairs.push(("RESEND_COOLDOWN_SECONDS", "soon"));
        let err = Config::from_lookup(lookup(&pairs)).unwrap_err();
        assert!(err.to_string().contains("RESEND_COOLDOWN_SECONDS"), "{err}");
    }
}

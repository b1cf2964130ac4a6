//! Configuration read from the environment once per cold start.

use std::time::Duration;

/// The DynamoDB tables, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// Membership records: `orgId` + `userId`.
    pub members: String,
    /// The append-only audit log: `orgId` + `entryId`.
    pub audit: String,
    /// Which user holds a phone number or email address: `contact`.
    pub contacts: String,
    /// Responses kept for `Idempotency-Key` replays: `key`, expiring.
    pub idempotency: String,
    /// The terms a search finds members by: `term` + `entry`.
    pub search: String,
    /// Where scheduled jobs that run across invocations stand: `job`.
    pub jobs: String,
    /// The abuse limits' logs: `quota`, expiring.
    pub quotas: String,
    /// One item per organisation (`orgId`): its count of active administrators.
    pub orgs: String,
}

/// Everything an HTTP function needs to find its resources. AWS endpoints, region and
/// credentials are deliberately absent: they come from the standard AWS configuration chain.
#[derive(Debug, Clone)]
pub struct Config {
    pub user_pool_id: String,
    /// The `iss` of this pool's tokens, derived from `user_pool_id`.
    pub issuer: String,
    pub tables: Tables,
    pub admin_group: String,
    pub resend_cooldown: Duration,
    /// How long a request may hold an `Idempotency-Key` or a contact reservation before a
    /// retry may take it over: the function's timeout (`FUNCTION_TIMEOUT_SECONDS`, the
    /// template's) plus [`LEASE_MARGIN`], so that a live request is never overtaken.
    pub lease: Duration,
    /// How long an invitation's temporary password lives (`INVITATION_VALIDITY_DAYS`, the
    /// template's `TemporaryPasswordValidityDays`): past it, an unverified member is shown
    /// `expired`.
    pub invitation_validity: chrono::Duration,
    /// The abuse limits (`INVITATIONS_PER_ORG_PER_HOUR`, `MESSAGES_PER_NUMBER_PER_DAY`).
    pub limits: crate::quota::Limits,
    /// How long an audit entry is kept after it occurred (`AUDIT_RETENTION_DAYS`, the
    /// template's `AuditRetentionDays`): its item's TTL, and past it no read shows it. `None`
    /// (0 days): kept forever.
    pub audit_retention: Option<chrono::Duration>,
    pub clock: crate::time::Clock,
}

/// Past the function's timeout, before its lease lapses: clock skew between instances.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

pub const DEFAULT_ADMIN_GROUP: &str = "org-admin";
pub const DEFAULT_RESEND_COOLDOWN_SECONDS: u64 = 60;
pub const DEFAULT_AUDIT_RETENTION_DAYS: i64 = 365;
/// Ten years: past it a TTL is no retention at all (0 keeps forever).
pub const MAX_AUDIT_RETENTION_DAYS: i64 = 3650;

/// `AUDIT_RETENTION_DAYS`: whole days, 0 (forever) to [`MAX_AUDIT_RETENTION_DAYS`].
pub fn audit_retention(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<chrono::Duration>, ConfigError> {
    let Some(raw) = lookup("AUDIT_RETENTION_DAYS").filter(|raw| !raw.trim().is_empty()) else {
        return Ok(Some(chrono::Duration::days(DEFAULT_AUDIT_RETENTION_DAYS)));
    };
    let days = raw.trim().parse::<i64>().ok().filter(|days| (0..=MAX_AUDIT_RETENTION_DAYS).contains(days));
    let days = days.ok_or_else(|| ConfigError::Invalid {
        name: "AUDIT_RETENTION_DAYS",
        reason: format!("expected whole days from 0 (keep forever) to {MAX_AUDIT_RETENTION_DAYS}, got {raw:?}"),
    })?;
    Ok((days > 0).then(|| chrono::Duration::days(days)))
}

fn required(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<String, ConfigError> {
    lookup(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// A limit's allowance: 1 to [`crate::quota::MAX_ALLOWED`], `default` when unset.
fn allowance(lookup: &impl Fn(&str) -> Option<String>, name: &'static str, default: u32) -> Result<u32, ConfigError> {
    let Some(raw) = lookup(name).filter(|raw| !raw.trim().is_empty()) else { return Ok(default) };
    raw.trim().parse::<u32>().ok().filter(|n| (1..=crate::quota::MAX_ALLOWED).contains(n)).ok_or_else(|| {
        ConfigError::Invalid {
            name,
            reason: format!("expected a whole number from 1 to {}, got {raw:?}", crate::quota::MAX_ALLOWED),
        }
    })
}

impl Tables {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            members: required(lookup, "MEMBERS_TABLE")?,
            audit: required(lookup, "AUDIT_TABLE")?,
            contacts: required(lookup, "CONTACTS_TABLE")?,
            idempotency: required(lookup, "IDEMPOTENCY_TABLE")?,
            search: required(lookup, "SEARCH_TABLE")?,
            jobs: required(lookup, "JOBS_TABLE")?,
            quotas: required(lookup, "QUOTAS_TABLE")?,
            orgs: required(lookup, "ORGS_TABLE")?,
        })
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so that tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
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
        let timeout = required(&lookup, "FUNCTION_TIMEOUT_SECONDS")?;
        let timeout = timeout.parse::<u64>().map_err(|_| ConfigError::Invalid {
            name: "FUNCTION_TIMEOUT_SECONDS",
            reason: format!("expected a whole number of seconds, got {timeout:?}"),
        })?;
        let validity = required(&lookup, "INVITATION_VALIDITY_DAYS")?;
        let validity = validity.parse::<i64>().ok().filter(|days| (1..=365).contains(days)).ok_or_else(|| {
            ConfigError::Invalid {
                name: "INVITATION_VALIDITY_DAYS",
                reason: format!("expected whole days from 1 to 365, got {validity:?}"),
            }
        })?;
        let defaults = crate::quota::Limits::default();
        let limits = crate::quota::Limits {
            invitations_per_org_per_hour: allowance(
                &lookup,
                "INVITATIONS_PER_ORG_PER_HOUR",
                defaults.invitations_per_org_per_hour,
            )?,
            messages_per_number_per_day: allowance(
                &lookup,
                "MESSAGES_PER_NUMBER_PER_DAY",
                defaults.messages_per_number_per_day,
            )?,
        };
        let user_pool_id = required(&lookup, "USER_POOL_ID")?;
        // The pool's issuer as the pool itself gives it (the template passes its
        // ProviderURL, the authorizer checks the same value): never assembled here from a
        // region and a domain, which differ by partition and by Cognito's issuer forms.
        let issuer = required(&lookup, "TOKEN_ISSUER")?;
        if !issuer.starts_with("https://") || issuer.ends_with('/') {
            return Err(ConfigError::Invalid {
                name: "TOKEN_ISSUER",
                reason: format!("expected the pool's issuer URL (https://…, no trailing slash), got {issuer:?}"),
            });
        }
        Ok(Self {
            invitation_validity: chrono::Duration::days(validity),
            limits,
            audit_retention: audit_retention(&lookup)?,
            clock: crate::time::Clock::default(),
            issuer,
            user_pool_id,
            tables: Tables::from_lookup(&lookup)?,
            admin_group,
            resend_cooldown: Duration::from_secs(resend_cooldown),
            lease: Duration::from_secs(timeout) + LEASE_MARGIN,
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

    const FULL: &[(&str, &str)] = &[
        ("USER_POOL_ID", "eu-west-1_abc"),
        ("TOKEN_ISSUER", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"),
        ("MEMBERS_TABLE", "members"),
        ("AUDIT_TABLE", "audit"),
        ("CONTACTS_TABLE", "contacts"),
        ("IDEMPOTENCY_TABLE", "idempotency"),
        ("SEARCH_TABLE", "search"),
        ("JOBS_TABLE", "jobs"),
        ("QUOTAS_TABLE", "quotas"),
        ("ORGS_TABLE", "orgs"),
        ("FUNCTION_TIMEOUT_SECONDS", "10"),
        ("INVITATION_VALIDITY_DAYS", "7"),
    ];

    #[test]
    fn defaults_apply_when_optional_variables_are_absent() {
        let config = Config::from_lookup(lookup(FULL)).unwrap();
        assert_eq!(config.admin_group, "org-admin");
        assert_eq!(config.resend_cooldown, Duration::from_secs(60));
        assert_eq!(config.tables.members, "members");
        assert_eq!(config.tables.idempotency, "idempotency");
        assert_eq!(config.lease, Duration::from_secs(15), "the timeout plus the margin");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let without_audit: Vec<_> = FULL.iter().copied().filter(|(k, _)| *k != "AUDIT_TABLE").collect();
        let err = Config::from_lookup(lookup(&without_audit)).unwrap_err();
        assert_eq!(err, ConfigError::Missing("AUDIT_TABLE"));
        assert_eq!(err.to_string(), "missing environment variable AUDIT_TABLE");
    }

    #[test]
    fn the_tables_alone_need_no_user_pool() {
        let tables: Vec<_> = FULL.iter().copied().filter(|(k, _)| *k != "USER_POOL_ID").collect();
        assert!(Tables::from_lookup(&lookup(&tables)).is_ok());
        assert_eq!(Config::from_lookup(lookup(&tables)).unwrap_err(), ConfigError::Missing("USER_POOL_ID"));
    }

    #[test]
    fn a_blank_variable_counts_as_missing() {
        let mut pairs = FULL.to_vec();
        pairs[0] = ("USER_POOL_ID", "  ");
        assert_eq!(Config::from_lookup(lookup(&pairs)).unwrap_err(), ConfigError::Missing("USER_POOL_ID"));
    }

    #[test]
    fn the_issuer_is_taken_as_given_and_never_assembled() {
        let mut pairs = FULL.to_vec();
        pairs[1] = ("TOKEN_ISSUER", "https://cognito-idp.eu-isoe-west-1.cloud.adc-e.uk/eu-isoe-west-1_abc");
        let config = Config::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(config.issuer, "https://cognito-idp.eu-isoe-west-1.cloud.adc-e.uk/eu-isoe-west-1_abc");
        let without: Vec<_> = FULL.iter().copied().filter(|(k, _)| *k != "TOKEN_ISSUER").collect();
        assert_eq!(Config::from_lookup(lookup(&without)).unwrap_err(), ConfigError::Missing("TOKEN_ISSUER"));
        for bad in
            ["cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", "https://cognito-idp.eu-west-1.amazonaws.com/x/"]
        {
            pairs[1] = ("TOKEN_ISSUER", bad);
            let err = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(err.to_string().contains("TOKEN_ISSUER"), "{err}");
        }
    }

    #[test]
    fn a_bad_cooldown_is_refused() {
        let mut pairs = FULL.to_vec();
        pairs.push(("RESEND_COOLDOWN_SECONDS", "soon"));
        let err = Config::from_lookup(lookup(&pairs)).unwrap_err();
        assert!(err.to_string().contains("RESEND_COOLDOWN_SECONDS"), "{err}");
    }

    #[test]
    fn the_abuse_limits_default_and_refuse_what_they_cannot_hold() {
        let config = Config::from_lookup(lookup(FULL)).unwrap();
        assert_eq!(config.limits.invitations_per_org_per_hour, 100);
        assert_eq!(config.limits.messages_per_number_per_day, 5);
        let mut pairs = FULL.to_vec();
        pairs.push(("INVITATIONS_PER_ORG_PER_HOUR", "7"));
        pairs.push(("MESSAGES_PER_NUMBER_PER_DAY", "1000"));
        let config = Config::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!((config.limits.invitations_per_org_per_hour, config.limits.messages_per_number_per_day), (7, 1000));
        for (name, bad) in [
            ("INVITATIONS_PER_ORG_PER_HOUR", "0"),
            ("INVITATIONS_PER_ORG_PER_HOUR", "1001"),
            ("MESSAGES_PER_NUMBER_PER_DAY", "-1"),
            ("MESSAGES_PER_NUMBER_PER_DAY", "five"),
        ] {
            let mut pairs = FULL.to_vec();
            pairs.push((name, bad));
            let err = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn audit_retention_defaults_to_a_year_zero_keeps_forever_and_nonsense_is_refused() {
        let config = Config::from_lookup(lookup(FULL)).unwrap();
        assert_eq!(config.audit_retention, Some(chrono::Duration::days(365)));
        let with = |raw: &'static str| {
            let mut pairs = FULL.to_vec();
            pairs.push(("AUDIT_RETENTION_DAYS", raw));
            Config::from_lookup(lookup(&pairs))
        };
        assert_eq!(with("0").unwrap().audit_retention, None);
        assert_eq!(with(" 30 ").unwrap().audit_retention, Some(chrono::Duration::days(30)));
        for bad in ["-1", "3651", "a year", "1.5"] {
            let err = with(bad).unwrap_err();
            assert!(err.to_string().contains("AUDIT_RETENTION_DAYS"), "{bad}: {err}");
        }
    }
}

//! Abuse limits: how many invitations one organisation may send an hour
//! (`INVITATIONS_PER_ORG_PER_HOUR`), and how many messages one phone number may be sent a
//! day, whatever organisation sends them (`MESSAGES_PER_NUMBER_PER_DAY`: invitations,
//! resends, and an invite → cancel → invite loop alike).
//!
//! Each limit is a sliding window, kept exactly: the log of the uses inside the window
//! (each an id and a time), one DynamoDB item per organisation or number, changed only by a
//! write conditional on the version it was read at (`store/quotas.rs`). A counter per fixed
//! hour would be one atomic `ADD`, but lets twice the limit through across a window's edge
//! (the whole quota at 10:59, again at 11:00), and the contract says "in the last hour".
//! The log holds at most the limit (more only after the limit is lowered, until they leave
//! the window), and the item expires (TTL) a window after its last use.
//!
//! A use carries the id of what it pays for (the invitation's user id, the resend's entry
//! id), so the retry of a request takes nothing more: its use is in the log already.

use crate::domain::Phone;
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// What a limit counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quota {
    /// The invitations an organisation sent.
    Invitations { org_id: String },
    /// The messages (invitations and resends) a phone number was sent.
    Messages { phone: Phone },
}

/// A quota with its allowance: at most `allowed` uses in any `window`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub quota: Quota,
    pub allowed: u32,
    pub window: chrono::Duration,
}

/// The two limits' settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub invitations_per_org_per_hour: u32,
    pub messages_per_number_per_day: u32,
}

pub const DEFAULT_INVITATIONS_PER_ORG_PER_HOUR: u32 = 100;
pub const DEFAULT_MESSAGES_PER_NUMBER_PER_DAY: u32 = 5;
/// The most a limit may allow: its log, one item, holds that many uses (about 60 bytes each,
/// far below DynamoDB's 400 KB).
pub const MAX_ALLOWED: u32 = 1000;

impl Default for Limits {
    fn default() -> Self {
        Self {
            invitations_per_org_per_hour: DEFAULT_INVITATIONS_PER_ORG_PER_HOUR,
            messages_per_number_per_day: DEFAULT_MESSAGES_PER_NUMBER_PER_DAY,
        }
    }
}

impl Limits {
    /// What inviting `phone` into `org_id` uses: one of the organisation's invitations and
    /// one of the number's messages.
    pub fn invitation(&self, org_id: &str, phone: &Phone) -> Vec<Limit> {
        vec![
            Limit {
                quota: Quota::Invitations { org_id: org_id.to_owned() },
                allowed: self.invitations_per_org_per_hour,
                window: chrono::Duration::hours(1),
            },
            self.message(phone),
        ]
    }

    /// What sending `phone` a message uses.
    pub fn message(&self, phone: &Phone) -> Limit {
        Limit {
            quota: Quota::Messages { phone: phone.clone() },
            allowed: self.messages_per_number_per_day,
            window: chrono::Duration::days(1),
        }
    }
}

/// The answer to a request for one use of each of some limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowance {
    /// Taken (or taken already, by an earlier attempt of the same request).
    Granted,
    /// A limit has no room: nothing was taken. `retry_after_seconds`: when it has room again.
    Refused { quota: Quota, retry_after_seconds: u64 },
}

impl Allowance {
    /// Granted, or the contract's `429` for the quota that had no room.
    pub fn granted(self) -> Result<(), crate::ApiError> {
        match self {
            Self::Granted => Ok(()),
            Self::Refused { quota: Quota::Invitations { .. }, retry_after_seconds } => {
                Err(crate::ApiError::InvitationQuota { retry_after_seconds })
            }
            Self::Refused { quota: Quota::Messages { .. }, retry_after_seconds } => {
                Err(crate::ApiError::MessageQuota { retry_after_seconds })
            }
        }
    }
}

/// One quota's uses inside its window: id → when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uses(pub BTreeMap<String, Timestamp>);

/// What one log says to one more use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `id` is in the log already: nothing to write.
    Holds,
    /// Room: the log to write, `id` in it and the uses past the window out.
    Room(Uses),
    /// Full until `retry_after_seconds` from now.
    Full { retry_after_seconds: u64 },
}

impl Uses {
    /// The log without the uses that fell out of the window.
    pub fn within(&self, window: chrono::Duration, now: Timestamp) -> Uses {
        Uses(self.0.iter().filter(|(_, at)| **at > now - window).map(|(id, at)| (id.clone(), *at)).collect())
    }

    pub fn verdict(&self, id: &str, limit: &Limit, now: Timestamp) -> Verdict {
        let mut current = self.within(limit.window, now);
        if current.0.contains_key(id) {
            return Verdict::Holds;
        }
        let allowed = limit.allowed as usize;
        if current.0.len() >= allowed {
            // Room again when enough of the oldest uses leave the window for one more.
            let mut times: Vec<Timestamp> = current.0.values().copied().collect();
            times.sort();
            let frees_at = times[times.len() - allowed] + limit.window;
            let wait_ms = (frees_at - now).num_milliseconds().max(0);
            return Verdict::Full { retry_after_seconds: (wait_ms as u64).div_ceil(1000).max(1) };
        }
        current.0.insert(id.to_owned(), now);
        Verdict::Room(current)
    }

    /// When the log can go: a window after its last use.
    pub fn expires_at(&self, window: chrono::Duration) -> Option<Timestamp> {
        self.0.values().max().map(|last| *last + window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("a time")
    }

    fn limit(allowed: u32) -> Limit {
        Limit { quota: Quota::Invitations { org_id: "org".into() }, allowed, window: chrono::Duration::hours(1) }
    }

    fn log(uses: &[(&str, i64)]) -> Uses {
        Uses(uses.iter().map(|(id, s)| (id.to_string(), at(*s))).collect())
    }

    #[test]
    fn the_last_allowed_use_is_granted_and_the_next_refused() {
        let two = log(&[("a", 0), ("b", 10)]);
        let Verdict::Room(three) = two.verdict("c", &limit(3), at(20)) else { panic!("the third of three") };
        assert_eq!(three.0.len(), 3);
        // Full until the oldest use ("a", at 0) leaves the hour.
        assert_eq!(three.verdict("d", &limit(3), at(20)), Verdict::Full { retry_after_seconds: 3580 });
    }

    #[test]
    fn a_use_leaves_the_window_after_exactly_the_window() {
        let full = log(&[("a", 0), ("b", 10)]);
        assert_eq!(full.verdict("c", &limit(2), at(3599)), Verdict::Full { retry_after_seconds: 1 });
        let Verdict::Room(next) = full.verdict("c", &limit(2), at(3600)) else { panic!("a left at 3600") };
        assert_eq!(next.0.keys().collect::<Vec<_>>(), ["b", "c"], "the use out of the window is dropped");
    }

    #[test]
    fn the_same_id_takes_nothing_more() {
        let full = log(&[("a", 0), ("b", 10)]);
        assert_eq!(full.verdict("b", &limit(2), at(20)), Verdict::Holds);
        // Once out of the window, it is a new use.
        assert!(matches!(full.verdict("a", &limit(2), at(3600)), Verdict::Room(_)));
    }

    #[test]
    fn retry_after_counts_the_uses_that_must_leave() {
        // Limit lowered to 1 with three in the log: room once two have left, at 10 + 3600.
        let over = log(&[("a", 0), ("b", 10), ("c", 20)]);
        assert_eq!(over.verdict("d", &limit(2), at(30)), Verdict::Full { retry_after_seconds: 3580 });
        assert_eq!(over.verdict("d", &limit(1), at(30)), Verdict::Full { retry_after_seconds: 3590 });
    }

    #[test]
    fn the_log_expires_a_window_after_its_last_use() {
        assert_eq!(log(&[("a", 0), ("b", 10)]).expires_at(chrono::Duration::hours(1)), Some(at(3610)));
        assert_eq!(Uses::default().expires_at(chrono::Duration::hours(1)), None);
    }
}

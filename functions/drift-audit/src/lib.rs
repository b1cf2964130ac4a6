//! The drift audit: a scheduled function for what no pending work explains. The reconciler
//! finishes what requests left under way, reading only that work; this one reads the members
//! table and the pool whole, once a day by default, and checks each record against the other
//! side read now:
//!
//! - a ghost (a membership whose Cognito user is gone, no cancel pending): reported, for a
//!   person (cancel removes a ghost);
//! - a user of the pool without a membership, whom no invitation holds a reservation for
//!   (an invitation under way, or a dead one the reconciler reclaims): reported. It is never
//!   deleted here: nothing but two lists says it is abandoned;
//! - a verified member whose user a cancel disabled (`disabledBy`) and whom no cancel still
//!   works on (the cancel died, and the sign-in trigger cleared it): enabled again, read
//!   consistently first. Verified members are never cancelled, so no cancel can be at work on
//!   them; a user disabled by anyone else is reported;
//! - role ⇔ group drift: an administrator without the administrators' group (their
//!   invitation's `AdminAddUserToGroup` failed after the membership committed), or a plain
//!   member in it (added by hand): the group made to follow the membership's role, read
//!   consistently first. The role is what the console shows and the API judges by;
//! - a membership with a cancel or resend pending: placed among pending work (at its oldest
//!   work's start) if it is not there, so that the reconciler finds it: memberships written
//!   before the pending-work index existed carry none, and DynamoDB's own backfill of a new
//!   index cannot add them;
//! - a record of the members table that is not a membership: reported and passed over.
//!
//! A pass is a page at a time, across as many runs as it needs: the members table (100 a
//! page, each member's user read with `AdminGetUser`, [`USER_PAUSE`] apart: 40 a second, a
//! third of the account's 120), then the pool (60 users a page, [`PAGE_PAUSE`] apart: at most
//! 20 `ListUsers` a second, two thirds of the account's 30, which invitations share). Its
//! position is saved after every page (`position`); a run stops a minute before its
//! deadline and the next (hourly) goes on. A new pass begins `AUDIT_DRIFT_EVERY_HOURS` (24)
//! after the last began. It deletes nothing. One JSON summary line and one line of
//! CloudWatch metrics end a run.

pub mod position;

use position::{Position, Stage};
use serde::Serialize;
use shared::Deps;
use shared::backfill::{from_position, to_position};
use shared::domain::{Contact, Member, MemberStatus, Role, UserId};
use shared::ports::prelude::*;
use shared::ports::{ClaimState, Directory, DirectoryUser};
use shared::time::Timestamp;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Between two pages of `ListUsers` (60 users each): at most 20 calls a second, inside the
/// account's 30.
pub const PAGE_PAUSE: Duration = Duration::from_millis(50);

/// Between two `AdminGetUser` calls: at most 40 a second, a third of the account's 120.
pub const USER_PAUSE: Duration = Duration::from_millis(25);

/// Memberships a page of the members table.
pub const MEMBERS_PAGE: i32 = 100;

/// A run stops starting pages this long before its deadline (or a tenth of the time it has,
/// when that is less).
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// This run began a pass.
    pub began: bool,
    /// This run ended the pass.
    pub finished: bool,
    /// Pages this run read (none: the last pass is recent enough).
    pub pages: usize,
    pub members_checked: usize,
    pub users_checked: usize,
    pub ghosts: usize,
    pub users_without_membership: usize,
    pub disabled_members: usize,
    pub members_enabled: usize,
    /// Administrators given the group, plain members taken out of it.
    pub groups_repaired: usize,
    /// Memberships with pending work, (re)placed among pending work.
    pub pending_indexed: usize,
    pub malformed_records: usize,
    pub failures: usize,
}

/// How much one run may do.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Start no page after this.
    pub until: Instant,
    /// Read at most this many pages (tests).
    pub pages: Option<usize>,
}

impl Budget {
    pub fn unlimited() -> Self {
        Self { until: Instant::now() + Duration::from_secs(365 * 24 * 3600), pages: None }
    }
}

/// How long a run may start pages: until [`DEADLINE_MARGIN`] before its deadline (a tenth
/// of the time left, when that is less). A deadline already past is not one Lambda gives
/// (local emulators send 0 or the invocation's own time): then Lambda's longest run.
pub fn run_time(deadline_ms: u64, now: std::time::SystemTime) -> Duration {
    let deadline = std::time::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let left = match deadline.duration_since(now) {
        Ok(left) if !left.is_zero() => left,
        _ => {
            tracing::warn!(deadline_ms, "no deadline ahead: running as long as Lambda's longest run");
            Duration::from_secs(900)
        }
    };
    left.saturating_sub(DEADLINE_MARGIN.min(left / 10))
}

/// How often a pass begins: `AUDIT_DRIFT_EVERY_HOURS` (the template's `AuditDriftEveryHours`).
pub fn every() -> chrono::Duration {
    let hours = std::env::var("AUDIT_DRIFT_EVERY_HOURS").ok().and_then(|h| h.parse().ok()).unwrap_or(24);
    chrono::Duration::hours(hours)
}

pub async fn handle(
    deps: &Deps,
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<Drift, lambda_runtime::Error> {
    let left = run_time(event.context.deadline, std::time::SystemTime::now());
    let budget = Budget { until: Instant::now() + left, pages: None };
    let drift = run(deps, PAGE_PAUSE, USER_PAUSE, budget, every()).await?;
    tracing::info!(drift = %serde_json::to_string(&drift).unwrap_or_default(), "audited");
    println!("{}", metrics_line(&drift, deps.config.clock.now()));
    Ok(drift)
}

/// `ReportedDrift` (ghosts, users without a membership, disabled members), `Repaired`,
/// `RepairFailures` and `MalformedRecords`, in the `MembersApi` namespace.
pub fn metrics_line(drift: &Drift, now: Timestamp) -> String {
    shared::telemetry::metrics_line(
        "drift-audit",
        now,
        &[
            ("ReportedDrift", drift.ghosts + drift.users_without_membership + drift.disabled_members),
            ("Repaired", drift.members_enabled + drift.groups_repaired),
            ("RepairFailures", drift.failures),
            ("MalformedRecords", drift.malformed_records),
        ],
    )
}

/// A whole pass, begun now and run to its end (tests and tools).
pub async fn audit(deps: &Deps, pause: Duration) -> Result<Drift, shared::ApiError> {
    position::save(deps, &Position::begin(deps.config.clock.now())).await?;
    let mut drift = run(deps, pause, Duration::ZERO, Budget::unlimited(), every()).await?;
    drift.began = true;
    Ok(drift)
}

/// One run: goes on with the pass under way, or begins one when the last began `every` ago
/// (or there was none), and reads pages until the pass ends or the budget is spent.
pub async fn run(
    deps: &Deps,
    pause: Duration,
    user_pause: Duration,
    budget: Budget,
    every: chrono::Duration,
) -> Result<Drift, shared::ApiError> {
    let now = deps.config.clock.now();
    let mut drift = Drift::default();
    let mut at = match position::load(deps).await? {
        Some(at) if at.stage != Stage::Done => at,
        Some(at) if at.began().is_some_and(|began| now - began < every) => return Ok(drift),
        _ => {
            drift.began = true;
            Position::begin(now)
        }
    };
    // The administrators' group, once a run: as large as the administrators, not the pool.
    let admins: HashSet<String> =
        deps.directory.group_members_paced(&deps.config.admin_group, pause).await?.into_iter().collect();
    while at.stage != Stage::Done {
        if Instant::now() >= budget.until || budget.pages.is_some_and(|pages| drift.pages >= pages) {
            return Ok(drift);
        }
        at.stage = match at.stage {
            Stage::Members { after } => members_page(deps, &admins, after, user_pause, &mut drift).await?,
            Stage::Users { token } => {
                if token.is_some() && !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                users_page(deps, token, &mut drift).await?
            }
            Stage::Done => Stage::Done,
        };
        drift.pages += 1;
        position::save(deps, &at).await?;
    }
    drift.finished = true;
    Ok(drift)
}

/// One page of memberships, each checked against its user read now.
async fn members_page(
    deps: &Deps,
    admins: &HashSet<String>,
    after: Option<String>,
    pause: Duration,
    drift: &mut Drift,
) -> Result<Stage, shared::ApiError> {
    let start = after
        .as_deref()
        .map(from_position)
        .transpose()
        .map_err(|e| shared::ApiError::from(shared::ports::StoreError { operation: "Scan", source: e.into() }))?;
    let page = deps.store.members_page(start, Some(MEMBERS_PAGE)).await?;
    for key in &page.malformed {
        drift.malformed_records += 1;
        tracing::error!(record = %key, "a membership record that is not one: passed over, for a person");
    }
    for member in &page.members {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        drift.members_checked += 1;
        let user = deps.directory.get_user(member.user_id.as_str()).await?;
        check_member(deps, member, user.as_ref(), admins.contains(member.user_id.as_str()), drift).await;
    }
    Ok(match page.next {
        Some(next) => Stage::Members { after: Some(to_position(&next)) },
        None => Stage::Users { token: None },
    })
}

async fn check_member(deps: &Deps, member: &Member, user: Option<&DirectoryUser>, in_group: bool, drift: &mut Drift) {
    match user {
        None if member.cancel_pending.is_none() => {
            drift.ghosts += 1;
            tracing::warn!(target_user = %member.user_id, org = %member.org_id, "ghost: a membership whose Cognito user is gone; cancel removes it");
        }
        Some(user) if !user.enabled && member.status == MemberStatus::Verified && member.cancel_pending.is_none() => {
            match enable_left_disabled(deps, member).await {
                Ok(true) => drift.members_enabled += 1,
                Ok(false) => {
                    drift.disabled_members += 1;
                    tracing::warn!(target_user = %member.user_id, org = %member.org_id, "a verified member disabled by someone else: left for a person");
                }
                Err(error) => {
                    drift.failures += 1;
                    tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "could not enable a member a dead cancel disabled");
                }
            }
        }
        _ => {}
    }
    if member.cancel_pending.is_some() || member.resend_pending.is_some() {
        // Conditional on the work read being still there: a no-op when it moved on.
        match deps.store.settle_pending_work(member).await {
            Ok(()) => drift.pending_indexed += 1,
            Err(error) => {
                drift.failures += 1;
                tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "could not place pending work in its index");
            }
        }
    }
    if user.is_some() && member.cancel_pending.is_none() && in_group != (member.role == Role::Admin) {
        match match_group_to_role(deps, member).await {
            Ok(true) => drift.groups_repaired += 1,
            Ok(false) => {}
            Err(error) => {
                drift.failures += 1;
                tracing::error!(target_user = %member.user_id, error = %shared::error::error_chain(&error), "could not match a member's group to their role");
            }
        }
    }
}

/// One page of the pool's users, each checked for a membership read now. A token that no
/// longer works (Cognito's tokens do not last) begins the pool again.
async fn users_page(deps: &Deps, token: Option<String>, drift: &mut Drift) -> Result<Stage, shared::ApiError> {
    let resumed = token.is_some();
    let (users, next) = match deps.directory.users_page(token).await {
        Ok(page) => page,
        Err(error) if resumed => {
            tracing::warn!(error = %shared::error::error_chain(&error), "the pool's page token failed: reading the pool again from its start");
            return Ok(Stage::Users { token: None });
        }
        Err(error) => return Err(error.into()),
    };
    for user in &users {
        drift.users_checked += 1;
        match without_membership(deps, user).await {
            Ok(false) => {}
            Ok(true) => {
                drift.users_without_membership += 1;
                tracing::warn!(target_user = %user.username, org = ?user.org_id, status = ?user.status, "a user of the pool without a membership: left for a person");
            }
            Err(error) => {
                drift.failures += 1;
                tracing::error!(target_user = %user.username, error = %shared::error::error_chain(&error), "could not read a user's membership or reservations");
            }
        }
    }
    Ok(match next {
        Some(token) => Stage::Users { token: Some(token) },
        None => Stage::Done,
    })
}

/// Whether a user has no membership that no invitation's reservation explains. The
/// membership is read again after the reservations: an invitation that commits between the
/// two reads (its reservation becoming the member's claim) is then seen.
async fn without_membership(deps: &Deps, user: &DirectoryUser) -> Result<bool, shared::ApiError> {
    if has_membership(deps, user).await? || reserved_for(deps, user).await? {
        return Ok(false);
    }
    Ok(!has_membership(deps, user).await?)
}

async fn has_membership(deps: &Deps, user: &DirectoryUser) -> Result<bool, shared::ApiError> {
    match (user.org_id.as_deref(), UserId::parse(&user.username)) {
        (Some(org), Ok(user_id)) => Ok(deps.store.get_member(org, &user_id).await?.is_some()),
        _ => Ok(false),
    }
}

/// Enables a verified member whom a dead cancel disabled, judged on the membership read
/// again now; whether it did.
async fn enable_left_disabled(deps: &Deps, listed: &Member) -> Result<bool, shared::ApiError> {
    let Some(member) = deps.store.get_member(&listed.org_id, &listed.user_id).await? else { return Ok(false) };
    if member.status != MemberStatus::Verified || member.cancel_pending.is_some() || member.disabled_by.is_none() {
        return Ok(false);
    }
    Ok(shared::disabling::enable_if_a_cancel_disabled(deps, &member).await?)
}

/// Gives an administrator the administrators' group, or takes a plain member out of it, as
/// the membership read again now says; whether it did.
async fn match_group_to_role(deps: &Deps, listed: &Member) -> Result<bool, shared::ApiError> {
    let Some(member) = deps.store.get_member(&listed.org_id, &listed.user_id).await? else { return Ok(false) };
    if member.cancel_pending.is_some() || member.role != listed.role {
        return Ok(false); // Being cancelled, or changed since it was listed: the next run sees.
    }
    let group = &deps.config.admin_group;
    if member.role == Role::Admin {
        deps.directory.add_to_group(member.user_id.as_str(), group).await?;
        tracing::info!(target_user = %member.user_id, org = %member.org_id, "gave an administrator the administrators' group");
    } else {
        deps.directory.remove_from_group(member.user_id.as_str(), group).await?;
        tracing::warn!(target_user = %member.user_id, org = %member.org_id, "took a plain member out of the administrators' group");
    }
    Ok(true)
}

/// Whether an invitation holds a reservation of the user's phone or email for them.
async fn reserved_for(deps: &Deps, user: &DirectoryUser) -> Result<bool, shared::ApiError> {
    for contact in Contact::all_of(user.phone.as_deref(), user.email.as_deref()) {
        if let Some(claim) = deps.store.claim_of(&contact).await? {
            if claim.user_id == user.username && claim.state == ClaimState::Reserved {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn a_run_stops_a_minute_before_its_deadline_or_a_tenth_of_a_short_one() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |secs: u64| (now + Duration::from_secs(secs)).duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        assert_eq!(run_time(at(900), now), Duration::from_secs(840));
        assert_eq!(run_time(at(30), now), Duration::from_secs(27));
        assert_eq!(run_time(0, now), Duration::from_secs(840), "no deadline: Lambda's longest");
        assert_eq!(run_time(at(0), now), Duration::from_secs(840), "a deadline reached: the same");
    }
}

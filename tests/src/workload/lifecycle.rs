//! The workload's member lifecycle: administrators change roles, suspend, reactivate and
//! remove, each other as often as the members they invited; and the invariants that must
//! hold after (never an organisation without an active administrator, its count true, the
//! group following the role, Cognito's enabled flag following a suspension, an entry only
//! for an answer that changed something, and a caller who lost their standing refused).

use super::{ADMINS, Done, Shared, died, event, with_retries};
use crate::TestStack;
use crate::faults::Death;
use serde_json::json;
use shared::Deps;
use shared::domain::{AuditAction, MemberStatus, Role};
use std::collections::{HashMap, HashSet};

/// The lifecycle's share of the operations, and which it is.
pub(super) const KINDS: [&str; 4] = ["change-role", "suspend", "reactivate", "remove"];

/// One lifecycle operation by `admin` on `target` (an administrator of the organisation
/// half the time: administrators acting on each other), retried with its key as the
/// console does.
#[allow(clippy::too_many_arguments)]
pub(super) async fn operation(
    shared: &Shared,
    deps: &Deps,
    dying: Option<&Deps>,
    death: Option<&Death>,
    issuer: &str,
    admin: (&'static str, &'static str, &'static str),
    kind: &'static str,
    target: String,
    to_admin: bool,
    key: &str,
    request_id: &str,
) -> Done {
    let org = admin.1;
    let lock = shared.lock_of(&target);
    let _held = lock.lock().await;
    let member_path = format!("/members/{target}");
    let (method, route, path, body) = match kind {
        "change-role" => {
            let role = if to_admin { "admin" } else { "member" };
            ("PATCH", "/members/{userId}", member_path, Some(json!({ "role": role })))
        }
        "suspend" => ("POST", "/members/{userId}/suspend", format!("{member_path}/suspend"), None),
        "reactivate" => ("POST", "/members/{userId}/reactivate", format!("{member_path}/reactivate"), None),
        _ => ("DELETE", "/members/{userId}", member_path, None),
    };
    let request = || event(issuer, admin, method, route, &path, Some(&target), body.clone(), Some(key), request_id);
    let send = async |deps: &Deps| match kind {
        "change-role" => Box::pin(change_member_role::handle(deps, request())).await,
        "suspend" => Box::pin(suspend_member::handle(deps, request())).await,
        "reactivate" => Box::pin(reactivate_member::handle(deps, request())).await,
        _ => Box::pin(remove_member::handle(deps, request())).await,
    };
    if let Some(dying) = dying {
        died(shared, death, send(dying)).await;
    }
    let done = with_retries(kind, org, Some(target.clone()), || send(deps)).await;
    if kind == "remove" && done.status == 204 {
        shared.known.lock().unwrap().get_mut(org).unwrap().retain(|user| *user != target);
        shared.removed.lock().unwrap().insert(target.clone());
    }
    Done { request_id: request_id.to_owned(), ..done }
}

/// A target for a lifecycle operation in `org`: one of its administrators half the time.
pub(super) fn target(known: &[String], org: &str, pick: usize) -> Option<String> {
    let admins: Vec<&str> = ADMINS.iter().filter(|(_, o, _)| *o == org).map(|(id, _, _)| *id).collect();
    match pick % 2 {
        0 => Some(admins[pick / 2 % admins.len()].to_owned()),
        _ if known.is_empty() => None,
        _ => Some(known[pick / 2 % known.len()].clone()),
    }
}

/// The statuses a lifecycle route may answer in this workload (all in the contract). Any
/// route may also answer 401 or 403 once its caller was suspended, removed or demoted.
pub(super) fn documented(kind: &str, status: u16) -> Option<bool> {
    let allowed: &[u16] = match kind {
        "change-role" => &[200, 404, 409],
        "suspend" | "reactivate" => &[200, 404, 409],
        "remove" => &[204, 404, 409],
        _ => return None,
    };
    Some(allowed.contains(&status))
}

/// The lifecycle's invariants, read back through the SDK.
pub(super) async fn check(
    stack: &TestStack,
    done: &[Done],
    audit: &[shared::domain::AuditEntry],
) -> Vec<(&'static str, Vec<String>)> {
    let store = &stack.deps.store;
    let members = store.all_members().await.expect("scan members");
    let users = stack.deps.directory.all_users().await.expect("ListUsers");
    let group = &stack.deps.config.admin_group;
    let in_group: HashSet<String> = stack
        .deps
        .directory
        .group_members_paced(group, std::time::Duration::ZERO)
        .await
        .expect("the group")
        .into_iter()
        .collect();

    let mut admin_faults = Vec::new();
    // The organisations that have had an active administrator (one verified, or suspended).
    let orgs: HashSet<&str> = members
        .iter()
        .filter(|m| m.role == Role::Admin && m.status != MemberStatus::Unverified)
        .map(|m| m.org_id.as_str())
        .collect();
    for org in orgs {
        let active = members.iter().filter(|m| m.org_id == org && m.is_active_admin()).count() as u64;
        let counted = shared::ports::MemberChanges::active_admins(store, org).await.expect("read the count");
        if active == 0 {
            admin_faults.push(format!("{org} has no active administrator"));
        }
        if counted != active {
            admin_faults.push(format!("{org} counts {counted} active administrators, has {active}"));
        }
    }

    let mut follow_faults = Vec::new();
    let enabled: HashMap<&str, bool> = users.iter().map(|u| (u.username.as_str(), u.enabled)).collect();
    for member in &members {
        let id = member.user_id.as_str();
        // The emulator answers `AdminCreateUser(RESEND)` by making the user anew, without
        // its groups (Cognito keeps them): an administrator invitee resent to is left out
        // of this one check, which the drift audit's repair covers on AWS.
        let resent = done.iter().any(|d| d.kind == "resend" && d.status == 202 && d.target.as_deref() == Some(id));
        if (member.role == Role::Admin) != in_group.contains(id) && !(resent && member.role == Role::Admin) {
            let history: Vec<String> = done
                .iter()
                .filter(|d| d.target.as_deref() == Some(id))
                .map(|d| format!("{} {} ({} attempts)", d.kind, d.status, d.attempts))
                .collect();
            follow_faults.push(format!(
                "{id}: role {} but in the group: {}; {} {}; answered: {}",
                member.role.as_str(),
                in_group.contains(id),
                member.status.as_str(),
                if member.change_pending.is_some() { "pending" } else { "settled" },
                history.join(", ")
            ));
        }
        let suspended = member.status == MemberStatus::Suspended;
        if member.status != MemberStatus::Unverified && enabled.get(id).is_some_and(|on| *on == suspended) {
            follow_faults.push(format!("{id}: {} but enabled: {}", member.status.as_str(), !suspended));
        }
        if member.change_pending.is_some() || member.remove_pending.is_some() {
            follow_faults.push(format!("{id}: a change still pending after every request answered"));
        }
    }

    // An entry of a lifecycle action only for a request that answered 2xx, and at most one.
    let mut entry_faults = Vec::new();
    let lifecycle = [AuditAction::ChangedRole, AuditAction::Suspended, AuditAction::Reactivated, AuditAction::Removed];
    let answered: HashMap<&str, &Done> =
        done.iter().filter(|d| KINDS.contains(&d.kind)).map(|d| (d.request_id.as_str(), d)).collect();
    for entry in audit.iter().filter(|e| lifecycle.contains(&e.action)) {
        match answered.get(entry.request_id.as_str()) {
            Some(d) if d.status < 300 => {}
            // An administrator who demoted themselves: the retry of a change that committed
            // (its answer lost) is refused, its caller no longer an administrator.
            Some(d) if d.status == 403 && d.kind == "change-role" && entry.actor_id == entry.target_id => {}
            other => entry_faults.push(format!(
                "'{}' on {} by request {} answered {:?}",
                entry.action.as_str(),
                entry.target_id,
                entry.request_id,
                other.map(|d| d.status)
            )),
        }
    }
    for d in done.iter().filter(|d| KINDS.contains(&d.kind)) {
        let entries = audit.iter().filter(|e| lifecycle.contains(&e.action) && e.request_id == d.request_id).count();
        if entries > 1 || (d.kind == "remove" && d.status == 204 && entries == 0 && !removed_by_another(audit, d)) {
            entry_faults.push(format!("{} of {:?} answered {} with {entries} entries", d.kind, d.target, d.status));
        }
    }

    // A caller who lost their standing is refused, whatever their token still says.
    let mut standing_faults = Vec::new();
    let issuer = stack.deps.config.issuer.clone();
    for admin in ADMINS {
        let member = members.iter().find(|m| m.user_id.as_str() == admin.0 && m.org_id == admin.1);
        let expected = match member {
            None => 401,
            Some(m) if m.status == MemberStatus::Suspended => 401,
            Some(m) if m.role != Role::Admin => 403,
            Some(_) => 200,
        };
        let request = event(&issuer, admin, "GET", "/audit-log", "/audit-log", None, None, None, "w-standing");
        let status = list_audit_log::handle(&stack.deps, request).await.expect("an answer").status().as_u16();
        if status != expected {
            standing_faults.push(format!("{}: the Log answered {status}, expected {expected}", admin.0));
        }
    }

    vec![
        ("every organisation keeps an active administrator, and its count is true", admin_faults),
        ("the group follows the role, and Cognito's enabled flag the suspension", follow_faults),
        ("a lifecycle entry only for a 2xx answer, and at most one a request", entry_faults),
        ("a caller suspended, removed or demoted is refused", standing_faults),
    ]
}

/// A removal answered 204 without an entry of its own: another request had decided it, and
/// the entry is that request's.
fn removed_by_another(audit: &[shared::domain::AuditEntry], d: &Done) -> bool {
    audit.iter().any(|e| e.action == AuditAction::Removed && Some(&e.target_id) == d.target.as_ref())
}

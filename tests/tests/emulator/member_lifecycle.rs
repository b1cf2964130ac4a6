//! The member lifecycle against the emulator, through the real SDK clients: each fixture
//! does what its name says against the seed; Cognito follows each change (group, disabled,
//! deleted); the membership, not the token, decides who may act; two administrators acting
//! on each other at the same moment leave at least one; a change whose Cognito calls fail,
//! or race another's, ends with Cognito following the membership.

use lambda_http::{Body, Request, Response};
use members_tests::faults::{Answer, Before, Calls, Fault, When};
use members_tests::seed::{ACME, ACME_ADMIN, ACME_INVITEE, ACME_INVITEE_3, ACME_VERIFIED};
use members_tests::{TestStack, fixture, fixture_with, json_body, retarget};
use serde_json::Value;
use shared::Deps;
use shared::domain::{AuditAction, MemberStatus, Role};
use shared::ports::prelude::*;

/// Calls the function a fixture's route belongs to, and records the answer for the
/// OpenAPI check.
async fn call(deps: &Deps, request: Request) -> Response<Body> {
    let method = request.method().as_str().to_owned();
    let (route, response) = match (method.as_str(), request.uri().path().ends_with("/suspend")) {
        ("PATCH", _) => ("/members/{userId}", Box::pin(change_member_role::handle(deps, request)).await),
        ("DELETE", _) => ("/members/{userId}", Box::pin(remove_member::handle(deps, request)).await),
        ("POST", true) => ("/members/{userId}/suspend", Box::pin(suspend_member::handle(deps, request)).await),
        _ => ("/members/{userId}/reactivate", Box::pin(reactivate_member::handle(deps, request)).await),
    };
    let response = response.expect("the handler answers every request");
    members_tests::record(&method, route, &response);
    response
}

/// `case` of `function`'s fixtures, by `caller` (an Acme administrator's token unless
/// `admin_claim` is false), on `target`, without the fixture's `Idempotency-Key`.
fn request(function: &str, case: &str, caller: &str, admin_claim: bool, target: &str) -> Request {
    fixture_with(&format!("{function}/{case}.json"), |event| {
        event["headers"].as_object_mut().unwrap().remove("idempotency-key");
        let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
        claims["cognito:username"] = caller.into();
        claims["sub"] = caller.into();
        claims["name"] = caller.into();
        claims["cognito:groups"] = if admin_claim { "[org-admin]" } else { "[]" }.into();
        retarget(event, target);
    })
}

fn suspend(caller: &str, target: &str) -> Request {
    request("suspend-member", "admin-suspends-verified", caller, true, target)
}

fn reactivate(caller: &str, target: &str) -> Request {
    request("reactivate-member", "admin-reactivates-after-suspend", caller, true, target)
}

fn demote(caller: &str, target: &str) -> Request {
    request("change-member-role", "admin-demotes-last-admin", caller, true, target)
}

fn promote(caller: &str, target: &str) -> Request {
    request("change-member-role", "admin-promotes-member", caller, true, target)
}

fn remove(caller: &str, target: &str) -> Request {
    request("remove-member", "admin-removes-verified", caller, true, target)
}

fn code(response: &Response<Body>) -> (u16, Value) {
    (response.status().as_u16(), json_body(response)["code"].clone())
}

/// The count of active administrators is what the memberships say, and at least one.
async fn assert_counted(stack: &TestStack) {
    let members = stack.deps.store.all_members().await.unwrap();
    let active = members.iter().filter(|m| m.org_id == ACME && m.is_active_admin()).count() as u64;
    assert!(active >= 1, "Acme kept an active administrator");
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), active, "the count follows the memberships");
}

#[tokio::test]
async fn every_fixture_does_what_its_name_says_against_the_seed() {
    let stack = TestStack::seeded().await;
    let cases: [(&str, &str, u16, &str); 27] = [
        ("change-member-role", "bad-role", 400, "bad-request"),
        ("change-member-role", "unknown-field", 400, "bad-request"),
        ("change-member-role", "no-authorizer", 401, "unauthenticated"),
        ("change-member-role", "caller-not-admin", 403, "forbidden"),
        ("change-member-role", "admin-of-other-org", 404, "not-found"),
        ("change-member-role", "unknown-user", 404, "not-found"),
        ("change-member-role", "admin-demotes-last-admin", 409, "last-admin"),
        ("change-member-role", "admin-sets-same-role", 200, ""),
        ("suspend-member", "no-authorizer", 401, "unauthenticated"),
        ("suspend-member", "caller-not-admin", 403, "forbidden"),
        ("suspend-member", "admin-of-other-org", 404, "not-found"),
        ("suspend-member", "unknown-user", 404, "not-found"),
        ("suspend-member", "unverified-target", 409, "not-verified"),
        ("suspend-member", "admin-suspends-self", 409, "own-membership"),
        ("reactivate-member", "not-suspended-target", 409, "not-suspended"),
        ("reactivate-member", "no-authorizer", 401, "unauthenticated"),
        ("reactivate-member", "caller-not-admin", 403, "forbidden"),
        ("suspend-member", "admin-suspends-verified", 200, ""),
        ("reactivate-member", "admin-of-other-org", 404, "not-found"),
        ("reactivate-member", "admin-reactivates-after-suspend", 200, ""),
        ("change-member-role", "admin-promotes-member", 200, ""),
        ("remove-member", "no-authorizer", 401, "unauthenticated"),
        ("remove-member", "caller-not-admin", 403, "forbidden"),
        ("remove-member", "admin-of-other-org", 404, "not-found"),
        ("remove-member", "unverified-target", 409, "not-verified"),
        ("remove-member", "admin-removes-self", 409, "own-membership"),
        ("remove-member", "admin-removes-verified", 204, ""),
    ];
    for (function, case, status, problem) in cases {
        let before = stack.audit_entries(ACME).await.len();
        let response = call(&stack.deps, fixture(&format!("{function}/{case}.json"))).await;
        assert_eq!(response.status().as_u16(), status, "{function} {case}: {}", json_body(&response));
        let written = stack.audit_entries(ACME).await.len() - before;
        if problem.is_empty() {
            assert_eq!(written, usize::from(case != "admin-sets-same-role"), "{function} {case}: its one entry");
        } else {
            assert_eq!(json_body(&response)["code"], problem, "{function} {case}");
            assert_eq!(written, 0, "{function} {case}: a refusal writes nothing");
        }
    }
    assert!(stack.member(ACME, ACME_VERIFIED.user_id).await.is_none(), "Bob removed");
    assert_counted(&stack).await;
}

#[tokio::test]
async fn cognito_follows_every_change_and_a_removed_members_phone_can_be_invited_again() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);

    let suspended = call(&stack.deps, suspend(ada, bob)).await;
    assert_eq!(suspended.status(), 200);
    assert_eq!(json_body(&suspended)["status"], "suspended");
    assert_eq!(json_body(&suspended)["actions"], serde_json::json!(["reactivate", "remove"]));
    assert!(!stack.cognito_user(bob).await.unwrap().enabled, "suspended: disabled in Cognito");
    assert_eq!(call(&stack.deps, suspend(ada, bob)).await.status(), 200, "suspending again changes nothing");

    assert_eq!(call(&stack.deps, reactivate(ada, bob)).await.status(), 200);
    assert!(stack.cognito_user(bob).await.unwrap().enabled, "reactivated: enabled");

    let promoted = json_body(&call(&stack.deps, promote(ada, bob)).await);
    assert_eq!((promoted["role"].as_str(), promoted["status"].as_str()), (Some("admin"), Some("verified")));
    assert_eq!(stack.groups_of(bob).await, ["org-admin"], "role admin: in the group");
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 2);
    // An administrator suspended is no longer counted, and reactivated is again, with the
    // group they had.
    assert_eq!(call(&stack.deps, suspend(ada, bob)).await.status(), 200);
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 1);
    assert_eq!(call(&stack.deps, reactivate(ada, bob)).await.status(), 200);
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 2);
    assert_eq!(stack.groups_of(bob).await, ["org-admin"]);
    let log = stack.audit_entries_of(ACME, AuditAction::ChangedRole).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].role_change.map(|c| (c.from, c.to)), Some((Role::Member, Role::Admin)));

    assert_eq!(call(&stack.deps, remove(ada, bob)).await.status(), 204);
    assert!(stack.cognito_user(bob).await.is_none(), "removed: no Cognito user");
    assert!(stack.member(ACME, bob).await.is_none(), "removed: no membership");
    let claims = stack.deps.store.contact_claims().await.unwrap();
    assert!(claims.iter().all(|claim| claim.user_id != bob), "removed: no claims");
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Removed).await.len(), 1);
    assert_eq!(call(&stack.deps, remove(ada, bob)).await.status(), 404, "a second removal finds nobody");
    let replayed = call(&stack.deps, fixture("remove-member/admin-removes-verified.json")).await;
    assert_eq!(replayed.status(), 404, "the fixture's key was never used: a removal, not a replay");
    assert_counted(&stack).await;

    let again = fixture_with("invite-user/admin-invites-member.json", |e| {
        e["body"] = serde_json::json!({"name": "Bob Again", "phone": ACME_VERIFIED.phone}).to_string().into();
    });
    assert_eq!(invite_user::handle(&stack.deps, again).await.unwrap().status(), 201, "Bob's phone is free");
}

#[tokio::test]
async fn a_token_that_outlives_a_demotion_a_suspension_or_a_removal_is_refused() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    // Bob's token carries the group from here on, whatever happens to his membership.
    let bobs_log = || {
        fixture_with("list-audit-log/admin-reads-log.json", |e| {
            let claims = &mut e["requestContext"]["authorizer"]["jwt"]["claims"];
            claims["cognito:username"] = bob.into();
            claims["sub"] = ACME_VERIFIED.sub.into();
        })
    };
    let read_log = async |stack: &TestStack| list_audit_log::handle(&stack.deps, bobs_log()).await.unwrap();
    assert_eq!(read_log(&stack).await.status(), 403, "a group claim without the role is no administrator");

    assert_eq!(call(&stack.deps, promote(ada, bob)).await.status(), 200);
    assert_eq!(read_log(&stack).await.status(), 200);
    assert_eq!(call(&stack.deps, demote(ada, bob)).await.status(), 200);
    assert_eq!(code(&read_log(&stack).await), (403, "forbidden".into()), "demoted: the same token refused");
    let bobs_suspension = request("suspend-member", "admin-suspends-verified", bob, true, ada);
    assert_eq!(call(&stack.deps, bobs_suspension).await.status(), 403, "nor may he act on Ada");

    assert_eq!(call(&stack.deps, suspend(ada, bob)).await.status(), 200);
    let listed = list_members::handle(&stack.deps, bobs_log_as_listing(bob)).await.unwrap();
    assert_eq!(code(&listed), (401, "unauthenticated".into()), "suspended: refused everywhere");
    assert_eq!(call(&stack.deps, reactivate(ada, bob)).await.status(), 200);
    assert_eq!(list_members::handle(&stack.deps, bobs_log_as_listing(bob)).await.unwrap().status(), 200);

    assert_eq!(call(&stack.deps, remove(ada, bob)).await.status(), 204);
    let listed = list_members::handle(&stack.deps, bobs_log_as_listing(bob)).await.unwrap();
    assert_eq!(code(&listed), (401, "unauthenticated".into()), "removed: refused everywhere");
}

fn bobs_log_as_listing(bob: &str) -> Request {
    fixture_with("list-members/member-lists.json", |e| {
        e["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:username"] = bob.into();
    })
}

/// Two administrators, each demoting, suspending or removing the other at the same moment,
/// many times: at most one of each pair succeeds, and the organisation keeps one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_administrators_acting_on_each_other_at_once_leave_at_least_one() {
    let stack = TestStack::seeded().await;
    let (first, second) = (stack.instance().deps(), stack.instance().deps());
    // The organisation's one active administrator between rounds.
    let mut main = ACME_ADMIN.user_id.to_owned();
    for round in 0..24 {
        // A second active administrator: the two are all the organisation has.
        let rival = format!("acme-rival-{round}");
        stack.admit(ACME, &rival, Role::Admin).await;
        let (on_rival, on_main): (Request, Request) = match round % 3 {
            0 => (demote(&main, &rival), demote(&rival, &main)),
            1 => (suspend(&main, &rival), suspend(&rival, &main)),
            _ => (remove(&main, &rival), remove(&rival, &main)),
        };
        let (a, b) = (first.clone(), second.clone());
        let one = tokio::spawn(async move { call(&a, on_rival).await });
        let two = tokio::spawn(async move { call(&b, on_main).await });
        let answers = [code(&one.await.unwrap()), code(&two.await.unwrap())];
        let won = answers.iter().filter(|(status, _)| *status < 300).count();
        assert!(won <= 1, "round {round}: both succeeded: {answers:?}");
        for (status, problem) in &answers {
            // The loser finds the count at one, or (acted on first) is no longer admitted.
            let refused = [(409, "last-admin"), (403, "forbidden"), (401, "unauthenticated")];
            assert!(
                *status < 300 || refused.iter().any(|(s, c)| s == status && problem == c),
                "round {round}: {answers:?}"
            );
        }
        assert_counted(&stack).await;
        // Whoever is still active goes on; the other, if still active, is set aside.
        let main_active = stack.member(ACME, &main).await.is_some_and(|m| m.is_active_admin());
        let rival_active = stack.member(ACME, &rival).await.is_some_and(|m| m.is_active_admin());
        if !main_active {
            main = rival.clone();
        } else if rival_active {
            assert_eq!(call(&stack.deps, suspend(&main, &rival)).await.status(), 200, "round {round}: set aside");
        }
        assert_counted(&stack).await;
        assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 1, "round {round}");
    }
}

/// A suspension whose Cognito calls fail answers 503 with the suspension in force; its
/// retry (same Idempotency-Key) finishes the calls, and one entry is written.
#[tokio::test]
async fn a_suspension_cognito_did_not_follow_is_finished_by_its_retry() {
    let stack = TestStack::seeded().await;
    let failing = stack.instance().cognito(Fault::new("AdminUserGlobalSignOut", When::BeforeSending, 10)).deps();
    let first = call(&failing, fixture("suspend-member/admin-suspends-verified.json")).await;
    assert_eq!(code(&first), (503, "unavailable".into()));
    let bob = stack.member(ACME, ACME_VERIFIED.user_id).await.unwrap();
    assert_eq!(bob.status, MemberStatus::Suspended, "the authority changed first");
    assert!(bob.change_pending.is_some());
    let retry = call(&stack.deps, fixture("suspend-member/admin-suspends-verified.json")).await;
    assert_eq!(retry.status(), 200);
    assert!(stack.member(ACME, ACME_VERIFIED.user_id).await.unwrap().change_pending.is_none());
    assert!(!stack.cognito_user(ACME_VERIFIED.user_id).await.unwrap().enabled);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Suspended).await.len(), 1);
}

/// A reactivation that commits and enables Bob while a suspension's disable is on its way:
/// the suspension, reading the membership again after its call, enables him again, so
/// Cognito ends as the membership says (verified), whichever call landed last.
#[tokio::test]
async fn a_suspension_overtaken_by_a_reactivation_ends_as_the_membership_says() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    let reactivator = stack.deps.clone();
    let once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let racing = stack
        .instance()
        .cognito(Before::new("AdminDisableUser", move || {
            if once.swap(true, std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            // Built here: the fixture's issuer is this test thread's.
            let (deps, request) = (reactivator.clone(), reactivate(ACME_ADMIN.user_id, ACME_VERIFIED.user_id));
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let response = runtime.block_on(call(&deps, request));
                assert_eq!(response.status(), 200);
            })
            .join()
            .unwrap();
        }))
        .deps();
    assert_eq!(call(&racing, suspend(ada, bob)).await.status(), 200);
    assert_eq!(stack.member(ACME, bob).await.unwrap().status, MemberStatus::Verified);
    assert!(stack.cognito_user(bob).await.unwrap().enabled, "Cognito follows the last commit");
}

/// The reverse: a suspension commits and disables Bob while a reactivation's enable is on
/// its way; the reactivation follows the suspension it finds, and Bob stays disabled.
#[tokio::test]
async fn a_reactivation_overtaken_by_a_suspension_ends_as_the_membership_says() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    assert_eq!(call(&stack.deps, suspend(ada, bob)).await.status(), 200);
    let suspender = stack.deps.clone();
    let once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let racing = stack
        .instance()
        .cognito(Before::new("AdminEnableUser", move || {
            if once.swap(true, std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let (deps, request) = (suspender.clone(), suspend(ACME_ADMIN.user_id, ACME_VERIFIED.user_id));
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let response = runtime.block_on(call(&deps, request));
                assert_eq!(response.status(), 200);
            })
            .join()
            .unwrap();
        }))
        .deps();
    assert_eq!(call(&racing, reactivate(ada, bob)).await.status(), 200);
    assert_eq!(stack.member(ACME, bob).await.unwrap().status, MemberStatus::Suspended);
    assert!(!stack.cognito_user(bob).await.unwrap().enabled, "Cognito follows the last commit");
}

/// The trigger writes the acceptance the first time it marks a member verified, once,
/// also when Cognito calls it twice at once; an administrator invitee is then counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trigger_writes_one_acceptance_and_counts_an_administrator_once() {
    let stack = TestStack::seeded().await;
    for invitee in [ACME_INVITEE, ACME_INVITEE_3] {
        let event = members_tests::seed::trigger_event(
            "PostConfirmation_ConfirmSignUp",
            stack.deps.directory.user_pool_id(),
            &invitee,
        );
        let (one, two) = (stack.deps.clone(), stack.deps.clone());
        let (e1, e2) = (event.clone(), event.clone());
        let a = tokio::spawn(async move { member_verified::mark_verified(&one.store, &e1, "first").await });
        let b = tokio::spawn(async move { member_verified::mark_verified(&two.store, &e2, "second").await });
        let _ = (a.await.unwrap(), b.await.unwrap());
        member_verified::mark_verified(&stack.deps.store, &event, "third").await;
        let accepted: Vec<_> = stack
            .audit_entries_of(ACME, AuditAction::AcceptedInvite)
            .await
            .into_iter()
            .filter(|entry| entry.target_id == invitee.user_id)
            .collect();
        assert_eq!(accepted.len(), 1, "{}: one acceptance", invitee.user_id);
        assert_eq!(accepted[0].actor_id, invitee.user_id, "the member accepted");
    }
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 2, "Ada, and Erin once verified");
    assert_counted(&stack).await;
}

/// A reactivation that committed, and whose Cognito call and pending entry were done, loses
/// its answer (the count's read fails): its retry with the same key finds its own change
/// (`lastChangeId`) and answers 200, not `409 not-suspended`; one entry.
#[tokio::test]
async fn a_committed_change_whose_answer_was_lost_is_answered_by_its_retry() {
    let stack = TestStack::seeded().await;
    assert_eq!(call(&stack.deps, suspend(ACME_ADMIN.user_id, ACME_VERIFIED.user_id)).await.status(), 200);
    // Reads: the caller's membership, the target, the target again after Cognito; then the count.
    let loses = stack.instance().dynamo(Fault::after("GetItem", When::BeforeSending, 3, 10)).deps();
    let first = call(&loses, fixture("reactivate-member/admin-reactivates-after-suspend.json")).await;
    assert_eq!(code(&first), (503, "unavailable".into()));
    let bob = stack.member(ACME, ACME_VERIFIED.user_id).await.unwrap();
    assert_eq!((bob.status, bob.change_pending), (MemberStatus::Verified, None), "done but for its answer");
    let retry = call(&stack.deps, fixture("reactivate-member/admin-reactivates-after-suspend.json")).await;
    assert_eq!(retry.status(), 200, "{}", json_body(&retry));
    assert_eq!(json_body(&retry)["status"], "verified");
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Reactivated).await.len(), 1);
}

/// A lifecycle transaction whose answer is lost after DynamoDB applied it: the SDK's retry
/// finds the membership changed (the emulator ignores the transaction's token), and the
/// request learns from the log that its own entry is there, so it answers as committed,
/// with one entry (a reactivation, then a removal).
#[tokio::test]
async fn a_transaction_whose_answer_was_lost_is_known_committed_by_its_entry() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    assert_eq!(call(&stack.deps, promote(ada, bob)).await.status(), 200);
    assert_eq!(call(&stack.deps, suspend(ada, bob)).await.status(), 200);
    let lossy = stack.instance().dynamo(Fault::new("TransactWriteItems", When::AfterServerAnswered, 1)).deps();
    assert_eq!(call(&lossy, reactivate(ada, bob)).await.status(), 200);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Reactivated).await.len(), 1);
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 2, "Bob counted again, once");
    let lossy = stack.instance().dynamo(Fault::new("TransactWriteItems", When::AfterServerAnswered, 2)).deps();
    assert_eq!(call(&lossy, remove(ada, bob)).await.status(), 204);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Removed).await.len(), 1);
    assert!(stack.member(ACME, bob).await.is_none());
    assert_counted(&stack).await;
}

/// A role change repeated with its `Idempotency-Key` replays its first answer and changes
/// nothing again.
#[tokio::test]
async fn a_role_change_repeated_with_its_key_is_replayed() {
    let stack = TestStack::seeded().await;
    let keyed = || {
        fixture_with("change-member-role/admin-promotes-member.json", |e| {
            e["headers"]["idempotency-key"] = "promote-bob-1".into();
        })
    };
    let first = call(&stack.deps, keyed()).await;
    let again = call(&stack.deps, keyed()).await;
    assert_eq!((first.status().as_u16(), again.status().as_u16()), (200, 200));
    assert_eq!(json_body(&first), json_body(&again));
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::ChangedRole).await.len(), 1);
}

/// A suspended member's role changes (any status may): the group follows the role, and the
/// change's follower keeps the member disabled and signed out as the membership says, never
/// enabling them; counted as an administrator only once reactivated.
#[tokio::test]
async fn a_suspended_members_role_change_keeps_them_disabled_and_uncounted() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    assert_eq!(call(&stack.deps, suspend(ada, bob)).await.status(), 200);

    let promoted = call(&stack.deps, promote(ada, bob)).await;

    assert_eq!(promoted.status(), 200);
    let body = json_body(&promoted);
    assert_eq!((body["role"].as_str(), body["status"].as_str()), (Some("admin"), Some("suspended")));
    assert_eq!(stack.groups_of(bob).await, ["org-admin"], "the group follows the role");
    assert!(!stack.cognito_user(bob).await.unwrap().enabled, "still disabled: suspended");
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 1, "a suspended administrator is not counted");
    assert_eq!(call(&stack.deps, reactivate(ada, bob)).await.status(), 200);
    assert_eq!(stack.deps.store.active_admins(ACME).await.unwrap(), 2);
    assert!(stack.cognito_user(bob).await.unwrap().enabled);
}

/// Each lifecycle route with an `Idempotency-Key`, sent twice: the second answers what the
/// first did (read back from the key's record), and the change is made once.
#[tokio::test]
async fn each_lifecycle_route_replays_its_answer_for_the_same_key() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    let keyed = |request: Request, key: &str| {
        let mut request = request;
        request.headers_mut().insert("idempotency-key", key.parse().unwrap());
        request
    };
    for (made, key) in [
        (suspend as fn(&str, &str) -> Request, "0b1c2d3e-0000-4000-8000-000000000001"),
        (reactivate, "0b1c2d3e-0000-4000-8000-000000000002"),
        (promote, "0b1c2d3e-0000-4000-8000-000000000003"),
        (remove, "0b1c2d3e-0000-4000-8000-000000000004"),
    ] {
        let first = call(&stack.deps, keyed(made(ada, bob), key)).await;
        let again = call(&stack.deps, keyed(made(ada, bob), key)).await;
        assert!(first.status().is_success(), "{key}: {}", first.status());
        assert_eq!(again.status(), first.status(), "{key}: the same answer");
        assert_eq!(again.body().as_ref(), first.body().as_ref(), "{key}: the same body");
    }
    for action in [AuditAction::Suspended, AuditAction::Reactivated, AuditAction::ChangedRole, AuditAction::Removed] {
        let entries = stack.audit_entries_of(ACME, action).await;
        assert_eq!(entries.iter().filter(|e| e.target_id == bob).count(), 1, "{action:?} once");
    }
}

/// Cognito refuses `AdminUserGlobalSignOut` for a disabled user ("User is disabled."), so a
/// suspension signs the member out first, then disables them. moto signs out a disabled user
/// without complaint: the order is asserted on what the code sends.
#[tokio::test]
async fn a_suspension_signs_out_before_it_disables() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    let calls = Calls::new();
    let signed_out_first = std::sync::Arc::new(AtomicBool::new(false));
    let (seen, flag) = (calls.clone(), signed_out_first.clone());
    let deps = stack
        .instance()
        .cognito(calls.clone())
        .cognito(Before::new("AdminDisableUser", move || flag.store(seen.count("AdminUserGlobalSignOut") == 1, SeqCst)))
        .deps();
    assert_eq!(call(&deps, suspend(ada, bob)).await.status(), 200);
    assert_eq!(calls.count("AdminDisableUser"), 1);
    assert!(signed_out_first.load(SeqCst), "AdminUserGlobalSignOut was sent before AdminDisableUser");
    assert!(!stack.cognito_user(bob).await.unwrap().enabled);
}

/// Cognito's other answer to the sign-out: a member disabled already (by hand, or by a
/// suspension's earlier attempt) is refused it, and the suspension still finishes.
#[tokio::test]
async fn a_suspension_finishes_when_cognito_refuses_to_sign_out_a_disabled_user() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    let refusing = stack
        .instance()
        .cognito(Answer::error("AdminUserGlobalSignOut", 400, "NotAuthorizedException", "User is disabled."))
        .deps();
    assert_eq!(call(&refusing, suspend(ada, bob)).await.status(), 200);
    let member = stack.member(ACME, bob).await.unwrap();
    assert_eq!(member.status, MemberStatus::Suspended);
    assert!(member.change_pending.is_none(), "the suspension finished");
    assert!(!stack.cognito_user(bob).await.unwrap().enabled);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Suspended).await.len(), 1);
}

/// A suspended member's user is disabled, and Cognito refuses to sign it out: their removal
/// still deletes the user (which ends every token) and the membership, with one entry. Any
/// other refusal of the sign-out is a failure: 503, and the user kept.
#[tokio::test]
async fn a_suspended_members_removal_finishes_though_cognito_refuses_to_sign_them_out() {
    let stack = TestStack::seeded().await;
    let (ada, bob) = (ACME_ADMIN.user_id, ACME_VERIFIED.user_id);
    assert_eq!(call(&stack.deps, suspend(ada, bob)).await.status(), 200);

    let revoked = stack
        .instance()
        .cognito(Answer::error(
            "AdminUserGlobalSignOut",
            400,
            "NotAuthorizedException",
            "Access Token has been revoked",
        ))
        .deps();
    assert_eq!(code(&call(&revoked, remove(ada, bob)).await), (503, "unavailable".into()));
    assert!(stack.cognito_user_exists(bob).await, "another refusal of the sign-out keeps the user");

    let disabled = stack
        .instance()
        .cognito(Answer::error("AdminUserGlobalSignOut", 400, "NotAuthorizedException", "User is disabled."))
        .deps();
    assert_eq!(call(&disabled, remove(ada, bob)).await.status(), 204);
    assert!(!stack.cognito_user_exists(bob).await, "the user is deleted");
    assert!(stack.member(ACME, bob).await.is_none(), "the membership is removed");
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::Removed).await.len(), 1);
    assert_counted(&stack).await;
}

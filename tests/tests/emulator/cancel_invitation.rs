//! `DELETE /invitations/{userId}` against the emulator, through the real SDK clients.

use cancel_invitation::handle;
use lambda_http::{Body, Request, Response};
use members_tests::faults::{Before, Fault, When};
use members_tests::seed::{
    ACME, ACME_ADMIN, ACME_INVITEE, ACME_INVITEE_2, ACME_INVITEE_3, ACME_VERIFIED, DEMO_PASSWORD, GLOBEX, GLOBEX_ADMIN,
    GLOBEX_INVITEE,
};
use members_tests::{TestStack, fixture, fixture_with, json_body, retarget};
use shared::Deps;
use shared::domain::{AuditAction, MemberStatus};

const ADMIN_SUB: &str = "a0d1a000-0000-4000-8000-00000000ac01";

async fn call(deps: &Deps, request: Request) -> Response<Body> {
    let response = handle(deps, request).await.expect("the handler answers every request");
    members_tests::record("DELETE", "/invitations/{userId}", &response);
    response
}

fn assert_problem(response: &Response<Body>, status: u16, code: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body = json_body(response);
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
}

/// Nothing a refused request could have touched was touched.
async fn assert_untouched(stack: &TestStack, org_id: &str, user_id: &str) {
    let user = stack.cognito_user(user_id).await.expect("the Cognito user still exists");
    assert!(user.enabled, "{user_id} must still be enabled");
    let member = stack.member(org_id, user_id).await.expect("the membership still exists");
    assert!(member.cancel_pending.is_none());
    assert!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.is_empty());
    assert!(stack.audit_entries_of(GLOBEX, AuditAction::CanceledInvite).await.is_empty());
}

async fn assert_canceled_once(stack: &TestStack, user_id: &str, target_name: &str) -> shared::domain::AuditEntry {
    assert!(!stack.cognito_user_exists(user_id).await, "the Cognito user of {user_id} is deleted");
    assert!(stack.member(ACME, user_id).await.is_none(), "the membership of {user_id} is removed");
    assert_eq!(stack.search_terms_of(user_id).await, 0, "no search finds {user_id} any more");
    let entries = stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await;
    assert_eq!(entries.len(), 1, "exactly one audit entry: {entries:?}");
    let entry = entries.into_iter().next().unwrap();
    assert_eq!(entry.action, AuditAction::CanceledInvite);
    assert_eq!(entry.target_id, user_id);
    assert_eq!(entry.target_name, target_name);
    assert_eq!(entry.actor_id, ADMIN_SUB);
    entry
}

#[tokio::test]
async fn an_admin_cancels_an_unverified_invitee() {
    let stack = TestStack::seeded().await;
    assert!(stack.search_terms_of(ACME_INVITEE.user_id).await > 0, "a search finds the invitee before");

    let response = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_eq!(response.status(), 204);
    assert!(matches!(response.body(), Body::Empty));
    let entry = assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
    assert_eq!(entry.actor_name, "Ada Admin");
    assert_eq!(entry.request_id, "cAnc1AAAIAMEbQ=");
    assert_eq!(entry.source_ip, "203.0.113.24");
    assert!(entry.user_agent.contains("AdminConsole"));
    assert_eq!(entry.org_id, ACME);
    // Everyone else is as they were.
    for other in [ACME_ADMIN, ACME_VERIFIED, ACME_INVITEE_2, ACME_INVITEE_3] {
        assert!(stack.cognito_user_exists(other.user_id).await);
        assert!(stack.member(ACME, other.user_id).await.is_some());
    }
}

#[tokio::test]
async fn a_second_identical_cancel_is_not_found_and_writes_nothing() {
    let stack = TestStack::seeded().await;
    let first = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;
    assert_eq!(first.status(), 204);

    let second = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&second, 404, "not-found");
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
}

#[tokio::test]
async fn both_shapes_of_the_groups_claim_are_read() {
    let stack = TestStack::seeded().await;

    let json_array = call(&stack.deps, fixture("cancel-invitation/admin-groups-as-json-array.json")).await;
    let among_others = call(&stack.deps, fixture("cancel-invitation/admin-among-other-groups.json")).await;

    assert_eq!(json_array.status(), 204);
    assert_eq!(among_others.status(), 204);
    assert!(!stack.cognito_user_exists(ACME_INVITEE_2.user_id).await);
    assert!(!stack.cognito_user_exists(ACME_INVITEE_3.user_id).await);
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.len(), 2);
}

#[tokio::test]
async fn a_caller_who_is_not_an_admin_is_forbidden() {
    let stack = TestStack::seeded().await;
    for case in ["caller-not-admin", "similar-group-name"] {
        let response = call(&stack.deps, fixture(&format!("cancel-invitation/{case}.json"))).await;
        assert_problem(&response, 403, "forbidden");
    }
    assert_untouched(&stack, ACME, ACME_INVITEE.user_id).await;
}

#[tokio::test]
async fn an_admin_of_another_organisation_learns_nothing() {
    let stack = TestStack::seeded().await;

    let foreign = call(&stack.deps, fixture("cancel-invitation/admin-of-other-org.json")).await;
    let unknown = call(&stack.deps, fixture("cancel-invitation/unknown-user.json")).await;

    // Same answer as for a user who does not exist at all.
    assert_problem(&foreign, 404, "not-found");
    assert_problem(&unknown, 404, "not-found");
    assert_eq!(json_body(&foreign), json_body(&unknown));
    assert_untouched(&stack, ACME, ACME_INVITEE.user_id).await;
}

#[tokio::test]
async fn no_authorizer_block_is_unauthenticated() {
    let stack = TestStack::seeded().await;

    let response = call(&stack.deps, fixture("cancel-invitation/no-authorizer.json")).await;

    assert_problem(&response, 401, "unauthenticated");
    assert_untouched(&stack, ACME, ACME_INVITEE.user_id).await;
}

#[tokio::test]
async fn a_verified_member_is_never_deleted() {
    let stack = TestStack::seeded().await;

    let response = call(&stack.deps, fixture("cancel-invitation/verified-target.json")).await;

    assert_problem(&response, 409, "already-verified");
    assert_untouched(&stack, ACME, ACME_VERIFIED.user_id).await;
}

#[tokio::test]
async fn a_stale_mirror_is_corrected_when_cognito_says_verified() {
    let stack = TestStack::seeded().await;
    // Carol verified, but no trigger told the membership record.
    confirm(&stack, ACME_INVITEE.user_id).await;
    assert_eq!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().status, MemberStatus::Unverified);

    let response = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&response, 409, "already-verified");
    assert_eq!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().status, MemberStatus::Verified);
    assert_untouched(&stack, ACME, ACME_INVITEE.user_id).await;
}

#[tokio::test]
async fn a_membership_whose_cognito_user_is_in_another_organisation_is_not_found() {
    let stack = TestStack::seeded().await;
    // A record in ACME pointing at GLOBEX's invitee: Cognito's org must match too.
    let mut forged = stack.member(GLOBEX, GLOBEX_INVITEE.user_id).await.unwrap();
    forged.org_id = ACME.into();
    stack.deps.store.put_member_record(&forged).await.unwrap();

    let request =
        fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| retarget(e, GLOBEX_INVITEE.user_id));
    let response = call(&stack.deps, request).await;

    assert_problem(&response, 404, "not-found");
    assert!(stack.cognito_user(GLOBEX_INVITEE.user_id).await.unwrap().enabled);
    assert!(stack.member(ACME, GLOBEX_INVITEE.user_id).await.is_some());
    assert!(stack.member(GLOBEX, GLOBEX_INVITEE.user_id).await.is_some());
    assert!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.is_empty());
}

#[tokio::test]
async fn a_malformed_user_id_is_a_bad_request() {
    let stack = TestStack::seeded().await;
    let request = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| retarget(e, &"x".repeat(129)));

    let response = call(&stack.deps, request).await;

    assert_problem(&response, 400, "bad-request");
    assert_untouched(&stack, ACME, ACME_INVITEE.user_id).await;
}

#[tokio::test]
async fn an_invitee_who_verifies_during_the_cancel_is_kept_and_enabled() {
    let stack = TestStack::seeded().await;
    // Carol sets her password at the very moment the cancel disables her.
    let sdk = stack.sdk.clone();
    let pool = stack.deps.config.user_pool_id.clone();
    let confirm_now = Before::new("AdminDisableUser", move || {
        let (sdk, pool) = (sdk.clone(), pool.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(set_permanent_password(&sdk, &pool, ACME_INVITEE.user_id));
        })
        .join()
        .unwrap();
    });
    let deps = stack.instance().cognito(confirm_now).deps();

    let response = call(&deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&response, 409, "already-verified");
    let carol = stack.cognito_user(ACME_INVITEE.user_id).await.expect("Carol is kept");
    assert!(carol.enabled, "Carol is enabled again");
    let member = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    assert_eq!(member.status, MemberStatus::Verified);
    assert!(member.cancel_pending.is_none());
    assert!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.is_empty());
}

#[tokio::test]
async fn when_the_audit_write_fails_after_the_delete_the_retry_finishes_the_job() {
    let stack = TestStack::seeded().await;
    let fault = Fault::new("TransactWriteItems", When::BeforeSending, 1);
    let failing = stack.instance().dynamo(fault.clone()).deps();

    let first = call(&failing, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&first, 503, "unavailable");
    let text = serde_json::to_string(&json_body(&first)).unwrap();
    assert!(!text.contains("injected") && !text.contains("TransactWriteItems"), "{text}");
    assert!(!stack.cognito_user_exists(ACME_INVITEE.user_id).await, "Cognito deletion went through");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().cancel_pending.is_some());
    assert!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.is_empty());

    // The console retries (API Gateway gives the retry a new request id).
    let retry = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
        e["requestContext"]["requestId"] = "retry-request".into();
    });
    let second = call(&stack.deps, retry).await;

    assert_eq!(second.status(), 204);
    let entry = assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
    assert_eq!(entry.request_id, "cAnc1AAAIAMEbQ=", "the entry of the request that deleted the user");
    let third = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;
    assert_problem(&third, 404, "not-found");
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.len(), 1);
    assert_eq!(fault.calls(), 1);
}

#[tokio::test]
async fn when_the_transaction_commits_but_its_answer_is_lost_its_entry_says_so() {
    let stack = TestStack::seeded().await;
    let fault = Fault::new("TransactWriteItems", When::AfterServerAnswered, 1);
    let failing = stack.instance().dynamo(fault).deps();

    let first = call(&failing, fixture("cancel-invitation/admin-cancels-unverified.json")).await;
    let second = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_eq!(first.status(), 204, "its own entry in the log tells the cancel that it committed");
    assert_problem(&second, 404, "not-found");
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
}

#[tokio::test]
async fn when_the_delete_fails_the_invitee_is_left_as_found() {
    let stack = TestStack::seeded().await;
    let fault = Fault::new("AdminDeleteUser", When::BeforeSending, 1);
    let failing = stack.instance().cognito(fault).deps();

    let first = call(&failing, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&first, 503, "unavailable");
    let carol = stack.cognito_user(ACME_INVITEE.user_id).await.expect("Carol still exists");
    assert!(carol.enabled, "Carol is enabled again");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.is_some());
    assert!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.is_empty());

    let second = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_eq!(second.status(), 204);
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
}

#[tokio::test]
async fn when_the_delete_succeeds_but_its_answer_is_lost_the_retry_finishes_the_job() {
    let stack = TestStack::seeded().await;
    let fault = Fault::new("AdminDeleteUser", When::AfterServerAnswered, 1);
    let failing = stack.instance().cognito(fault).deps();

    let first = call(&failing, fixture("cancel-invitation/admin-cancels-unverified.json")).await;
    let second = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&first, 503, "unavailable");
    assert_eq!(second.status(), 204);
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
}

#[tokio::test]
async fn concurrent_cancels_of_one_invitee_succeed_once() {
    let stack = TestStack::seeded().await;
    let attempts = (0..6).map(|n| {
        let deps = stack.deps.clone();
        let request = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
            e["requestContext"]["requestId"] = format!("concurrent-{n}").into();
        });
        tokio::spawn(async move { call(&deps, request).await.status().as_u16() })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    statuses.sort();

    assert_eq!(statuses, [204, 404, 404, 404, 404, 404], "one success, the rest not found");
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
}

#[tokio::test]
async fn the_globex_admin_cancels_their_own_invitee() {
    let stack = TestStack::seeded().await;
    let request = fixture_with("cancel-invitation/admin-of-other-org.json", |e| retarget(e, GLOBEX_INVITEE.user_id));

    let response = call(&stack.deps, request).await;

    assert_eq!(response.status(), 204);
    assert!(!stack.cognito_user_exists(GLOBEX_INVITEE.user_id).await);
    let entries = stack.audit_entries_of(GLOBEX, AuditAction::CanceledInvite).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_name, GLOBEX_ADMIN.name);
    assert!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.is_empty());
    assert!(stack.cognito_user_exists(ACME_INVITEE.user_id).await);
}

async fn set_permanent_password(sdk: &aws_config::SdkConfig, pool: &str, user_id: &str) {
    aws_sdk_cognitoidentityprovider::Client::new(sdk)
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(user_id)
        .password(DEMO_PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
}

async fn confirm(stack: &TestStack, user_id: &str) {
    set_permanent_password(&stack.sdk, &stack.deps.config.user_pool_id, user_id).await;
}

/// Collects what the functions log, in their own format.
#[derive(Clone, Default)]
struct LogLines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_aws_failure_goes_to_the_log_with_the_request_id_and_never_to_the_body() {
    let stack = TestStack::seeded().await;
    let failing = stack.instance().dynamo(Fault::new("TransactWriteItems", When::BeforeSending, 1)).deps();
    let lines = LogLines::default();
    let writer = lines.clone();
    let _logging = tracing::subscriber::set_default(shared::telemetry::subscriber(move || writer.clone()));

    let response = call(&failing, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&response, 503, "unavailable");
    let body = serde_json::to_string(&json_body(&response)).unwrap();
    let log = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let failure = log
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("every log line is JSON"))
        .find(|line| line["level"] == "ERROR")
        .expect("the failure is logged");
    assert_eq!(failure["span"]["request_id"], "cAnc1AAAIAMEbQ=");
    assert_eq!(failure["span"]["target"], ACME_INVITEE.user_id);
    let cause = failure["fields"]["error"].as_str().unwrap();
    assert!(cause.contains("TransactWriteItems") && cause.contains("injected fault"), "{cause}");
    for internal in ["TransactWriteItems", "injected", &stack.deps.config.tables.members] {
        assert!(!body.contains(internal), "{internal} reached the body: {body}");
    }
}

/// DynamoDB answers a repeated `ClientRequestToken` (within ten minutes) with success
/// without applying the transaction again. The emulator ignores the token, so this asserts
/// what the code sends: two requests finishing the same pending cancel never share one, and
/// so the second can never be told "done" for the first one's work.
#[tokio::test]
async fn two_requests_never_send_the_same_transaction_token() {
    let stack = TestStack::seeded().await;
    // The first cancel dies after deleting the Cognito user: its entry is pending.
    let dies = stack.instance().dynamo(Fault::new("TransactWriteItems", When::BeforeSending, 1)).deps();
    let first = call(&dies, fixture("cancel-invitation/admin-cancels-unverified.json")).await;
    assert_problem(&first, 503, "unavailable");
    let calls = members_tests::faults::Calls::new();
    let watched = stack.instance().dynamo(calls.clone()).deps();

    let (a, b) = tokio::join!(
        Box::pin(call(&watched, fixture("cancel-invitation/admin-cancels-unverified.json"))),
        Box::pin(call(&watched, fixture("cancel-invitation/admin-cancels-unverified.json"))),
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [204, 404], "one finishes the pending cancel, the other finds it done");
    let tokens: Vec<String> = calls
        .requests("TransactWriteItems")
        .iter()
        .map(|request| request["ClientRequestToken"].as_str().expect("a token is sent").to_owned())
        .collect();
    assert_eq!(tokens.len(), 2, "both tried to finish");
    assert_ne!(tokens[0], tokens[1], "each transaction its own token");
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
}

/// A membership whose Cognito user is gone and no cancel pending (deleted by hand, or left by
/// an older version's race) is listed as it is until cancelled, and then removed for good.
#[tokio::test]
async fn a_ghost_membership_is_listed_and_can_be_cancelled() {
    let stack = TestStack::seeded().await;
    stack
        .deps
        .directory
        .client()
        .admin_delete_user()
        .user_pool_id(stack.deps.directory.user_pool_id())
        .username(ACME_INVITEE.user_id)
        .send()
        .await
        .expect("delete Carol by hand");
    let listed = list_members::handle(&stack.deps, fixture("list-members/admin-lists.json")).await.unwrap();
    assert!(json_body(&listed)["members"].as_array().unwrap().iter().any(|m| m["userId"] == ACME_INVITEE.user_id));

    let response = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_eq!(response.status(), 204);
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
    let claims = stack.deps.store.contact_claims().await.unwrap();
    assert!(claims.iter().all(|claim| claim.user_id != ACME_INVITEE.user_id), "its contact claims are gone");
    let again = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;
    assert_problem(&again, 404, "not-found");
}

/// Defence in depth: were the template's authorizer pointed at another pool, or to let
/// access tokens through, the function still refuses, 401, and says why in its log.
#[tokio::test]
async fn a_token_of_another_pool_or_an_access_token_is_refused_and_logged() {
    let stack = TestStack::seeded().await;
    let lines = LogLines::default();
    let writer = lines.clone();
    let _logging = tracing::subscriber::set_default(shared::telemetry::subscriber(move || writer.clone()));

    let foreign = call(&stack.deps, fixture("cancel-invitation/token-of-another-pool.json")).await;
    let access = call(&stack.deps, fixture("cancel-invitation/access-token.json")).await;

    assert_problem(&foreign, 401, "unauthenticated");
    assert_problem(&access, 401, "unauthenticated");
    assert_untouched(&stack, ACME, ACME_INVITEE.user_id).await;
    let log = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("eu-west-1_AnotherPool1") && log.contains("not from this function's user pool"), "{log}");
    assert!(log.contains("not an ID token") && log.contains("\"token_use\":\"access\""), "{log}");
}

async fn disable_by_hand(stack: &TestStack, user_id: &str) {
    stack
        .deps
        .directory
        .client()
        .admin_disable_user()
        .user_pool_id(stack.deps.directory.user_pool_id())
        .username(user_id)
        .send()
        .await
        .expect("AdminDisableUser");
}

/// The read after the disable fails: the invitee is enabled again on the way out, and the
/// record of who disabled them goes with it.
#[tokio::test]
async fn every_way_out_after_the_disable_enables_the_invitee_again() {
    let stack = TestStack::seeded().await;
    // The first AdminGetUser reads Carol; the second, after the disable, fails.
    let failing = stack.instance().cognito(Fault::after("AdminGetUser", When::BeforeSending, 1, 1)).deps();

    let response = call(&failing, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&response, 503, "unavailable");
    assert!(stack.cognito_user(ACME_INVITEE.user_id).await.unwrap().enabled, "Carol is enabled again");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().disabled_by.is_none());
}

/// A cancel disabled Carol and died; she then signed in (the trigger cleared the pending
/// cancel). `disabledBy` still says a cancel disabled her, so the next call enables her.
#[tokio::test]
async fn a_verified_invitee_left_disabled_by_a_dead_cancel_is_enabled_by_the_next_one() {
    let stack = TestStack::seeded().await;
    let dies = stack
        .instance()
        .cognito(Fault::after("AdminGetUser", When::BeforeSending, 1, 1))
        .cognito(Fault::new("AdminEnableUser", When::BeforeSending, 1))
        .deps();
    let first = call(&dies, fixture("cancel-invitation/admin-cancels-unverified.json")).await;
    assert_problem(&first, 503, "unavailable");
    assert!(!stack.cognito_user(ACME_INVITEE.user_id).await.unwrap().enabled, "left disabled");
    set_permanent_password(&stack.sdk, &stack.deps.config.user_pool_id, ACME_INVITEE.user_id).await;
    let signed_in = members_tests::seed::trigger_event(
        "PostAuthentication_Authentication",
        stack.deps.directory.user_pool_id(),
        &ACME_INVITEE,
    );
    member_verified::mark_verified(&stack.deps.store, &signed_in, "test-trigger").await;
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().cancel_pending.is_none());

    let second = call(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json")).await;

    assert_problem(&second, 409, "already-verified");
    assert!(stack.cognito_user(ACME_INVITEE.user_id).await.unwrap().enabled, "Carol can sign in again");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().disabled_by.is_none());
}

/// A verified member an operator disabled is never enabled by a cancel, pending or not.
#[tokio::test]
async fn a_member_an_operator_disabled_stays_disabled() {
    let stack = TestStack::seeded().await;
    disable_by_hand(&stack, ACME_VERIFIED.user_id).await;

    let response = call(
        &stack.deps,
        fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| retarget(e, ACME_VERIFIED.user_id)),
    )
    .await;

    assert_problem(&response, 409, "already-verified");
    assert!(!stack.cognito_user(ACME_VERIFIED.user_id).await.unwrap().enabled);
}

/// The Log names the actor by their membership, not by the token's `name` (which a user may
/// be able to change).
#[tokio::test]
async fn the_log_names_the_actor_by_their_membership() {
    let stack = TestStack::seeded().await;
    let renamed = fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
        e["requestContext"]["authorizer"]["jwt"]["claims"]["name"] = "Somebody Else".into();
    });

    let response = call(&stack.deps, renamed).await;

    assert_eq!(response.status(), 204);
    let entry = assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
    assert_eq!(entry.actor_name, ACME_ADMIN.name);
}

/// `DELETE` honours `Idempotency-Key` like the POSTs: a repeat replays the 204, the same key
/// on another invitee is refused.
#[tokio::test]
async fn a_cancels_key_replays_its_204_and_refuses_another_target() {
    let stack = TestStack::seeded().await;
    let with_key = |user_id: &str| {
        fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
            retarget(e, user_id);
            e["headers"]["idempotency-key"] = "console-cancel-1".into();
        })
    };

    let first = call(&stack.deps, with_key(ACME_INVITEE.user_id)).await;
    let repeat = call(&stack.deps, with_key(ACME_INVITEE.user_id)).await;
    let other = call(&stack.deps, with_key(ACME_INVITEE_2.user_id)).await;

    assert_eq!((first.status().as_u16(), repeat.status().as_u16()), (204, 204));
    assert_problem(&other, 422, "idempotency-key-reused");
    assert_canceled_once(&stack, ACME_INVITEE.user_id, ACME_INVITEE.name).await;
    assert!(stack.cognito_user_exists(ACME_INVITEE_2.user_id).await);
}

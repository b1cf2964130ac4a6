//! `POST /invitations/{userId}/resend` against the emulator, through the real SDK clients.

use lambda_http::{Body, Request, Response};
use members_tests::faults::{Answer, Calls, Fault, When};
use members_tests::seed::{ACME, ACME_ADMIN, ACME_INVITEE, ACME_INVITEE_2, ACME_VERIFIED, DEMO_PASSWORD};
use members_tests::{TestStack, fixture, fixture_with, json_body};
use resend_invitation::handle;
use shared::Deps;
use shared::domain::{AuditAction, MemberStatus};

async fn call(deps: &Deps, request: Request) -> Response<Body> {
    let response = handle(deps, request).await.expect("the handler answers every request");
    members_tests::record("POST", "/invitations/{userId}/resend", &response);
    response
}

fn assert_problem(response: &Response<Body>, status: u16, code: &str) {
    assert_eq!(response.status(), status, "{}", json_body(response));
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert_eq!(json_body(response)["code"], code);
}

async fn resent_entries(stack: &TestStack) -> Vec<shared::domain::AuditEntry> {
    stack.audit_entries_of(ACME, AuditAction::ResentInvite).await
}

/// Counts the RESEND calls that reach Cognito.
fn counting(stack: &TestStack) -> (Deps, Calls) {
    let calls = Calls::new();
    (stack.instance().cognito(calls.clone()).deps(), calls)
}

#[tokio::test]
async fn an_admin_resends_and_an_immediate_second_resend_is_too_soon() {
    let stack = TestStack::seeded().await;
    let (deps, cognito) = counting(&stack);
    let invited_at = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().last_invitation_sent_at.unwrap();

    let first = call(&deps, fixture("resend-invitation/admin-resends-invitation.json")).await;
    let second = call(&deps, fixture("resend-invitation/resend-again-at-once.json")).await;

    assert_eq!(first.status(), 202);
    assert_eq!(first.headers()["content-type"], "application/json");
    let body = json_body(&first);
    assert_eq!(body["userId"], ACME_INVITEE.user_id);
    let sent_at = shared::time::parse(body["lastInvitationSentAt"].as_str().unwrap()).unwrap();
    assert!(sent_at >= invited_at - chrono::Duration::seconds(1));
    assert_problem(&second, 429, "resend-too-soon");
    let retry_after: u64 = second.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(cognito.count("AdminCreateUser"), 1, "one message sent");
    let sent = &cognito.requests("AdminCreateUser")[0];
    assert_eq!(sent["MessageAction"], "RESEND");
    assert_eq!(sent["DesiredDeliveryMediums"], serde_json::json!(["SMS", "EMAIL"]), "as the invitation went");
    let user = stack.cognito_user(ACME_INVITEE.user_id).await.expect("Carol is still there");
    assert_eq!(user.org_id.as_deref(), Some(ACME), "her organisation is kept");
    assert_eq!(user.email.as_deref(), Some("carol@acme.example"));
    assert!(user.is_unverified());
    // The Members page shows the new time; the log the resend, once.
    let listed = json_body(&list_members::handle(&stack.deps, fixture("list-members/admin-lists.json")).await.unwrap());
    let carol = listed["members"].as_array().unwrap().iter().find(|m| m["userId"] == ACME_INVITEE.user_id).unwrap();
    assert_eq!(carol["lastInvitationSentAt"], body["lastInvitationSentAt"]);
    let entries = resent_entries(&stack).await;
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].target_id.as_str(), entries[0].actor_id.as_str()), (ACME_INVITEE.user_id, ACME_ADMIN.sub));
    assert_eq!(entries[0].request_id, "rsd01AAAIAMEbQ=");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().resend_pending.is_none());
}

#[tokio::test]
async fn concurrent_resends_send_one_message() {
    let stack = TestStack::seeded().await;
    let (deps, cognito) = counting(&stack);
    let attempts: Vec<_> = (0..6)
        .map(|n| {
            let deps = deps.clone();
            let request = fixture_with("resend-invitation/admin-resends-invitation.json", |e| {
                e["requestContext"]["requestId"] = format!("concurrent-{n}").into();
            });
            tokio::spawn(async move { call(&deps, request).await.status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    statuses.sort();

    assert_eq!(statuses, [202, 429, 429, 429, 429, 429]);
    assert_eq!(cognito.count("AdminCreateUser"), 1);
    assert_eq!(resent_entries(&stack).await.len(), 1);
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_is_answered_without_texting_again() {
    let stack = TestStack::seeded().await;
    let (deps, cognito) = counting(&stack);

    let first = call(&deps, fixture("resend-invitation/with-idempotency-key.json")).await;
    let retry = call(&deps, fixture("resend-invitation/with-idempotency-key.json")).await;
    let other_target = call(
        &deps,
        fixture_with("resend-invitation/with-idempotency-key.json", |e| {
            members_tests::retarget(e, ACME_INVITEE.user_id)
        }),
    )
    .await;

    assert_eq!(first.status(), 202);
    assert_eq!(retry.status(), 202, "not 429: the first answer, replayed");
    assert_eq!(json_body(&retry), json_body(&first));
    assert_eq!(cognito.count("AdminCreateUser"), 1);
    assert_problem(&other_target, 422, "idempotency-key-reused");
    assert_eq!(resent_entries(&stack).await.len(), 1);
}

#[tokio::test]
async fn a_verified_member_is_a_conflict_and_the_mirror_is_corrected() {
    let stack = TestStack::seeded().await;
    let verified = call(&stack.deps, fixture("resend-invitation/verified-target.json")).await;
    assert_problem(&verified, 409, "already-verified");

    // Dan confirmed, but no trigger told the membership record.
    stack
        .deps
        .directory
        .client()
        .admin_set_user_password()
        .user_pool_id(stack.deps.directory.user_pool_id())
        .username(ACME_INVITEE_2.user_id)
        .password(DEMO_PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let stale = call(&stack.deps, fixture("resend-invitation/with-idempotency-key.json")).await;

    assert_problem(&stale, 409, "already-verified");
    assert_eq!(stack.member(ACME, ACME_INVITEE_2.user_id).await.unwrap().status, MemberStatus::Verified);
    assert_eq!(stack.member(ACME, ACME_VERIFIED.user_id).await.unwrap().status, MemberStatus::Verified);
    assert!(resent_entries(&stack).await.is_empty());
}

#[tokio::test]
async fn cognito_refusing_a_confirmed_user_is_a_conflict_too() {
    let stack = TestStack::seeded().await;
    let refuse = Answer::error("AdminCreateUser", 400, "UnsupportedUserStateException", "User is already confirmed.");
    let deps = stack.instance().cognito(refuse).deps();

    let response = call(&deps, fixture("resend-invitation/admin-resends-invitation.json")).await;

    assert_problem(&response, 409, "already-verified");
    let carol = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    assert_eq!(carol.status, MemberStatus::Verified, "the mirror is corrected");
    assert!(carol.last_resent_at.is_none() && carol.resend_pending.is_none(), "the claim was given back");
    assert!(resent_entries(&stack).await.is_empty());
}

#[tokio::test]
async fn other_organisations_and_unknown_users_are_not_found() {
    let stack = TestStack::seeded().await;
    for case in ["admin-of-other-org", "unknown-user"] {
        let response = call(&stack.deps, fixture(&format!("resend-invitation/{case}.json"))).await;
        assert_problem(&response, 404, "not-found");
    }
    assert_problem(&call(&stack.deps, fixture("resend-invitation/caller-not-admin.json")).await, 403, "forbidden");
    assert_problem(&call(&stack.deps, fixture("resend-invitation/no-authorizer.json")).await, 401, "unauthenticated");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().last_resent_at.is_none());
    assert!(resent_entries(&stack).await.is_empty());
}

#[tokio::test]
async fn when_cognito_refuses_the_cooldown_is_given_back() {
    let stack = TestStack::seeded().await;
    let refusing = stack
        .instance()
        .cognito(Answer::error("AdminCreateUser", 400, "TooManyRequestsException", "Too many requests"))
        .deps();

    let first = call(&refusing, fixture("resend-invitation/admin-resends-invitation.json")).await;
    let retry = call(&stack.deps, fixture("resend-invitation/resend-again-at-once.json")).await;

    assert_problem(&first, 503, "unavailable");
    assert_eq!(retry.status(), 202, "not refused as too soon: Cognito sent nothing the first time");
    let entries = resent_entries(&stack).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].request_id, "rsd02AAAIAMEbQ=");
}

#[tokio::test]
async fn an_exhausted_delivery_quota_is_said_as_such_and_gives_the_cooldown_back() {
    let stack = TestStack::seeded().await;
    let quota = stack
        .instance()
        .cognito(Answer::error(
            "AdminCreateUser",
            400,
            "LimitExceededException",
            "Exceeded daily email limit for the operation or the account.",
        ))
        .deps();

    let refused = call(&quota, fixture("resend-invitation/admin-resends-invitation.json")).await;
    let retry = call(&stack.deps, fixture("resend-invitation/resend-again-at-once.json")).await;

    assert_problem(&refused, 503, "delivery-quota-exhausted");
    assert_eq!(retry.status(), 202, "nothing was sent the first time");
    assert_eq!(resent_entries(&stack).await.len(), 1);
}

/// A RESEND whose answer never came may have sent the message: it is taken as sent. The
/// claim stays, so nobody sends a second message within the cooldown (it would void the
/// first one's password); the entry is written once; the same request's retry answers 202
/// without sending again.
#[tokio::test]
async fn when_the_resend_goes_unanswered_it_is_taken_as_sent_and_nothing_is_sent_twice() {
    let stack = TestStack::seeded().await;
    let unanswered = stack.instance().cognito(Fault::new("AdminCreateUser", When::AfterServerAnswered, 1)).deps();

    let first = call(&unanswered, fixture("resend-invitation/with-idempotency-key.json")).await;
    let other = call(
        &stack.deps,
        fixture_with("resend-invitation/admin-resends-invitation.json", |e| members_tests::retarget(e, "acme-dan")),
    )
    .await;
    let (deps, cognito) = counting(&stack);
    let retry = call(&deps, fixture("resend-invitation/with-idempotency-key.json")).await;

    assert_eq!(first.status(), 202, "{}", json_body(&first));
    assert_problem(&other, 429, "resend-too-soon");
    assert_eq!(retry.status(), 202);
    assert_eq!(cognito.count("AdminCreateUser"), 0, "the retry sends nothing again");
    let target = json_body(&retry)["userId"].as_str().unwrap().to_owned();
    let entries: Vec<_> = resent_entries(&stack).await.into_iter().filter(|e| e.target_id == target).collect();
    assert_eq!(entries.len(), 1, "one entry for the one 202");
}

/// The SDK's own retries, below the interceptors: a connector forwards the first RESEND and
/// loses its answer (the message went out), then fails any retry with a 500. With the SDK
/// retrying, a second message went out and the 500 was taken as a refusal: claim given
/// back, no entry. Sent once, the unanswered call is an unknown outcome taken as sent: one
/// message, the claim kept (the next resend is too soon), one entry. The emulator sends no
/// SMS, so the messages are counted as the RESEND requests that reached it.
#[tokio::test]
async fn a_resend_whose_answer_is_lost_is_not_sent_again_by_the_sdk() {
    let stack = TestStack::seeded().await;
    let losing = members_tests::faults::LosingConnector::new(|target, body| {
        target.ends_with(".AdminCreateUser") && String::from_utf8_lossy(body).contains("RESEND")
    });
    let deps = stack.deps_with_cognito_http(&losing);

    let first = call(&deps, fixture("resend-invitation/admin-resends-invitation.json")).await;
    let again = call(&stack.deps, fixture("resend-invitation/resend-again-at-once.json")).await;

    assert_eq!(losing.attempts(), 1, "one RESEND sent to Cognito: one message");
    assert_eq!(first.status(), 202, "{}", json_body(&first));
    assert_problem(&again, 429, "resend-too-soon");
    let entries = resent_entries(&stack).await;
    assert_eq!(entries.len(), 1, "one entry for the one message");
    assert_eq!(entries[0].target_id, ACME_INVITEE.user_id);
    let member = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    assert!(member.resend_pending.is_none(), "the entry is written, not left pending");
}

/// A claim applied whose answer was lost is retried by the SDK: the retry finds the claim
/// taken — by itself — and must not answer 429 to its own claim.
#[tokio::test]
async fn a_claim_whose_answer_is_lost_is_known_as_ours_on_the_sdks_retry() {
    let stack = TestStack::seeded().await;
    let lossy =
        stack.instance().dynamo(Answer::error("UpdateItem", 500, "InternalServerError", "internal").once()).deps();

    let response = call(&lossy, fixture("resend-invitation/admin-resends-invitation.json")).await;

    assert_eq!(response.status(), 202, "{:?}", json_body(&response));
    assert_eq!(resent_entries(&stack).await.len(), 1);
}

#[tokio::test]
async fn when_the_audit_write_fails_after_sending_the_entry_is_written_later_once() {
    let stack = TestStack::seeded().await;
    let failing = stack.instance().dynamo(Fault::new("PutItem", When::BeforeSending, 1)).deps();

    let resent = call(&failing, fixture("resend-invitation/admin-resends-invitation.json")).await;

    assert_eq!(resent.status(), 202, "the invitation went out");
    assert!(resent_entries(&stack).await.is_empty());
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().resend_pending.is_some());

    // The next call that touches Carol writes it: here, the cancel.
    let canceled = cancel_invitation::handle(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json"))
        .await
        .unwrap();

    assert_eq!(canceled.status(), 204);
    let entries = resent_entries(&stack).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].request_id, "rsd01AAAIAMEbQ=");
    assert_eq!(stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await.len(), 1);
}

#[tokio::test]
async fn a_zero_cooldown_allows_back_to_back_resends() {
    let mut stack = TestStack::seeded().await;
    stack.deps.config.resend_cooldown = std::time::Duration::ZERO;

    let first = call(&stack.deps, fixture("resend-invitation/admin-resends-invitation.json")).await;
    let second = call(&stack.deps, fixture("resend-invitation/resend-again-at-once.json")).await;

    assert_eq!((first.status().as_u16(), second.status().as_u16()), (202, 202));
    assert_eq!(resent_entries(&stack).await.len(), 2);
}

#[tokio::test]
async fn an_enormous_cooldown_refuses_without_overflowing() {
    let mut stack = TestStack::seeded().await;
    stack.deps.config.resend_cooldown = std::time::Duration::from_secs(u64::MAX);

    let first = call(&stack.deps, fixture("resend-invitation/admin-resends-invitation.json")).await;
    let second = call(&stack.deps, fixture("resend-invitation/resend-again-at-once.json")).await;

    assert_eq!(first.status(), 202);
    assert_problem(&second, 429, "resend-too-soon");
    let retry_after: u64 = second.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 365 * 24 * 3600);
}

/// A resend to an invitee an operator disabled sends nothing (they could not sign in);
/// one a dead cancel left disabled is enabled again and sent to.
#[tokio::test]
async fn a_disabled_invitee_gets_no_invitation_unless_a_cancel_disabled_them() {
    let stack = TestStack::seeded().await;
    stack
        .deps
        .directory
        .client()
        .admin_disable_user()
        .user_pool_id(stack.deps.directory.user_pool_id())
        .username(ACME_INVITEE.user_id)
        .send()
        .await
        .unwrap();
    let (deps, cognito) = counting(&stack);

    let refused = call(&deps, fixture("resend-invitation/admin-resends-invitation.json")).await;

    assert_problem(&refused, 404, "not-found");
    assert_eq!(cognito.count("AdminCreateUser"), 0);

    // Now as a cancel that died after disabling her would have left her.
    let mut member = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    member.disabled_by = Some("a-dead-cancel".into());
    stack.deps.store.put_member_record(&member).await.unwrap();

    let sent = call(&deps, fixture("resend-invitation/admin-resends-invitation.json")).await;

    assert_eq!(sent.status(), 202);
    assert!(stack.cognito_user(ACME_INVITEE.user_id).await.unwrap().enabled, "enabled again");
    assert!(stack.member(ACME, ACME_INVITEE.user_id).await.unwrap().disabled_by.is_none());
}

/// A refusal a later retry can outgrow is not kept for replay: the console reuses its key.
#[tokio::test]
async fn a_429_is_not_replayed_to_a_retry_with_the_same_key() {
    let stack = TestStack::seeded().await;
    let earlier = call(
        &stack.deps,
        fixture_with("resend-invitation/admin-resends-invitation.json", |e| members_tests::retarget(e, "acme-dan")),
    )
    .await;
    assert_eq!(earlier.status(), 202);
    let too_soon = call(&stack.deps, fixture("resend-invitation/with-idempotency-key.json")).await;
    assert_problem(&too_soon, 429, "resend-too-soon");

    // The cooldown has run out (here: a configuration without one).
    let mut later = stack.deps.clone();
    later.config.resend_cooldown = std::time::Duration::ZERO;
    let retry = call(&later, fixture("resend-invitation/with-idempotency-key.json")).await;

    assert_eq!(retry.status(), 202, "done now, not the stored 429");
}

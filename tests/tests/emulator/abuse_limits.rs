//! The abuse limits (`shared::quota`) against the emulator, through the real SDK clients:
//! an organisation's invitations an hour, a phone number's messages a day whatever
//! organisation sends them, at the boundary, across cancel-then-invite loops, concurrently,
//! and with nothing sent beyond them.

use lambda_http::{Body, Request, Response};
use members_tests::faults::{Answer, Calls, Fault, When};
use members_tests::seed::{ACME, ACME_INVITEE, GLOBEX, GLOBEX_ADMIN};
use members_tests::{TestStack, fixture_with, json_body, retarget};
use shared::Deps;
use shared::ports::prelude::*;
use shared::quota::{Allowance, Limits, Quota};

async fn invite(deps: &Deps, request: Request) -> Response<Body> {
    let response = Box::pin(invite_user::handle(deps, request)).await.expect("the handler answers every request");
    members_tests::record("POST", "/invitations", &response);
    response
}

async fn cancel(deps: &Deps, request: Request) -> Response<Body> {
    let response = Box::pin(cancel_invitation::handle(deps, request)).await.expect("the handler answers every request");
    members_tests::record("DELETE", "/invitations/{userId}", &response);
    response
}

async fn resend(deps: &Deps, request: Request) -> Response<Body> {
    let response = Box::pin(resend_invitation::handle(deps, request)).await.expect("the handler answers every request");
    members_tests::record("POST", "/invitations/{userId}/resend", &response);
    response
}

/// An organisation the seed did not invite anyone into: its quota is whole.
const INITECH: &str = "org-initech";

/// The claims of `org`'s administrator on a fixture of Ada's (Acme's).
fn as_admin_of(event: &mut serde_json::Value, org: &str) {
    let (sub, username) = match org {
        ACME => return,
        GLOBEX => (GLOBEX_ADMIN.sub, GLOBEX_ADMIN.user_id),
        _ => ("1a1a1a1a-0000-4000-8000-000000001a01", "initech-admin"),
    };
    let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
    claims["custom:org_id"] = org.into();
    claims["sub"] = sub.into();
    claims["cognito:username"] = username.into();
}

/// An invitation of `phone` by `org`'s administrator.
fn invitation(org: &str, phone: &str, n: usize) -> Request {
    fixture_with("invite-user/admin-invites-member.json", |e| {
        e["body"] = serde_json::json!({"name": format!("Quota Person {n}"), "phone": phone}).to_string().into();
        e["requestContext"]["requestId"] = format!("quota-{n}").into();
        as_admin_of(e, org);
    })
}

fn cancellation(user_id: &str) -> Request {
    fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| retarget(e, user_id))
}

fn resending(user_id: &str, n: usize) -> Request {
    fixture_with("resend-invitation/admin-resends-invitation.json", |e| {
        retarget(e, user_id);
        e["requestContext"]["requestId"] = format!("quota-resend-{n}").into();
    })
}

fn problem(response: &Response<Body>, code: &str) -> u64 {
    assert_eq!(response.status(), 429, "{}", json_body(response));
    let body = json_body(response);
    assert_eq!(body["code"], code, "{body}");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    retry_after
}

/// Numbers apart from the seed's (+44 7700 900…).
fn phone(n: usize) -> String {
    format!("+4477008{n:05}")
}

/// A stack whose functions run with these limits, and the Cognito calls they make.
async fn stack_with(limits: Limits) -> (TestStack, Deps, Calls) {
    let mut stack = TestStack::seeded().await;
    stack.admit(INITECH, "initech-admin", shared::domain::Role::Admin).await;
    stack.deps.config.limits = limits;
    let cognito = Calls::new();
    let deps = stack.instance().cognito(cognito.clone()).deps();
    (stack, deps, cognito)
}

#[tokio::test]
async fn an_organisation_sends_at_most_its_invitations_an_hour() {
    let (stack, deps, cognito) =
        stack_with(Limits { invitations_per_org_per_hour: 3, messages_per_number_per_day: 5 }).await;

    // Ten minutes apart: at 0, 10 and 20 minutes.
    for n in 0..3 {
        if n > 0 {
            stack.deps.config.clock.advance(chrono::Duration::minutes(10));
        }
        assert_eq!(invite(&deps, invitation(INITECH, &phone(n), n)).await.status(), 201, "invitation {n} of 3");
    }
    cognito.reset();
    let refused = invite(&deps, invitation(INITECH, &phone(3), 3)).await;
    let retry_after = problem(&refused, "invitation-quota");
    assert!((2390..=2400).contains(&retry_after), "the first use leaves the hour in 40 minutes: {retry_after}");

    // Nothing sent, nothing kept: no Cognito user made, no membership, the contact free.
    assert_eq!(cognito.count("AdminCreateUser"), 0, "no message went out");
    assert!(stack.users_with_phone(&phone(3)).await.is_empty());
    let claims = stack.scan(&stack.deps.config.tables.contacts).await;
    assert!(!claims.iter().any(|c| c["contact"].as_s().unwrap().ends_with(&phone(3))), "the reservation given back");
    // Another organisation has its own quota.
    assert_eq!(invite(&deps, invitation(GLOBEX, &phone(4), 4)).await.status(), 201);

    // Just before the first invitation leaves the hour, still full; once it has, room for
    // one, and the two later ones still count.
    stack.deps.config.clock.advance(chrono::Duration::seconds(retry_after as i64 - 2));
    problem(&invite(&deps, invitation(INITECH, &phone(3), 5)).await, "invitation-quota");
    stack.deps.config.clock.advance(chrono::Duration::seconds(3));
    assert_eq!(invite(&deps, invitation(INITECH, &phone(3), 6)).await.status(), 201);
    problem(&invite(&deps, invitation(INITECH, &phone(5), 7)).await, "invitation-quota");
}

#[tokio::test]
async fn a_number_gets_at_most_its_messages_a_day_whoever_sends_them() {
    let (mut stack, _, _) =
        stack_with(Limits { invitations_per_org_per_hour: 100, messages_per_number_per_day: 3 }).await;
    stack.deps.config.resend_cooldown = std::time::Duration::ZERO;
    let cognito = Calls::new();
    let deps = stack.instance().cognito(cognito.clone()).deps();
    let number = phone(42);

    // Invite, cancel, invite again: two messages. Then another organisation: three.
    let first = json_body(&invite(&deps, invitation(ACME, &number, 1)).await);
    assert_eq!(cancel(&deps, cancellation(first["userId"].as_str().unwrap())).await.status(), 204);
    let second = invite(&deps, invitation(ACME, &number, 2)).await;
    assert_eq!(second.status(), 201);
    let second = json_body(&second)["userId"].as_str().unwrap().to_owned();
    assert_eq!(cancel(&deps, cancellation(&second)).await.status(), 204);
    let third = invite(&deps, invitation(GLOBEX, &number, 3)).await;
    assert_eq!(third.status(), 201, "{}", json_body(&third));
    let third = json_body(&third)["userId"].as_str().unwrap().to_owned();
    assert_eq!(cognito.count("AdminCreateUser"), 3);

    // The fourth message, whichever way it would go, is refused and nothing is sent.
    cognito.reset();
    let resend_as_globex = fixture_with("resend-invitation/admin-resends-invitation.json", |e| {
        retarget(e, &third);
        as_admin_of(e, GLOBEX);
    });
    problem(&resend(&deps, resend_as_globex).await, "message-quota");
    assert_eq!(cancel(&deps, cancellation_in(GLOBEX, &third)).await.status(), 204);
    problem(&invite(&deps, invitation(ACME, &number, 4)).await, "message-quota");
    assert_eq!(cognito.count("AdminCreateUser"), 0, "no message went out");
    assert!(stack.users_with_phone(&number).await.is_empty());

    // A day after the first, one message again.
    stack.deps.config.clock.advance(chrono::Duration::days(1));
    assert_eq!(invite(&deps, invitation(ACME, &number, 5)).await.status(), 201);

    // The log is keyed by a hash of the number: the table holds no phone number.
    let logs = stack.scan(&stack.deps.config.tables.quotas).await;
    assert!(!logs.is_empty());
    let text = format!("{logs:?}");
    assert!(!text.contains(&number[1..]), "{text}");
}

fn cancellation_in(org: &str, user_id: &str) -> Request {
    fixture_with("cancel-invitation/admin-cancels-unverified.json", |e| {
        retarget(e, user_id);
        as_admin_of(e, org);
    })
}

#[tokio::test]
async fn a_resend_uses_one_of_the_numbers_messages_and_a_refused_one_keeps_the_cooldown_free() {
    // The seed invited Carol through invite-user's rule a moment ago: one message. Two
    // allowed: one resend, then refused.
    let (mut stack, _, _) =
        stack_with(Limits { invitations_per_org_per_hour: 100, messages_per_number_per_day: 2 }).await;
    stack.deps.config.resend_cooldown = std::time::Duration::ZERO;
    let cognito = Calls::new();
    let deps = stack.instance().cognito(cognito.clone()).deps();

    assert_eq!(resend(&deps, resending(ACME_INVITEE.user_id, 1)).await.status(), 202);
    assert_eq!(cognito.count("AdminCreateUser"), 1);
    cognito.reset();
    let before = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    problem(&resend(&deps, resending(ACME_INVITEE.user_id, 2)).await, "message-quota");
    assert_eq!(cognito.count("AdminCreateUser"), 0, "no message went out");
    // The membership is as it was: no resend claimed, no entry pending.
    let after = stack.member(ACME, ACME_INVITEE.user_id).await.unwrap();
    assert_eq!(after.last_resent_at, before.last_resent_at);
    assert!(after.resend_pending.is_none());
    assert_eq!(stack.audit_entries_of(ACME, shared::domain::AuditAction::ResentInvite).await.len(), 1);
}

#[tokio::test]
async fn of_concurrent_invitations_exactly_the_quota_goes_out() {
    let (stack, deps, cognito) =
        stack_with(Limits { invitations_per_org_per_hour: 4, messages_per_number_per_day: 5 }).await;
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let deps = deps.clone();
            tokio::spawn(async move { invite(&deps, invitation(INITECH, &phone(100 + n), n)).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        if response.status() == 429 {
            problem(&response, "invitation-quota");
        }
        statuses.push(response.status().as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 201, 201, 201, 429, 429, 429, 429, 429, 429]);
    assert_eq!(cognito.count("AdminCreateUser"), 4, "exactly the quota's messages went out");
    let mut invited = 0;
    for n in 0..10 {
        invited += stack.users_with_phone(&phone(100 + n)).await.len();
    }
    assert_eq!(invited, 4);
}

#[tokio::test]
async fn of_concurrent_invitations_of_one_number_by_many_organisations_at_most_its_messages_go_out() {
    // Two organisations, each inviting the number again and again after cancelling: the
    // number's log is shared, so no more than its allowance is sent in all.
    let (stack, deps, cognito) =
        stack_with(Limits { invitations_per_org_per_hour: 100, messages_per_number_per_day: 3 }).await;
    let number = phone(777);
    let tasks: Vec<_> = [ACME, GLOBEX, ACME, GLOBEX]
        .into_iter()
        .enumerate()
        .map(|(worker, org)| {
            let deps = deps.clone();
            let number = number.clone();
            tokio::spawn(async move {
                let mut sent = 0;
                for round in 0..3 {
                    let response = invite(&deps, invitation(org, &number, 1000 + worker * 10 + round)).await;
                    match response.status().as_u16() {
                        201 => {
                            sent += 1;
                            let user = json_body(&response)["userId"].as_str().unwrap().to_owned();
                            assert_eq!(cancel(&deps, cancellation_in(org, &user)).await.status(), 204);
                        }
                        429 => {
                            problem(&response, "message-quota");
                        }
                        // Held by the other organisation's invitation at this moment.
                        409 => assert_eq!(json_body(&response)["code"], "contact-in-use"),
                        other => panic!("{other}: {}", json_body(&response)),
                    }
                }
                sent
            })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        sent += task.await.unwrap();
    }
    assert_eq!(cognito.count("AdminCreateUser"), sent);
    assert!(sent <= 3, "{sent} messages went to one number with an allowance of 3");
    // The log holds exactly what was sent.
    let taken = stack
        .deps
        .store
        .take(
            &[Limits { messages_per_number_per_day: 3, ..Limits::default() }
                .message(&shared::domain::Phone::parse(&number).unwrap())],
            "probe",
            stack.deps.config.clock.now(),
        )
        .await
        .unwrap();
    match sent {
        3 => assert!(matches!(taken, Allowance::Refused { quota: Quota::Messages { .. }, .. }), "{taken:?}"),
        _ => assert_eq!(taken, Allowance::Granted),
    }
}

#[tokio::test]
async fn taking_is_idempotent_for_one_id_and_all_or_nothing_across_two_logs() {
    let stack = TestStack::empty().await;
    let store = &stack.deps.store;
    let now = stack.deps.config.clock.now();
    let tight = Limits { invitations_per_org_per_hour: 2, messages_per_number_per_day: 1 };
    let a = shared::domain::Phone::parse("+447700900901").unwrap();
    let b = shared::domain::Phone::parse("+447700900902").unwrap();

    // One id takes one use, however often it asks (a retry of the same invitation).
    for _ in 0..3 {
        assert_eq!(store.take(&tight.invitation(ACME, &a), "first", now).await.unwrap(), Allowance::Granted);
    }
    // The number's log is full: a second invitation of it takes nothing from the organisation's.
    let refused = store.take(&tight.invitation(ACME, &a), "second", now).await.unwrap();
    assert!(matches!(refused, Allowance::Refused { quota: Quota::Messages { .. }, retry_after_seconds: 86_400 }));
    assert_eq!(store.take(&tight.invitation(ACME, &b), "third", now).await.unwrap(), Allowance::Granted);
    let d = shared::domain::Phone::parse("+447700900903").unwrap();
    let full = store.take(&tight.invitation(ACME, &d), "x", now).await.unwrap();
    assert!(matches!(full, Allowance::Refused { quota: Quota::Invitations { .. }, .. }), "{full:?}");

    // Given back, the use is free again; giving back twice is harmless.
    store.give_back(&tight.invitation(ACME, &b), "third").await.unwrap();
    store.give_back(&tight.invitation(ACME, &b), "third").await.unwrap();
    let c = shared::domain::Phone::parse("+447700900904").unwrap();
    assert_eq!(store.take(&tight.invitation(ACME, &c), "fourth", now).await.unwrap(), Allowance::Granted);

    // Each log expires (TTL) a window after its last use.
    let logs = stack.scan(&stack.deps.config.tables.quotas).await;
    let org_log = logs.iter().find(|item| *item["quota"].as_s().unwrap() == format!("invitations#{ACME}")).unwrap();
    let expires: i64 = org_log["expiresAt"].as_n().unwrap().parse().unwrap();
    assert!((expires - (now.timestamp() + 3600)).abs() <= 1, "{expires}");
}

#[tokio::test]
async fn what_cognito_did_not_send_is_given_back() {
    let (stack, _, _) = stack_with(Limits { invitations_per_org_per_hour: 1, messages_per_number_per_day: 1 }).await;
    let refusing = stack
        .instance()
        .cognito(
            Answer::error("AdminCreateUser", 400, "InvalidParameterException", "Invalid phone number format.").once(),
        )
        .deps();
    let number = phone(900);

    let refused = invite(&refusing, invitation(INITECH, &number, 1)).await;
    assert!(refused.status().is_client_error() || refused.status().is_server_error(), "{}", json_body(&refused));
    assert_ne!(refused.status(), 429);
    assert!(stack.users_with_phone(&number).await.is_empty());

    // Both uses came back: the organisation's only invitation of the hour, the number's only
    // message of the day.
    assert_eq!(invite(&stack.deps, invitation(INITECH, &number, 2)).await.status(), 201);
}

#[tokio::test]
async fn when_the_limits_cannot_be_read_nothing_is_sent_and_the_contact_is_free() {
    let (stack, _, _) = stack_with(Limits::default()).await;
    let cognito = Calls::new();
    let failing =
        stack.instance().cognito(cognito.clone()).dynamo(Fault::new("BatchGetItem", When::BeforeSending, 10)).deps();
    let number = phone(901);

    let response = invite(&failing, invitation(INITECH, &number, 1)).await;
    assert_eq!(response.status(), 503, "{}", json_body(&response));
    assert_eq!(json_body(&response)["code"], "unavailable");
    assert_eq!(cognito.count("AdminCreateUser"), 0);
    let claims = stack.scan(&stack.deps.config.tables.contacts).await;
    assert!(!claims.iter().any(|c| c["contact"].as_s().unwrap().ends_with(&number)), "the reservation given back");
    assert_eq!(invite(&stack.deps, invitation(INITECH, &number, 2)).await.status(), 201);
}

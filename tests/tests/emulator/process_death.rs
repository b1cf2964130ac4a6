//! A request whose process dies between any two of its AWS calls (or while waiting for an
//! answer the server already acted on), retried unchanged with its `Idempotency-Key` once
//! the lease has lapsed, ends as if it had never died: one answer, one audit entry, and
//! Cognito and DynamoDB agreeing. Lambda ends a process at its timeout or when it runs out
//! of memory, wherever it is; the death is injected into the real clients, which then send
//! nothing more, as a dead process would.

use lambda_http::{Body, Request, Response};
use members_tests::faults::Death;
use members_tests::seed::ACME;
use members_tests::workload::{self, Done};
use members_tests::{TestStack, fixture_with, retarget};
use shared::Deps;
use std::time::Duration;

/// Short, so that the test need not wait out the template's lease.
const LEASE: Duration = Duration::from_millis(300);

fn with_lease(mut deps: Deps) -> Deps {
    deps.config.lease = LEASE;
    deps
}

fn dying(stack: &TestStack, death: &Death) -> Deps {
    with_lease(stack.instance().cognito(death.clone()).dynamo(death.clone()).deps())
}

fn invitation(n: usize) -> Request {
    fixture_with("invite-user/with-idempotency-key.json", |e| {
        e["headers"]["idempotency-key"] = format!("death-invite-{n}").into();
        e["body"] =
            format!(r#"{{"name": "Dying {n}", "phone": "+4477009003{n:02}", "email": "dying{n}@acme.example"}}"#)
                .into();
    })
}

fn keyed(case: &str, user_id: &str, key: &str) -> Request {
    fixture_with(case, |e| {
        retarget(e, user_id);
        e["headers"]["idempotency-key"] = key.into();
    })
}

async fn answer(response: Result<Response<Body>, lambda_http::Error>) -> (u16, serde_json::Value) {
    let response = response.expect("a handler answers");
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    (response.status().as_u16(), body)
}

/// Runs `attempt` dying after 0, 1, 2, … calls (each both ways) until it completes without
/// dying; after each death, waits out the lease and retries on a healthy instance.
async fn at_every_point<F, Fut>(stack: &TestStack, kind: &'static str, expected: u16, mut attempt: F) -> Vec<Done>
where
    F: FnMut(Deps, usize) -> Fut,
    Fut: Future<Output = (Option<String>, (u16, serde_json::Value))>,
{
    let healthy = with_lease(stack.deps.clone());
    let mut done = Vec::new();
    let mut run = 0;
    for survive in 0.. {
        let mut completed = false;
        for lose_last_answer in [false, true] {
            let death = Death::after(survive, lose_last_answer);
            let (target, (status, body)) = attempt(dying(stack, &death), run).await;
            if !death.struck() {
                // It got through every call: an ordinary answer.
                assert_eq!(status, expected, "{kind} without dying: {body}");
                done.push(Done {
                    kind,
                    org: ACME_STATIC,
                    target,
                    status,
                    body,
                    attempts: 1,
                    server_errors: 0,
                    request_id: String::new(),
                });
                completed = true;
                break;
            }
            tokio::time::sleep(LEASE + Duration::from_millis(50)).await;
            let (target, (status, body)) = attempt(healthy.clone(), run).await;
            assert_eq!(
                status, expected,
                "{kind} retried after dying past {survive} calls ({lose_last_answer}): {body}"
            );
            done.push(Done {
                kind,
                org: ACME_STATIC,
                target,
                status,
                body,
                attempts: 2,
                server_errors: 0,
                request_id: String::new(),
            });
            run += 1;
        }
        if completed {
            assert!(survive > 3, "{kind} makes more than a few calls");
            return done;
        }
    }
    unreachable!()
}

const ACME_STATIC: &str = ACME;

#[tokio::test]
async fn an_invitation_killed_anywhere_and_retried_is_one_invitation() {
    let stack = TestStack::with_callers().await;
    let done = at_every_point(&stack, "invite", 201, |deps, n| async move {
        let (status, body) = answer(Box::pin(invite_user::handle(&deps, invitation(n))).await).await;
        (body["userId"].as_str().map(str::to_owned), (status, body))
    })
    .await;
    assert_invariants(&stack, &done).await;
}

#[tokio::test]
async fn a_cancel_killed_anywhere_and_retried_is_one_cancel() {
    let stack = TestStack::with_callers().await;
    let invitees = invitees(&stack, 60).await;
    let done = at_every_point(&stack, "cancel", 204, |deps, n| {
        let user_id = invitees[n].clone();
        async move {
            let request =
                keyed("cancel-invitation/admin-cancels-unverified.json", &user_id, &format!("death-cancel-{n}"));
            (Some(user_id.clone()), answer(Box::pin(cancel_invitation::handle(&deps, request)).await).await)
        }
    })
    .await;
    let mut all = invited(&invitees);
    all.extend(done);
    assert_invariants(&stack, &all).await;
}

#[tokio::test]
async fn a_resend_killed_anywhere_and_retried_is_one_resend() {
    let stack = TestStack::with_callers().await;
    let invitees = invitees(&stack, 60).await;
    let done = at_every_point(&stack, "resend", 202, |deps, n| {
        let user_id = invitees[n].clone();
        async move {
            let request =
                keyed("resend-invitation/admin-resends-invitation.json", &user_id, &format!("death-resend-{n}"));
            (Some(user_id.clone()), answer(Box::pin(resend_invitation::handle(&deps, request)).await).await)
        }
    })
    .await;
    let mut all = invited(&invitees);
    all.extend(done);
    assert_invariants(&stack, &all).await;
}

/// `count` fresh invitees of Acme, invited the ordinary way.
async fn invitees(stack: &TestStack, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..count {
        let (status, body) = answer(invite_user::handle(&stack.deps, invitation(n)).await).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["userId"].as_str().unwrap().to_owned());
    }
    ids
}

fn invited(ids: &[String]) -> Vec<Done> {
    ids.iter()
        .map(|id| Done {
            kind: "invite",
            org: ACME_STATIC,
            target: Some(id.clone()),
            status: 201,
            body: serde_json::Value::Null,
            attempts: 1,
            server_errors: 0,
            request_id: String::new(),
        })
        .collect()
}

/// The workload's invariants, over what these requests answered.
async fn assert_invariants(stack: &TestStack, done: &[Done]) {
    let broken: Vec<_> = workload::check(stack, done, &Default::default())
        .await
        .into_iter()
        .filter(|(_, faults)| !faults.is_empty())
        .collect();
    assert!(broken.is_empty(), "{broken:#?}");
}

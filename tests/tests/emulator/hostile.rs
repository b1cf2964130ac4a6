//! Hostile input, generated (proptest): every part of a request a caller controls, shaped as
//! API Gateway delivers it — path ids of any text (empty, 2 KB, `%2F`, the tables' key
//! separators), query strings (repeated, huge, negative and float limits, cursors of any
//! length and alphabet), bodies (not UTF-8 and base64-flagged, deeply nested, wrong types,
//! 1 MB), `Idempotency-Key` and `content-type` values, and the claims a user can write
//! (`name`) or that could arrive malformed (`cognito:groups`). Each answer must be a status
//! the contract documents for the route, never a 5xx or a function error, never SDK or
//! internal text in the body; and none of these requests, all refused or read-only, may
//! change a membership, a claim, an audit entry or a Cognito user.
//!
//! `PROPTEST_CASES` sets the cases per route (64 here by default; `make soak`: 10,000).

use base64::Engine;
use lambda_http::{Body, Request, Response};
use members_tests::TestStack;
use members_tests::seed::{ACME, ACME_INVITEE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use shared::ports::Directory;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

/// What a caller's request may carry.
#[derive(Debug, Clone)]
struct Hostile {
    path_id: String,
    query: Vec<(String, String)>,
    body: Option<(Vec<u8>, bool)>,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    name: String,
    groups: String,
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(&format!(".{{0,{max}}}")).unwrap(),
        Just(String::new()),
        Just("x".repeat(2048)),
        Just("a%2Fb".to_owned()),
        Just("a/b".to_owned()),
        Just("org-acme#acme-carol".to_owned()),
        Just("acme\u{1}carol".to_owned()),
        Just("phone#+447700900103".to_owned()),
        Just("../acme-carol".to_owned()),
        Just("ACME-CAROL".to_owned()),
        Just(" acme-carol".to_owned()),
    ]
}

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any_text(64),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("1.5".to_owned()),
        Just("1e3".to_owned()),
        Just("101".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("verified".to_owned()),
        Just("expired".to_owned()),
        Just("canceled".to_owned()),
        proptest::string::string_regex("[A-Za-z0-9_=-]{0,400}").unwrap(),
        // API Gateway refuses a request line over 10 KB, so a longer one never arrives.
        Just("A".repeat(8_000)),
    ]
}

fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    let key = prop_oneof![
        Just("limit".to_owned()),
        Just("cursor".to_owned()),
        Just("status".to_owned()),
        Just("q".to_owned()),
        Just("action".to_owned()),
        Just("targetId".to_owned()),
        any_text(16),
    ];
    proptest::collection::vec((key, query_value()), 0..4)
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        any_text(40).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(any_text(12), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies that can never be a valid invitation: the phone, where there is one, never starts
/// with `+` (so whatever else is right, nothing is invited).
fn body() -> impl Strategy<Value = Option<(Vec<u8>, bool)>> {
    let invitation_like = || {
        (any_text(120), any_text(20), json_value(), any_text(12)).prop_map(|(name, phone, extra, field)| {
            let phone = format!("0{}", phone.trim_start_matches('+'));
            let mut body = json!({"name": name, "phone": phone, "role": "admin"});
            if !field.is_empty() {
                body[field] = extra;
            }
            body.to_string().into_bytes()
        })
    };
    prop_oneof![
        Just(None),
        json_value().prop_map(|v| Some((v.to_string().into_bytes(), false))),
        invitation_like().prop_map(|b| Some((b, false))),
        invitation_like().prop_map(|b| Some((b, true))),
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(|b| Some((b, true))),
        Just(Some((nested(10_000).into_bytes(), false))),
        Just(Some((format!("{{\"name\": \"{}\", \"phone\": \"0\"}}", "n".repeat(1 << 20)).into_bytes(), false))),
        Just(Some((b"{\"name\": 1, \"phone\": [\"+447700900999\"]}".to_vec(), false))),
        Just(Some((b"not json".to_vec(), false))),
        Just(Some((b"not base64!".to_vec(), true))),
    ]
}

/// Mostly an administrator's, so that the rest of the request is what gets refused.
fn groups() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => Just("[org-admin]".to_owned()),
        4 => Just("[\"org-admin\"]".to_owned()),
        1 => Just("[org-admin".to_owned()),
        1 => Just("org-admin".to_owned()),
        1 => Just("[[org-admin]]".to_owned()),
        1 => Just("[org-admins]".to_owned()),
        1 => Just("[\"org-admin\",]".to_owned()),
        1 => Just(String::new()),
        1 => any_text(40),
    ]
}

fn hostile() -> impl Strategy<Value = Hostile> {
    (
        any_text(200),
        query(),
        body(),
        proptest::option::of(prop_oneof![any_text(300), Just(String::new()), Just("k".repeat(300))]),
        proptest::option::of(prop_oneof![
            any_text(40),
            Just("text/plain".to_owned()),
            Just("application/json; charset=latin1".to_owned())
        ]),
        prop_oneof![any_text(300), Just("Ada Admin".to_owned())],
        groups(),
    )
        .prop_map(|(path_id, query, body, idempotency_key, content_type, name, groups)| Hostile {
            path_id,
            query,
            body,
            idempotency_key,
            content_type,
            name,
            groups,
        })
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The event API Gateway would deliver for `input` on `route` (`method`, path template).
fn event(issuer: &str, method: &str, route: &str, input: &Hostile) -> Option<Request> {
    let path = route.replace("{userId}", &percent(&input.path_id)).replace("{exportId}", &percent(&input.path_id));
    let raw_query: Vec<String> = input.query.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))).collect();
    let mut headers = serde_json::Map::new();
    headers.insert("user-agent".into(), "hostile".into());
    if let Some(key) = &input.idempotency_key {
        // API Gateway passes header values through; a value with control characters never
        // reaches a function, so those are left out.
        if key.chars().any(char::is_control) {
            return None;
        }
        headers.insert("idempotency-key".into(), key.clone().into());
    }
    if let Some(content_type) = &input.content_type {
        if content_type.chars().any(char::is_control) {
            return None;
        }
        headers.insert("content-type".into(), content_type.clone().into());
    }
    let (body, base64) = match &input.body {
        None => (Value::Null, false),
        Some((bytes, true)) => (base64::engine::general_purpose::STANDARD.encode(bytes).into(), true),
        Some((bytes, false)) => match String::from_utf8(bytes.clone()) {
            Ok(text) => (text.into(), false),
            Err(_) => (base64::engine::general_purpose::STANDARD.encode(bytes).into(), true),
        },
    };
    let event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {route}"),
        "rawPath": path,
        "rawQueryString": raw_query.join("&"),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "hostile",
            "authorizer": {"jwt": {"claims": {
                "sub": "a0d1a000-0000-4000-8000-00000000ac01", "cognito:username": "acme-admin",
                "custom:org_id": ACME, "name": input.name, "token_use": "id", "iss": issuer,
                "cognito:groups": input.groups,
            }, "scopes": null}},
            "domainName": "hostile.local", "domainPrefix": "hostile",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "hostile"},
            "requestId": "hostile", "routeKey": format!("{method} {route}"), "stage": "$default",
            "time": "26/Nov/2026:09:00:00 +0000", "timeEpoch": 1795683600000u64,
        },
        "pathParameters": match route {
            r if r.contains("{userId}") => json!({"userId": input.path_id}),
            r if r.contains("{exportId}") => json!({"exportId": input.path_id}),
            _ => Value::Null,
        },
        "body": body,
        "isBase64Encoded": base64,
    });
    Some(lambda_http::request::from_str(&event.to_string()).expect("an event API Gateway could send"))
}

fn check(route: &str, allowed: &[u16], response: &Response<Body>) -> Result<(), TestCaseError> {
    let status = response.status().as_u16();
    prop_assert!(allowed.contains(&status), "{route}: undocumented status {status}");
    if status == 204 {
        return Ok(());
    }
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Body::Empty => String::new(),
        _ => String::new(),
    };
    let json: Value =
        serde_json::from_str(&body).map_err(|_| TestCaseError::fail(format!("{route}: not JSON: {body}")))?;
    if status >= 400 {
        let detail = json["detail"].as_str().unwrap_or_default();
        for internal in ["DynamoDB", "Cognito", "Exception", "dispatch", "Table", "Sdk", "service error", "panicked"] {
            prop_assert!(!detail.contains(internal), "{route}: internal text in {detail:?}");
        }
    }
    Ok(())
}

/// What the hostile requests must leave as it was.
async fn state(stack: &TestStack) -> (usize, Vec<String>, usize, Vec<String>) {
    let members = stack.deps.store.all_members().await.unwrap();
    let claims = stack.deps.store.contact_claims().await.unwrap();
    let mut audit = stack.deps.store.audit_entries(ACME).await.unwrap().len();
    audit += stack.deps.store.audit_entries(members_tests::seed::GLOBEX).await.unwrap().len();
    let mut users: Vec<String> = stack
        .deps
        .directory
        .all_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| format!("{} {:?} {}", u.username, u.status, u.enabled))
        .collect();
    users.sort();
    let mut member_keys: Vec<String> =
        members.iter().map(|m| format!("{} {:?} {:?} {:?}", m.user_id, m.status, m.role, m.cancel_pending)).collect();
    member_keys.sort();
    (claims.len(), member_keys, audit, users)
}

/// `cases()` hostile requests on one route, each answered with a status of `allowed`, on a
/// seeded stack of the route's own, which none of them may change. One test per route, so
/// that libtest runs them side by side (`make soak`'s 10,000 cases per route on two cores).
fn route_answers_and_changes_nothing(method: &'static str, route: &'static str, allowed: &[u16]) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stack = runtime.block_on(TestStack::seeded());
    let before = runtime.block_on(state(&stack));
    let issuer = stack.deps.config.issuer.clone();
    let deps = &stack.deps;
    assert!(runtime.block_on(deps.directory.get_user(ACME_INVITEE.user_id)).unwrap().is_some());
    let exporter = stack.exporter();
    let answers = std::cell::RefCell::new(std::collections::BTreeMap::<u16, usize>::new());
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let result = runner.run(&hostile(), |input| {
        let Some(request) = event(&issuer, method, route, &input) else { return Ok(()) };
        let response = runtime.block_on(async {
            match (method, route) {
                (_, "/members") => list_members::handle(deps, request).await,
                (_, "/audit-log") => list_audit_log::handle(deps, request).await,
                (_, "/audit-log/exports" | "/audit-log/exports/{exportId}") => {
                    Box::pin(export_audit_log::handle(&exporter, request)).await
                }
                (_, "/invitations") => invite_user::handle(deps, request).await,
                (_, "/invitations/{userId}") => cancel_invitation::handle(deps, request).await,
                (_, "/invitations/{userId}/resend") => resend_invitation::handle(deps, request).await,
                ("PATCH", _) => Box::pin(change_member_role::handle(deps, request)).await,
                ("DELETE", _) => Box::pin(remove_member::handle(deps, request)).await,
                (_, "/members/{userId}/suspend") => Box::pin(suspend_member::handle(deps, request)).await,
                _ => Box::pin(reactivate_member::handle(deps, request)).await,
            }
        });
        let response = response.map_err(|e| TestCaseError::fail(format!("{route}: function error {e}")))?;
        *answers.borrow_mut().entry(response.status().as_u16()).or_default() += 1;
        check(route, allowed, &response)
    });
    if let Err(error) = result {
        panic!("{method} {route}: {error}");
    }
    let answers: Vec<String> = answers.borrow().iter().map(|(status, count)| format!("{status}: {count}")).collect();
    println!("hostile input, {method} {route}: {} cases; {}", cases(), answers.join(", "));
    let after = runtime.block_on(state(&stack));
    assert_eq!(before, after, "no hostile request changed a membership, claim, audit entry or Cognito user");
}

#[test]
fn list_members() {
    route_answers_and_changes_nothing("GET", "/members", &[200, 400, 401]);
}

#[test]
fn list_audit_log() {
    route_answers_and_changes_nothing("GET", "/audit-log", &[200, 400, 401, 403]);
}

#[test]
fn invite_user() {
    route_answers_and_changes_nothing("POST", "/invitations", &[400, 401, 403, 409, 422]);
}

#[test]
fn cancel_invitation() {
    route_answers_and_changes_nothing("DELETE", "/invitations/{userId}", &[400, 401, 403, 404, 409, 422]);
}

#[test]
fn resend_invitation() {
    route_answers_and_changes_nothing("POST", "/invitations/{userId}/resend", &[400, 401, 403, 404, 409, 422]);
}

#[test]
fn change_member_role() {
    route_answers_and_changes_nothing("PATCH", "/members/{userId}", &[400, 401, 403, 404, 409, 422]);
}

#[test]
fn suspend_member() {
    route_answers_and_changes_nothing("POST", "/members/{userId}/suspend", &[400, 401, 403, 404, 409, 422]);
}

#[test]
fn reactivate_member() {
    route_answers_and_changes_nothing("POST", "/members/{userId}/reactivate", &[400, 401, 403, 404, 409, 422]);
}

#[test]
fn remove_member() {
    route_answers_and_changes_nothing("DELETE", "/members/{userId}", &[400, 401, 403, 404, 409, 422]);
}

#[test]
fn start_audit_log_export() {
    route_answers_and_changes_nothing("POST", "/audit-log/exports", &[202, 400, 401, 403, 409, 422]);
}

#[test]
fn get_audit_log_export() {
    route_answers_and_changes_nothing("GET", "/audit-log/exports/{exportId}", &[400, 401, 403, 404]);
}

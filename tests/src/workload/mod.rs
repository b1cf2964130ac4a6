//! A randomised concurrent workload: administrators of two organisations invite (from a
//! small pool of phones, so one phone is often invited twice at once), cancel, resend, list,
//! see invitees sign in, and change roles, suspend, reactivate and remove, their members
//! and each other ([`lifecycle`]), from many concurrent callers over several function instances
//! whose AWS clients fail at random calls. Every mutating request carries an
//! `Idempotency-Key` and a 503 is retried with it, as the console does. Then the invariants
//! are checked against what Cognito and DynamoDB hold.
//!
//! Seeded: `WORKLOAD_SEED` replays a run; `WORKLOAD_OPERATIONS`, `WORKLOAD_WORKERS` and
//! `WORKLOAD_FAULT_RATE` size it.

mod lifecycle;

use crate::TestStack;
use crate::chaos::RandomFaults;
use crate::faults::Death;
use lambda_http::{Body, Request, Response};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use shared::Deps;
use shared::domain::{AuditAction, Contact};
use shared::ports::Directory;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Settings {
    pub seed: u64,
    pub operations: usize,
    pub workers: usize,
    /// Function instances: each has its own clients and its own faults.
    pub instances: usize,
    pub fault_rate: f64,
    /// The chance that a mutating request's first attempt runs on an instance that dies at
    /// a random point of it; the console then retries it, with its key, once the lease lapsed.
    pub death_rate: f64,
}

/// The lease of the workload's instances when requests die: longer than any request takes
/// here under load, as the template's (timeout + margin) is longer than any can take there.
pub const DEATH_LEASE: std::time::Duration = std::time::Duration::from_secs(3);

impl Settings {
    /// From the environment, with `operations` unless `WORKLOAD_OPERATIONS` says otherwise;
    /// a seed drawn at random unless `WORKLOAD_SEED` gives one.
    pub fn from_env(operations: usize) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            seed: var("WORKLOAD_SEED").and_then(|v| v.parse().ok()).unwrap_or_else(rand::random),
            operations: var("WORKLOAD_OPERATIONS").and_then(|v| v.parse().ok()).unwrap_or(operations),
            workers: var("WORKLOAD_WORKERS").and_then(|v| v.parse().ok()).unwrap_or(12),
            instances: 4,
            fault_rate: var("WORKLOAD_FAULT_RATE").and_then(|v| v.parse().ok()).unwrap_or(0.03),
            death_rate: var("WORKLOAD_DEATH_RATE").and_then(|v| v.parse().ok()).unwrap_or(0.01),
        }
    }
}

const ORGS: [&str; 2] = ["org-w1", "org-w2"];
/// (sub, organisation, name): three administrators of two organisations.
const ADMINS: [(&str, &str, &str); 3] = [
    ("w1-admin-a", "org-w1", "Wendy Admin"),
    ("w1-admin-b", "org-w1", "Walter Admin"),
    ("w2-admin", "org-w2", "Xena Admin"),
];
const PHONES_PER_ORG: u32 = 12;
const MAX_ATTEMPTS: usize = 25;

fn phone(org_index: usize, n: u32) -> String {
    format!("+4477009{org_index}{n:04}")
}

/// One logical operation and the answer it ended with, after its retries.
#[derive(Debug, Clone)]
pub struct Done {
    pub kind: &'static str,
    pub org: &'static str,
    pub target: Option<String>,
    pub status: u16,
    pub body: Value,
    pub attempts: usize,
    /// The 5xx answers before the last (retried, as the console does).
    pub server_errors: usize,
    /// The request's id, as its audit entry records it (the lifecycle's operations).
    pub request_id: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub settings: Option<Settings>,
    pub done: Vec<Done>,
    pub faults: usize,
    /// Requests whose first attempt died midway.
    pub deaths: usize,
    /// Each invariant, and what broke it (empty when it held).
    pub invariants: Vec<(&'static str, Vec<String>)>,
    /// What the reconciler's pass after the run repaired, when some change's retry was
    /// refused and left its work to it.
    pub final_pass: Option<String>,
}

impl Report {
    pub fn answers(&self) -> BTreeMap<(String, u16), usize> {
        let mut answers = BTreeMap::new();
        for done in &self.done {
            *answers.entry((done.kind.to_owned(), done.status)).or_default() += 1;
        }
        answers
    }

    pub fn held(&self) -> bool {
        self.invariants.iter().all(|(_, broken)| broken.is_empty())
    }

    pub fn summary(&self) -> String {
        let settings = self.settings.as_ref().expect("a run's settings");
        let mut text = format!(
            "workload: seed {} · {} operations · {} workers over {} instances · fault rate {} · death rate {} ({} died) · {} faults injected · {} retries\n",
            settings.seed,
            self.done.len(),
            settings.workers,
            settings.instances,
            settings.fault_rate,
            settings.death_rate,
            self.deaths,
            self.faults,
            self.done.iter().map(|d| d.attempts - 1).sum::<usize>(),
        );
        for ((kind, status), count) in self.answers() {
            text.push_str(&format!("  {kind:<11} {status}: {count}\n"));
        }
        if let Some(repaired) = &self.final_pass {
            text.push_str(&format!("  reconciler after the run (retries refused): {repaired}\n"));
        }
        for (name, broken) in &self.invariants {
            let verdict = if broken.is_empty() { "held".to_owned() } else { format!("BROKEN ({})", broken.len()) };
            text.push_str(&format!("  invariant: {name}: {verdict}\n"));
            for example in broken.iter().take(5) {
                text.push_str(&format!("    {example}\n"));
            }
        }
        text
    }
}

/// An API Gateway HTTP API (payload 2.0) event of `admin`, as the authorizer passes it:
/// every part of it a parameter, as each request of the workload differs in all of them.
#[allow(clippy::too_many_arguments)]
fn event(
    issuer: &str,
    admin: (&str, &str, &str),
    method: &str,
    route: &str,
    path: &str,
    user_id: Option<&str>,
    body: Option<Value>,
    key: Option<&str>,
    request_id: &str,
) -> Request {
    let (sub, org, name) = admin;
    let mut headers = json!({"content-type": "application/json", "user-agent": "workload"});
    if let Some(key) = key {
        headers["idempotency-key"] = key.into();
    }
    let event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {route}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "workload",
            "authorizer": {"jwt": {"claims": {
                "sub": sub, "cognito:username": sub, "custom:org_id": org, "name": name,
                "token_use": "id", "iss": issuer, "cognito:groups": "[org-admin]",
            }, "scopes": null}},
            "domainName": "workload.local",
            "domainPrefix": "workload",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "workload"},
            "requestId": request_id,
            "routeKey": format!("{method} {route}"),
            "stage": "$default",
            "time": "26/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795683600000u64,
        },
        "pathParameters": user_id.map_or(Value::Null, |id| json!({"userId": id})),
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false,
    });
    lambda_http::request::from_str(&event.to_string()).expect("a well-formed event")
}

fn body_json(response: &Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

struct Shared {
    rng: Mutex<StdRng>,
    next: Mutex<usize>,
    /// Users an invitation answered 201 for, by organisation.
    known: Mutex<HashMap<&'static str, Vec<String>>>,
    /// Users who signed in (verified), never to be deleted but by a removal.
    verified: Mutex<HashSet<String>>,
    /// Users a removal answered 204 for.
    removed: Mutex<HashSet<String>>,
    /// One lock per user that a sign-in, a cancel and a resend take: on Cognito a disabled
    /// user cannot sign in, and a RESEND to a confirmed user is refused; the emulator's admin
    /// call that stands for the sign-in ignores the first, and its RESEND resets a confirmed
    /// user to an invitee. (Both interleavings are tested one by one, with Cognito's answers
    /// injected, in tests/cancel_invitation.rs and tests/resend_invitation.rs.)
    user_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    done: Mutex<Vec<Done>>,
    death_rate: f64,
    deaths: std::sync::atomic::AtomicUsize,
    sdk: aws_config::SdkConfig,
}

impl Shared {
    fn lock_of(&self, user: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.user_locks.lock().unwrap().entry(user.to_owned()).or_default().clone()
    }
}

/// Runs the workload on `stack` (an empty one) and checks the invariants.
pub async fn run(stack: &TestStack, settings: Settings) -> Report {
    for (admin, org, _) in ADMINS {
        stack.admit(org, admin, shared::domain::Role::Admin).await;
    }
    let mut instances = Vec::new();
    let mut faults = Vec::new();
    for instance in 0..settings.instances {
        let cognito = RandomFaults::new(settings.seed ^ (2 * instance as u64 + 1), settings.fault_rate);
        let dynamo = RandomFaults::new(settings.seed ^ (2 * instance as u64 + 2) << 8, settings.fault_rate);
        faults.push(cognito.clone());
        faults.push(dynamo.clone());
        let mut deps = stack.instance().cognito(cognito).dynamo(dynamo).deps();
        if settings.death_rate > 0.0 {
            deps.config.lease = DEATH_LEASE;
        }
        // The abuse limits at their most: this workload's small pool of phones would
        // otherwise answer most invitations 429 after a few rounds, hiding the races it is
        // for. tests/tests/emulator/abuse_limits.rs holds them to their boundaries, also concurrently.
        deps.config.limits = shared::quota::Limits {
            invitations_per_org_per_hour: shared::quota::MAX_ALLOWED,
            messages_per_number_per_day: shared::quota::MAX_ALLOWED,
        };
        instances.push(Arc::new(deps));
    }
    let shared = Arc::new(Shared {
        rng: Mutex::new(StdRng::seed_from_u64(settings.seed)),
        next: Mutex::new(0),
        known: Mutex::new(ORGS.iter().map(|org| (*org, Vec::new())).collect()),
        verified: Mutex::default(),
        removed: Mutex::default(),
        user_locks: Mutex::default(),
        done: Mutex::default(),
        death_rate: settings.death_rate,
        deaths: Default::default(),
        sdk: stack.sdk.clone(),
    });
    let issuer = stack.deps.config.issuer.clone();
    let mut workers = Vec::new();
    for worker in 0..settings.workers {
        let shared = shared.clone();
        let instances = instances.clone();
        let healthy = Arc::new(stack.deps.clone());
        let issuer = issuer.clone();
        let operations = settings.operations;
        workers.push(tokio::spawn(async move {
            loop {
                let n = {
                    let mut next = shared.next.lock().unwrap();
                    if *next >= operations {
                        return;
                    }
                    *next += 1;
                    *next
                };
                let instance = instances[(worker + n) % instances.len()].clone();
                let done = Box::pin(one_operation(&shared, &instance, &healthy, &issuer, n)).await;
                shared.done.lock().unwrap().push(done);
            }
        }));
    }
    for worker in workers {
        worker.await.expect("a worker panicked");
    }
    let shared = Arc::into_inner(shared).expect("the workers are done");
    let mut report = Report {
        settings: Some(settings),
        done: shared.done.into_inner().unwrap(),
        faults: faults.iter().map(RandomFaults::injected).sum(),
        deaths: shared.deaths.into_inner(),
        invariants: Vec::new(),
        final_pass: None,
    };
    let verified = shared.verified.into_inner().unwrap();
    // A change whose retry was refused (its caller suspended, removed or demoted meanwhile)
    // leaves its work to the reconciler, as in production: its next pass, once the leases
    // lapsed, runs before the invariants are read.
    let refused_retries =
        report.done.iter().filter(|d| d.kind != "list" && d.kind != "sign-in" && matches!(d.status, 401 | 403)).count();
    if refused_retries > 0 {
        let later = shared::time::now()
            + chrono::Duration::from_std(stack.deps.config.lease).expect("a lease")
            + chrono::Duration::seconds(1);
        let summary = Box::pin(reconciler::reconcile(&stack.deps, later)).await.expect("a reconciler pass");
        report.final_pass = Some(serde_json::to_string(&summary.repaired).unwrap_or_default());
    }
    report.invariants = check(stack, &report.done, &verified).await;
    report
}

async fn one_operation(shared: &Shared, deps: &Deps, healthy: &Deps, issuer: &str, n: usize) -> Done {
    let (roll, admin_index, pick, phone_n, role_admin, with_email, key, lifecycle_kind) = {
        let mut rng = shared.rng.lock().unwrap();
        (
            rng.random_range(0..100u32),
            rng.random_range(0..ADMINS.len()),
            rng.random_range(0..1000usize),
            rng.random_range(0..PHONES_PER_ORG),
            rng.random_bool(0.1),
            rng.random_bool(0.3),
            format!("k-{:016x}", rng.random::<u64>()),
            lifecycle::KINDS[rng.random_range(0..lifecycle::KINDS.len())],
        )
    };
    let death = {
        let mut rng = shared.rng.lock().unwrap();
        rng.random_bool(shared.death_rate).then(|| Death::after(rng.random_range(0..14), rng.random_bool(0.5)))
    };
    // The instance the first attempt runs on, when it is to die midway.
    let dying = death.as_ref().map(|death| {
        let interceptor = || vec![crate::SharedInterceptor::new(death.clone())];
        crate::deps_with(&shared.sdk, deps, interceptor(), interceptor())
    });
    let admin = ADMINS[admin_index];
    let org: &'static str = ADMINS[admin_index].1;
    let org_index = ORGS.iter().position(|o| *o == org).unwrap();
    let target = {
        let known = shared.known.lock().unwrap();
        let users = &known[org];
        // Now and then a user of the other organisation, or one that never existed.
        match pick % 20 {
            0 => known[ORGS[1 - org_index]].first().cloned().or_else(|| Some("nobody".into())),
            1 => Some(format!("ghost-{pick}")),
            _ if users.is_empty() => None,
            _ => Some(users[pick % users.len()].clone()),
        }
    };
    let request_id = format!("w-{n}");
    if (62..80).contains(&roll) {
        let target = lifecycle::target(&shared.known.lock().unwrap()[org], org, pick);
        if let Some(target) = target {
            let lifecycle = lifecycle::operation(
                shared,
                deps,
                dying.as_ref(),
                death.as_ref(),
                issuer,
                admin,
                lifecycle_kind,
                target,
                role_admin || pick % 3 == 0,
                &key,
                &request_id,
            );
            return Box::pin(lifecycle).await;
        }
    }
    match (roll, target) {
        (0..35, _) | (_, None) => {
            let phone = phone(org_index, phone_n);
            let mut body = json!({"name": format!("Invitee {phone_n}"), "phone": phone});
            if with_email {
                body["email"] = format!("i{org_index}{phone_n}@example.com").into();
            }
            if role_admin {
                body["role"] = "admin".into();
            }
            let request = || {
                event(
                    issuer,
                    admin,
                    "POST",
                    "/invitations",
                    "/invitations",
                    None,
                    Some(body.clone()),
                    Some(&key),
                    &request_id,
                )
            };
            if let Some(dying) = &dying {
                died(shared, death.as_ref(), Box::pin(invite_user::handle(dying, request()))).await;
            }
            let done = with_retries("invite", org, None, || Box::pin(invite_user::handle(deps, request()))).await;
            if done.status == 201 {
                let id = done.body["userId"].as_str().unwrap_or_default().to_owned();
                shared.known.lock().unwrap().get_mut(org).unwrap().push(id.clone());
                return Done { target: Some(id), ..done };
            }
            done
        }
        (35..50, Some(target)) => {
            let lock = shared.lock_of(&target);
            let _held = lock.lock().await;
            let path = format!("/invitations/{target}");
            let request = || {
                event(
                    issuer,
                    admin,
                    "DELETE",
                    "/invitations/{userId}",
                    &path,
                    Some(&target),
                    None,
                    Some(&key),
                    &request_id,
                )
            };
            if let Some(dying) = &dying {
                died(shared, death.as_ref(), Box::pin(cancel_invitation::handle(dying, request()))).await;
            }
            let done = with_retries("cancel", org, Some(target.clone()), || {
                Box::pin(cancel_invitation::handle(deps, request()))
            })
            .await;
            if done.status == 204 {
                // Gone: later operations pick among those still there.
                shared.known.lock().unwrap().get_mut(org).unwrap().retain(|user| *user != target);
            }
            done
        }
        (50..80, Some(target)) => {
            let lock = shared.lock_of(&target);
            let _held = lock.lock().await;
            let path = format!("/invitations/{target}/resend");
            let request = || {
                event(
                    issuer,
                    admin,
                    "POST",
                    "/invitations/{userId}/resend",
                    &path,
                    Some(&target),
                    None,
                    Some(&key),
                    &request_id,
                )
            };
            if let Some(dying) = &dying {
                died(shared, death.as_ref(), Box::pin(resend_invitation::handle(dying, request()))).await;
            }
            with_retries("resend", org, Some(target.clone()), || Box::pin(resend_invitation::handle(deps, request())))
                .await
        }
        (80..92, _) => {
            let request = || event(issuer, admin, "GET", "/members", "/members", None, None, None, &request_id);
            with_retries("list", org, None, || Box::pin(list_members::handle(deps, request()))).await
        }
        (_, Some(target)) => sign_in(shared, healthy, org, &target).await,
    }
}

/// A first attempt on an instance that dies midway: its answer never reaches the client,
/// which retries once the lease has lapsed.
async fn died(
    shared: &Shared,
    death: Option<&Death>,
    attempt: impl Future<Output = Result<Response<Body>, lambda_http::Error>>,
) {
    let _ = attempt.await;
    if death.is_some_and(Death::struck) {
        shared.deaths.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(DEATH_LEASE + std::time::Duration::from_millis(100)).await;
    }
}

/// Sends the request until it answers something other than 503 (the console's retry, with
/// the same `Idempotency-Key`), on the same instance.
async fn with_retries<F, Fut>(kind: &'static str, org: &'static str, target: Option<String>, send: F) -> Done
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Response<Body>, lambda_http::Error>>,
{
    let (mut attempts, mut server_errors) = (0, 0);
    loop {
        attempts += 1;
        let response = send().await.expect("a handler answers every request");
        let status = response.status().as_u16();
        let body = body_json(&response);
        if status >= 500 {
            server_errors += 1;
        }
        // 503, and a repeat of a request still at work (after its Retry-After, shortened):
        // retried with the same key, as the console does.
        let again = status == 503 || (status == 409 && body["code"] == "request-in-progress");
        if !again || attempts >= MAX_ATTEMPTS {
            return Done { kind, org, target, status, body, attempts, server_errors, request_id: String::new() };
        }
        if status == 409 {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
}

/// An invitee signs in: Cognito confirms them and runs the trigger.
async fn sign_in(shared: &Shared, deps: &Deps, org: &'static str, target: &str) -> Done {
    let lock = shared.lock_of(target);
    let _held = lock.lock().await;
    let done = |status| Done {
        kind: "sign-in",
        org,
        target: Some(target.to_owned()),
        status,
        body: Value::Null,
        attempts: 1,
        server_errors: 0,
        request_id: String::new(),
    };
    let Ok(Some(user)) = deps.directory.get_user(target).await else { return done(404) };
    if !user.enabled || !user.belongs_to(org) {
        return done(403);
    }
    let set = deps
        .directory
        .client()
        .admin_set_user_password()
        .user_pool_id(deps.directory.user_pool_id())
        .username(target)
        .password(crate::seed::DEMO_PASSWORD)
        .permanent(true)
        .send()
        .await;
    if set.is_err() {
        return done(404);
    }
    shared.verified.lock().unwrap().insert(target.to_owned());
    let event = json!({
        "version": "1", "region": "eu-west-1", "userPoolId": deps.directory.user_pool_id(), "userName": target,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "workload"},
        "triggerSource": "PostAuthentication_Authentication",
        "request": {"userAttributes": {"custom:org_id": org, "cognito:user_status": "CONFIRMED"}, "newDeviceUsed": false},
        "response": {},
    });
    member_verified::mark_verified(&deps.store, &event, "workload-confirm").await;
    done(200)
}

/// The statuses each route may answer in this workload (all documented in the contract).
fn documented(kind: &str, status: u16, body: &Value) -> bool {
    if status == 409 && body["code"] == "request-in-progress" {
        return false; // Retried until it is not: left over, the request never finished.
    }
    // Its caller suspended, removed or demoted meanwhile (by another administrator).
    if (status == 401 && body["code"] == "unauthenticated") || (status == 403 && kind != "sign-in") {
        return true;
    }
    if let Some(documented) = lifecycle::documented(kind, status) {
        return documented;
    }
    match kind {
        "invite" => [201, 409].contains(&status),
        "cancel" => [204, 404, 409].contains(&status),
        "resend" => [202, 404, 409, 429].contains(&status),
        "list" => status == 200,
        "sign-in" => [200, 403, 404].contains(&status),
        _ => false,
    }
}

/// The invariants, read back from the emulator through the SDK.
pub async fn check(stack: &TestStack, done: &[Done], verified: &HashSet<String>) -> Vec<(&'static str, Vec<String>)> {
    let store = &stack.deps.store;
    let members = store.all_members().await.expect("scan members");
    let claims = store.contact_claims().await.expect("scan claims");
    let users = stack.deps.directory.all_users().await.expect("ListUsers");
    let mut orgs: HashSet<&str> = done.iter().map(|d| d.org).collect();
    orgs.extend(members.iter().map(|m| m.org_id.as_str()));
    let mut audit = Vec::new();
    for org in orgs {
        audit.extend(store.audit_entries(org).await.expect("read the log"));
    }
    let user_by_id: HashMap<&str, &shared::ports::DirectoryUser> =
        users.iter().map(|u| (u.username.as_str(), u)).collect();
    let member_of: HashMap<&str, &shared::domain::Member> = members.iter().map(|m| (m.user_id.as_str(), m)).collect();

    let mut statuses = Vec::new();
    for d in done {
        if !documented(d.kind, d.status, &d.body) {
            statuses.push(format!(
                "{} {:?} answered {} after {} attempts: {}",
                d.kind, d.target, d.status, d.attempts, d.body
            ));
        }
    }

    let mut ghosts = Vec::new();
    for member in &members {
        match user_by_id.get(member.user_id.as_str()) {
            None => ghosts.push(format!("membership {} of {} has no Cognito user", member.user_id, member.org_id)),
            Some(user) if !user.belongs_to(&member.org_id) => ghosts
                .push(format!("membership {} of {} but Cognito says {:?}", member.user_id, member.org_id, user.org_id)),
            Some(_) => {}
        }
    }
    let mut stranded = Vec::new();
    for user in &users {
        if !member_of.contains_key(user.username.as_str()) {
            stranded.push(format!(
                "Cognito user {} ({:?}, {:?}) has no membership",
                user.username, user.org_id, user.status
            ));
        }
    }
    let mut claim_faults = Vec::new();
    for claim in &claims {
        let ok = member_of.get(claim.user_id.as_str()).is_some_and(|m| {
            claim.state == shared::ports::ClaimState::Member
                && Contact::all_of(m.phone.as_deref(), m.email.as_deref()).contains(&claim.contact)
        });
        if !ok {
            claim_faults.push(format!(
                "claim {} → {} ({:?}) has no membership holding it",
                claim.contact, claim.user_id, claim.state
            ));
        }
    }
    for member in &members {
        for contact in Contact::all_of(member.phone.as_deref(), member.email.as_deref()) {
            if !claims.iter().any(|c| c.contact == contact && c.user_id == member.user_id.as_str()) {
                claim_faults.push(format!("membership {} holds {contact} without its claim", member.user_id));
            }
        }
    }

    // Each answer its one entry, and no entry without its answer.
    let mut audit_faults = Vec::new();
    let count = |action: AuditAction, target: &str| {
        audit.iter().filter(|e| e.action == action && e.target_id == target).count()
    };
    let answered = |kind: &str, status: u16, target: &str| {
        done.iter().filter(|d| d.kind == kind && d.status == status && d.target.as_deref() == Some(target)).count()
    };
    let mut targets: HashSet<String> = audit.iter().map(|e| e.target_id.clone()).collect();
    targets.extend(done.iter().filter_map(|d| d.target.clone()));
    for target in &targets {
        // A resend's entry still pending on the membership (written by the next resend or
        // cancel) counts, unless it is in the log already and only its clearing failed.
        let pending_resends = member_of
            .get(target.as_str())
            .and_then(|m| m.resend_pending.as_ref())
            .map_or(0, |pending| usize::from(!audit.iter().any(|e| e.id == pending.id)));
        for (action, kind, status, pending) in [
            (AuditAction::Invited, "invite", 201, 0),
            (AuditAction::CanceledInvite, "cancel", 204, 0),
            (AuditAction::ResentInvite, "resend", 202, pending_resends),
        ] {
            let entries = count(action, target) + pending;
            let answers = answered(kind, status, target);
            // A request whose retry was refused (its caller lost their standing) may have
            // done its work first; the reconciler's pass after the run finishes it.
            let refused = answered(kind, 401, target) + answered(kind, 403, target);
            if entries < answers || entries > answers + refused {
                audit_faults
                    .push(format!("{target}: {answers} × {status} to {kind}, {entries} × '{}'", action.as_str()));
            }
        }
    }

    let removed: HashSet<&str> =
        done.iter().filter(|d| d.kind == "remove" && d.status == 204).filter_map(|d| d.target.as_deref()).collect();
    let mut verified_faults = Vec::new();
    for user in verified.iter().filter(|user| !removed.contains(user.as_str())) {
        let kept = user_by_id.get(user.as_str()).is_some_and(|u| u.status == shared::ports::UserState::Confirmed);
        if !kept || !member_of.contains_key(user.as_str()) {
            verified_faults.push(format!("{user} signed in, and is gone or unconfirmed"));
        }
    }

    let mut invariants = vec![
        ("only documented statuses, and no 503 left after retries", statuses),
        ("every membership has its Cognito user, of its organisation", ghosts),
        ("every Cognito user has its membership", stranded),
        ("every contact claim is its member's, and every member's contact claimed", claim_faults),
        ("each 201/204/202 has exactly one audit entry, and no entry lacks its answer", audit_faults),
        ("no user who signed in was deleted but by a removal", verified_faults),
    ];
    invariants.extend(lifecycle::check(stack, done, &audit).await);
    invariants
}

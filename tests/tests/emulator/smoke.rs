//! `main`'s wiring, as a developer runs it: the built binary served by `cargo lambda watch`
//! with the environment `make provision` writes, and a fixture sent by `cargo lambda invoke`.

use members_tests::seed::{ACME, ACME_INVITEE, ACME_INVITEE_2};
use members_tests::{TestStack, workspace_root};
use shared::domain::{AuditAction, MemberStatus};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Stops `cargo lambda watch` and the function it started, however the test ends.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `cargo` as a developer's shell runs it.
fn cargo() -> Command {
    members_tests::as_from_a_shell("cargo", &[])
}

/// Invokes `function` with a fixture, its claims re-issued for this test's pool (the files
/// carry make dev's issuer).
fn invoke(port: u16, function: &str, fixture: &str) -> std::process::Output {
    let text = std::fs::read_to_string(workspace_root().join(fixture)).expect("a fixture");
    let issuer = ISSUER.get().expect("the stack is up");
    let text = text.replace(members_tests::FIXTURE_ISSUER, issuer);
    let file = std::env::temp_dir().join(format!("members-smoke-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, text).expect("write the event");
    let output = cargo()
        .args(["lambda", "invoke", function, "--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
        .arg("--data-file")
        .arg(&file)
        .output()
        .expect("cargo lambda is installed (make test puts it on PATH)");
    let _ = std::fs::remove_file(&file);
    output
}

static ISSUER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_lambda_serves_the_function_and_invokes_a_fixture() {
    use std::os::unix::process::CommandExt;
    let stack = TestStack::seeded().await;
    ISSUER.set(stack.deps.config.issuer.clone()).expect("one stack");
    let env_file = std::env::temp_dir().join(format!("members-smoke-{}.env", uuid::Uuid::new_v4()));
    let port = free_port();
    // export-audit-log invokes itself through Lambda's Invoke API as make dev's local-api
    // serves it in front of cargo lambda watch.
    let lambda_api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lambda_api_url = format!("http://{}", lambda_api.local_addr().unwrap());
    let watched = members_tests::gateway::api::lambda_invoke_api(format!("http://127.0.0.1:{port}"));
    tokio::spawn(async move { axum::serve(lambda_api, members_tests::gateway::lambda_api::router(watched)).await });
    let env = stack
        .provisioned
        .env_file()
        .lines()
        .filter(|line| !line.starts_with("AWS_ENDPOINT_URL_LAMBDA="))
        .fold(format!("AWS_ENDPOINT_URL_LAMBDA={lambda_api_url}\n"), |env, line| env + line + "\n");
    std::fs::write(&env_file, env).unwrap();
    let _served = Served(
        cargo()
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            .arg("--env-file")
            .arg(&env_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("cargo lambda is installed (make test puts it on PATH)"),
    );

    // The first invocation waits for the server to listen and the function to start.
    let deadline = Instant::now() + Duration::from_secs(120);
    let output = loop {
        let output = invoke(port, "cancel-invitation", "events/cancel-invitation/admin-cancels-unverified.json");
        if output.status.success() || Instant::now() > deadline {
            break output;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = std::fs::remove_file(&env_file);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "invoke failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let response: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the invoke prints the response");
    assert_eq!(response["statusCode"], 204, "{response}");
    assert!(!stack.cognito_user_exists(ACME_INVITEE.user_id).await);
    let entries = stack.audit_entries_of(ACME, AuditAction::CanceledInvite).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action.as_str(), "Admin canceled user invite");
    assert_eq!(entries[0].request_id, "cAnc1AAAIAMEbQ=");

    // Every function's binary answers through the same server.
    let listed = invoke(port, "list-members", "events/list-members/admin-lists.json");
    let response: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("a response");
    assert_eq!(response["statusCode"], 200, "{response}");
    let page: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert!(!page["members"].as_array().unwrap().iter().any(|m| m["userId"] == ACME_INVITEE.user_id));

    let invited = invoke(port, "invite-user", "events/invite-user/admin-invites-member.json");
    let response: serde_json::Value = serde_json::from_slice(&invited.stdout).expect("a response");
    assert_eq!(response["statusCode"], 201, "{response}");

    let signed_in = invoke(port, "member-verified", "events/member-verified/invitee-signs-in.json");
    let returned: serde_json::Value = serde_json::from_slice(&signed_in.stdout).expect("the event back");
    let sent: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("events/member-verified/invitee-signs-in.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(returned, sent, "the trigger returns the event unchanged");
    assert_eq!(stack.member(ACME, ACME_INVITEE_2.user_id).await.unwrap().status, MemberStatus::Verified);

    let resent = invoke(port, "resend-invitation", "events/resend-invitation/with-idempotency-key.json");
    let response: serde_json::Value = serde_json::from_slice(&resent.stdout).expect("a response");
    // Cognito, not the mirror the trigger fixture touched, decides: Dan has not verified there.
    assert_eq!(response["statusCode"], 202, "{response}");
    let resent = invoke(port, "resend-invitation", "events/resend-invitation/admin-of-other-org.json");
    let response: serde_json::Value = serde_json::from_slice(&resent.stdout).expect("a response");
    assert_eq!(response["statusCode"], 404, "{response}");

    let log = invoke(port, "list-audit-log", "events/list-audit-log/admin-reads-log.json");
    let response: serde_json::Value = serde_json::from_slice(&log.stdout).expect("a response");
    assert_eq!(response["statusCode"], 200, "{response}");
    let page: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let actions: Vec<&str> =
        page["entries"].as_array().unwrap()[..3].iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["Admin resent user invite", "User accepted invite", "Admin invited user"],
        "newest first: the sign-in wrote the invitee's acceptance"
    );

    // The reconciler, as the schedule invokes it: one pass over pending work (none has
    // lapsed), its summary returned.
    let reconciled = invoke(port, "reconciler", "events/reconciler/scheduled.json");
    let summary: serde_json::Value = serde_json::from_slice(&reconciled.stdout).expect("the summary");
    assert_eq!(summary["checked"]["members"], 0, "{summary}");
    assert_eq!(summary["checked"]["reservations"], 0, "{summary}");
    assert_eq!(summary["reported"]["failures"], 0, "{summary}");
    // The drift audit, as its hourly schedule invokes it: a pass begun and, on this small
    // stack, finished in the one run.
    let audited = invoke(port, "drift-audit", "events/drift-audit/scheduled.json");
    let drift: serde_json::Value = serde_json::from_slice(&audited.stdout).expect("the drift report");
    assert!(drift["membersChecked"].as_u64().unwrap() > 0, "{drift}");
    assert!(drift["usersChecked"].as_u64().unwrap() > 0, "{drift}");
    assert_eq!(drift["failures"], 0, "{drift}");
    assert_eq!((drift["began"].as_bool(), drift["finished"].as_bool()), (Some(true), Some(true)), "{drift}");

    // The same binary refuses what it must refuse.
    let verified = invoke(port, "cancel-invitation", "events/cancel-invitation/verified-target.json");
    let response: serde_json::Value = serde_json::from_slice(&verified.stdout).expect("a response");
    assert_eq!(response["statusCode"], 409);
    let problem: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(problem["code"], "already-verified");

    // The member lifecycle, fixture by fixture: Bob suspended and reactivated; Ada, the
    // last active administrator, refused her own demotion; Bob promoted, then removed.
    for (function, case, status) in [
        ("suspend-member", "admin-suspends-verified", 200),
        ("reactivate-member", "admin-reactivates-after-suspend", 200),
        ("change-member-role", "admin-demotes-last-admin", 409),
        ("change-member-role", "admin-promotes-member", 200),
        ("remove-member", "admin-removes-verified", 204),
    ] {
        let output = invoke(port, function, &format!("events/{function}/{case}.json"));
        let response: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a response");
        assert_eq!(response["statusCode"], status, "{function} {case}: {response}");
    }

    // publish-events, as the stream's mapping invokes it: two new entries, two events on the
    // bus (delivered by the local rule), nothing for Lambda to run again.
    let published = invoke(port, "publish-events", "events/publish-events/new-entries.json");
    let answer: serde_json::Value = serde_json::from_slice(&published.stdout).expect("the batch's answer");
    assert_eq!(answer["batchItemFailures"], serde_json::json!([]), "{answer}");
    let delivered = stack.delivered_events().await;
    let mut types: Vec<&str> = delivered.iter().filter_map(|e| e["detail-type"].as_str()).collect();
    types.sort();
    assert_eq!(types, ["Invitation Created", "Member Role Changed"]);

    // An export: the POST answers 202 at once, the function invokes itself asynchronously
    // through the Lambda API (cargo lambda watch's), and the GET soon reports it ready.
    let started = invoke(port, "export-audit-log", "events/export-audit-log/admin-exports-csv.json");
    let response: serde_json::Value = serde_json::from_slice(&started.stdout).expect("a response");
    assert_eq!(response["statusCode"], 202, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let id = body["exportId"].as_str().unwrap();
    let text =
        std::fs::read_to_string(workspace_root().join("events/export-audit-log/admin-reads-export.json")).unwrap();
    let read = workspace_root().join(format!("target/smoke-read-export-{id}.json"));
    std::fs::write(&read, text.replace("7d3f1c2e-4b5a-4c6d-8e9f-0a1b2c3d4e5f", id)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let output = invoke(port, "export-audit-log", read.to_str().unwrap());
        let response: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a response");
        let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        if body["status"] != "pending" || Instant::now() > deadline {
            break body;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let _ = std::fs::remove_file(&read);
    assert_eq!(status["status"], "ready", "{status}");
    assert!(status["rowCount"].as_u64().unwrap() > 0 && status["url"].as_str().is_some(), "{status}");
}

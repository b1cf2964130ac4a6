//! export-audit-log against the emulator, through the real SDK clients: the records in
//! DynamoDB, the file in S3 (multipart), the presigned URL fetched as a browser would.
//! Its jobs run in this process (where Lambda would run the function invoked by itself):
//! tests/src/exports.rs. The real self-invocation is in the smoke test.

use export_audit_log::jobs::{Job, JobError, JobEvent, Jobs, LambdaJobs};
use export_audit_log::rows::COLUMNS;
use lambda_http::{Body, Request, Response};
use members_tests::exports::download;
use members_tests::faults::{Fault, When};
use members_tests::seed::{ACME, ACME_ADMIN, GLOBEX};
use members_tests::{TestStack, fixture, fixture_with, json_body};
use serde_json::Value;
use shared::domain::{AuditAction, AuditEntry};
use shared::ports::prelude::*;

async fn call<J: Jobs>(exporter: &export_audit_log::Exporter<J>, request: Request) -> Response<Body> {
    let method = request.method().to_string();
    let response = export_audit_log::handle(exporter, request).await.expect("the handler answers every request");
    let route = if method == "POST" { "/audit-log/exports" } else { "/audit-log/exports/{exportId}" };
    members_tests::record(&method, route, &response);
    response
}

/// `GET /audit-log/exports/{id}` as `case` (an administrator's read) asks it.
fn read(case: &str, id: &str) -> Request {
    fixture_with(&format!("export-audit-log/{case}.json"), |event| {
        event["pathParameters"]["exportId"] = id.into();
        event["rawPath"] = format!("/audit-log/exports/{id}").into();
        event["requestContext"]["http"]["path"] = event["rawPath"].clone();
    })
}

/// `POST /audit-log/exports` of `body`.
fn export(body: Value) -> Request {
    fixture_with("export-audit-log/admin-exports-csv.json", |event| {
        event["body"] = body.to_string().into();
        event["headers"]["content-length"] = body.to_string().len().to_string().into();
    })
}

fn entry(org: &str, at: shared::time::Timestamp, target: &str, user_agent: &str) -> AuditEntry {
    AuditEntry {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org.into(),
        action: AuditAction::ResentInvite,
        occurred_at: at,
        actor_id: ACME_ADMIN.sub.into(),
        actor_name: ACME_ADMIN.name.into(),
        target_id: target.into(),
        target_name: format!("=cmd|' /C calc'!{target}"),
        request_id: format!("req-{target}"),
        source_ip: "203.0.113.1".into(),
        user_agent: user_agent.into(),
        role_change: None,
    }
}

#[tokio::test]
async fn an_admin_exports_the_log_as_csv_newest_first_and_downloads_it_through_the_url() {
    let stack = TestStack::seeded().await;
    let canceled = cancel_invitation::handle(&stack.deps, fixture("cancel-invitation/admin-cancels-unverified.json"))
        .await
        .unwrap();
    assert_eq!(canceled.status(), 204);
    let exporter = stack.exporter();

    let started = call(&exporter, fixture("export-audit-log/admin-exports-csv.json")).await;

    assert_eq!(started.status(), 202);
    let body = json_body(&started);
    assert_eq!(body["status"], "pending");
    let id = body["exportId"].as_str().unwrap().to_owned();
    let written = exporter.jobs.finished().await;
    assert_eq!(written.len(), 1, "one job started");
    let ready = json_body(&call(&exporter, read("admin-reads-export", &id)).await);
    assert_eq!(ready["status"], "ready", "{ready}");
    let log = json_body(
        &list_audit_log::handle(
            &stack.deps,
            members_tests::with_query("list-audit-log/admin-reads-log.json", &[("limit", "100")]),
        )
        .await
        .unwrap(),
    );
    let log_ids: Vec<&str> = log["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ready["rowCount"], log_ids.len(), "{ready}");
    let expires = shared::time::parse(ready["urlExpiresAt"].as_str().unwrap()).unwrap();
    let in_ten_minutes = shared::time::now() + chrono::Duration::minutes(10);
    assert!((expires - in_ten_minutes).num_seconds().abs() < 30, "{ready}");

    let (status, headers, bytes) = download(ready["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"audit-log-"));
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let ids: Vec<&str> = rows.iter().map(|row| &row[0]).collect();
    assert_eq!(ids, log_ids, "every entry of the Log, in its order (newest first)");
    let newest = &log["entries"][0];
    assert_eq!(&rows[0][2], "Admin canceled user invite");
    assert_eq!(&rows[0][1], newest["occurredAt"].as_str().unwrap());
    assert_eq!(&rows[0][6], newest["target"]["name"].as_str().unwrap());
    assert_eq!(&rows[0][8], "203.0.113.24");

    // Another organisation's administrator, with the same id: not found, nothing revealed.
    let foreign = call(&exporter, read("other-org-admin-reads-export", &id)).await;
    assert_eq!(foreign.status(), 404);
    assert_eq!(json_body(&foreign)["code"], "not-found");
}

#[tokio::test]
async fn the_range_bounds_retention_and_organisation_decide_the_rows_and_ndjson_has_the_same() {
    let stack = TestStack::seeded().await;
    let now = shared::time::now();
    let at = |days: i64| now - chrono::Duration::days(days);
    let entries = [
        entry(ACME, at(380), "expired", "ua"), // in range, past its retention
        entry(ACME, at(200), "in-range-1", "ua"),
        entry(ACME, at(100), "in-range-2", "-1+1"),
        entry(ACME, at(20), "after-to", "ua"),
        entry(GLOBEX, at(100), "other-org", "ua"),
    ];
    for entry in &entries {
        stack.deps.store.append_audit(entry).await.unwrap();
    }
    let exporter = stack.exporter();
    let range = |format: &str| serde_json::json!({"from": shared::time::rfc3339(at(390)), "to": shared::time::rfc3339(at(30)), "format": format});

    let csv_id = json_body(&call(&exporter, export(range("csv"))).await)["exportId"].as_str().unwrap().to_owned();
    let ndjson_id = json_body(&call(&exporter, export(range("ndjson"))).await)["exportId"].as_str().unwrap().to_owned();
    exporter.jobs.finished().await;

    let csv_ready = json_body(&call(&exporter, read("admin-reads-export", &csv_id)).await);
    assert_eq!(csv_ready["rowCount"], 2, "{csv_ready}");
    let (_, _, bytes) = download(csv_ready["url"].as_str().unwrap()).await;
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(bytes.as_slice()).records().map(Result::unwrap).collect();
    let targets: Vec<&str> = rows.iter().map(|row| &row[5]).collect();
    assert_eq!(targets, ["in-range-2", "in-range-1"], "newest first; none expired, later or another's");
    assert_eq!(&rows[0][6], "'=cmd|' /C calc'!in-range-2", "a formula is text");
    assert_eq!(&rows[0][9], "'-1+1");

    let ndjson_ready = json_body(&call(&exporter, read("admin-reads-export", &ndjson_id)).await);
    let (_, headers, bytes) = download(ndjson_ready["url"].as_str().unwrap()).await;
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> =
        String::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let targets: Vec<&str> = lines.iter().map(|l| l["targetId"].as_str().unwrap()).collect();
    assert_eq!(targets, ["in-range-2", "in-range-1"]);
    assert_eq!(lines[0]["targetName"], "=cmd|' /C calc'!in-range-2", "JSON is not a spreadsheet: as written");
}

#[tokio::test]
async fn bad_input_is_refused_and_starts_nothing() {
    let stack = TestStack::seeded().await;
    let exporter = stack.exporter();
    for (case, status, code) in [
        ("from-after-to", 400, "bad-request"),
        ("range-over-366-days", 400, "bad-request"),
        ("unknown-format", 400, "bad-request"),
        ("unknown-field", 400, "bad-request"),
        ("member-exports", 403, "forbidden"),
        ("no-authorizer", 401, "unauthenticated"),
        ("malformed-export-id", 400, "bad-request"),
        ("admin-reads-export", 404, "not-found"),
        ("other-org-admin-reads-export", 404, "not-found"),
    ] {
        let response = call(&exporter, fixture(&format!("export-audit-log/{case}.json"))).await;
        assert_eq!(response.status(), status, "{case}");
        let problem = json_body(&response);
        assert_eq!(problem["code"], code, "{case}: {problem}");
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    assert!(exporter.jobs.finished().await.is_empty(), "no job started");
    assert!(stack.scan(stack.provisioned.var("EXPORTS_TABLE")).await.is_empty(), "no export recorded");
}

/// A file larger than one part goes up as a multipart upload, whole and in order.
#[tokio::test]
async fn a_file_larger_than_a_part_is_uploaded_in_parts_and_reads_back_whole() {
    let stack = TestStack::with_callers().await;
    let now = shared::time::now();
    let user_agent = "Mozilla/5.0 ".repeat(90); // about 1 kB a row
    let count = 9_000;
    let store = stack.deps.store.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..16 {
        let (store, user_agent) = (store.clone(), user_agent.clone());
        tasks.spawn(async move {
            for i in (chunk..count).step_by(16) {
                let at = now - chrono::Duration::seconds(i as i64 + 1);
                store.append_audit(&entry(ACME, at, &format!("t{i:05}"), &user_agent)).await.unwrap();
            }
        });
    }
    tasks.join_all().await;
    let exporter = stack.exporter();
    let range = serde_json::json!({"from": shared::time::rfc3339(now - chrono::Duration::days(1)), "to": shared::time::rfc3339(now)});

    let id = json_body(&call(&exporter, export(range)).await)["exportId"].as_str().unwrap().to_owned();
    let written = exporter.jobs.finished().await;

    assert!(written[0].parts >= 2, "{:?}", written[0]);
    assert!(written[0].bytes > export_audit_log::file::PART_SIZE as u64);
    let ready = json_body(&call(&exporter, read("admin-reads-export", &id)).await);
    assert_eq!(ready["rowCount"], count);
    let (_, _, bytes) = download(ready["url"].as_str().unwrap()).await;
    assert_eq!(bytes.len() as u64, written[0].bytes);
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(bytes.as_slice()).records().map(Result::unwrap).collect();
    let targets: Vec<String> = rows.iter().map(|row| row[5].to_owned()).collect();
    let expected: Vec<String> = (0..count).map(|i| format!("t{i:05}")).collect();
    assert_eq!(targets, expected, "every row once, newest first");

    // The same export, S3 failing the upload's completion: failed, and its parts given up.
    let failing = stack.exporter_whose_jobs(|twin| {
        let fault = Fault::new("CompleteMultipartUpload", When::BeforeSending, 1);
        let s3 = aws_sdk_s3::config::Builder::from(&stack.sdk).interceptor(fault);
        twin.bucket.client = aws_sdk_s3::Client::from_conf(s3.build());
    });
    let range = serde_json::json!({"from": shared::time::rfc3339(now - chrono::Duration::days(2)), "to": shared::time::rfc3339(now)});
    let id = json_body(&call(&failing, export(range)).await)["exportId"].as_str().unwrap().to_owned();
    assert_eq!(failing.jobs.finished().await[0].status, "failed");
    assert_eq!(json_body(&call(&failing, read("admin-reads-export", &id)).await)["status"], "failed");
    let s3 = aws_sdk_s3::Client::new(&stack.sdk);
    let uploads = s3.list_multipart_uploads().bucket(stack.provisioned.var("EXPORT_BUCKET")).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "no upload left half done: {:?}", uploads.uploads());
}

/// S3 fails while the file is written: the export is failed, the parts given up.
#[tokio::test]
async fn an_export_whose_file_cannot_be_written_is_failed_not_left_pending() {
    let stack = TestStack::seeded().await;
    let exporter = stack.exporter_whose_jobs(|twin| {
        let s3 =
            aws_sdk_s3::config::Builder::from(&stack.sdk).interceptor(Fault::new("PutObject", When::BeforeSending, 1));
        twin.bucket.client = aws_sdk_s3::Client::from_conf(s3.build());
    });

    let id = json_body(&call(&exporter, fixture("export-audit-log/admin-exports-csv.json")).await)["exportId"]
        .as_str()
        .unwrap()
        .to_owned();
    let written = exporter.jobs.finished().await;

    assert_eq!(written[0].status, "failed");
    let failed = json_body(&call(&exporter, read("admin-reads-export", &id)).await);
    assert_eq!(failed, serde_json::json!({"exportId": id, "status": "failed"}));
}

struct Unstartable;

impl Jobs for Unstartable {
    async fn start(&self, _: &Job) -> Result<(), JobError> {
        Err("injected: Lambda throttled the invocation".into())
    }
}

/// The job cannot be started: `503`, and the export, recorded first, is failed (not pending);
/// the `Idempotency-Key` is given back, so that a retry starts again.
#[tokio::test]
async fn an_export_whose_job_cannot_start_answers_503_and_is_failed() {
    let stack = TestStack::seeded().await;
    let exporter = stack.exporter_with(Unstartable);
    let keyed = fixture_with("export-audit-log/admin-exports-csv.json", |event| {
        event["headers"]["idempotency-key"] = "5f0c2e1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b".into();
    });

    let response = call(&exporter, keyed).await;

    assert_eq!(response.status(), 503);
    assert!(stack.scan(&stack.deps.config.tables.idempotency).await.is_empty(), "the key given back");
    assert_eq!(json_body(&response)["code"], "unavailable");
    let items = stack.scan(stack.provisioned.var("EXPORTS_TABLE")).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"].as_s().unwrap(), "failed");
}

/// The same `Idempotency-Key`: the same export, one job.
#[tokio::test]
async fn a_retry_with_the_same_key_answers_the_same_export_and_starts_no_second_job() {
    let stack = TestStack::seeded().await;
    let exporter = stack.exporter();
    let keyed = || {
        fixture_with("export-audit-log/admin-exports-csv.json", |event| {
            event["headers"]["idempotency-key"] = "2b1f8f9e-7a51-4f3c-9d0e-5b7a1c2d3e4f".into();
        })
    };

    let first = json_body(&call(&exporter, keyed()).await);
    let second = json_body(&call(&exporter, keyed()).await);

    assert_eq!(first["exportId"], second["exportId"]);
    assert_eq!(exporter.jobs.finished().await.len(), 1);
}

/// The real adapter: the function's own name, asynchronously, with the job's event. Lambda's
/// Invoke API is served here by a listener that answers as Lambda does (202) and keeps what
/// it was sent.
#[tokio::test]
async fn the_job_is_started_by_invoking_the_function_itself_asynchronously() {
    let stack = TestStack::seeded().await;
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let app = {
        let received = received.clone();
        axum::Router::new().fallback(move |request: axum::extract::Request| {
            let received = received.clone();
            async move {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let kind = parts.headers.get("x-amz-invocation-type").map(|v| v.to_str().unwrap().to_owned());
                received.lock().unwrap().push((parts.uri.path().to_owned(), kind, bytes.to_vec()));
                (axum::http::StatusCode::ACCEPTED, "")
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let lambda = aws_sdk_lambda::config::Builder::from(&stack.sdk).endpoint_url(format!("http://{address}")).build();
    let prefix = stack.deps.config.tables.audit.split_once('-').unwrap().0;
    let name = format!("{prefix}-ExportAuditLogFunction");
    let jobs = LambdaJobs { client: aws_sdk_lambda::Client::from_conf(lambda), function_name: name.clone() };
    let exporter = stack.exporter_with(jobs);

    let started = call(&exporter, fixture("export-audit-log/admin-exports-csv.json")).await;

    assert_eq!(started.status(), 202);
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (path, kind, body) = &received[0];
    assert_eq!(path, &format!("/2015-03-31/functions/{name}/invocations"));
    assert_eq!(kind.as_deref(), Some("Event"), "asynchronously");
    let event: JobEvent = serde_json::from_slice(body).unwrap();
    assert_eq!(
        event.export_job,
        Job { org_id: ACME.into(), export_id: json_body(&started)["exportId"].as_str().unwrap().into() }
    );
}

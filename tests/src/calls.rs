//! Which AWS calls each function makes, recorded as IAM sees them, so that `make test` can
//! hold the template's policies to them (`tests/infra/test_iam.py`).
//!
//! Every SDK client of the tests reaches the emulator through [`recording`], an HTTP client
//! in front of the real one. For each request it names the IAM actions and resources the
//! call needs (a transaction's items each as its own action, a query's index as
//! `Table/index/Name`, any Cognito call on the pool as `UserPool`) and the function that made
//! it: the innermost frame on the stack whose source is under `functions/<name>/`, so that
//! a call from shared code counts for the function that called it. Calls made by no function
//! (the tests' own reads, the seed's provisioning) and by operator tools (`make
//! bootstrap-admin`, `make migrate`: the operator's credentials, not a role) are left out.
//! With `MEMBERS_CALL_LOG` set, each distinct (function, action, resource) is appended to it
//! once per process as a JSON line.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// The sources of tools an operator runs with their own credentials.
const OPERATOR_TOOLS: &[&str] =
    &["functions/invite-user/src/bootstrap.rs", "functions/list-audit-log/src/backfill.rs", "shared/src/backfill.rs"];

/// `inner`, recording what each call needs of IAM.
pub fn recording(inner: SharedHttpClient) -> SharedHttpClient {
    http_client_fn(move |settings, components| {
        SharedHttpConnector::new(Recorder { real: inner.http_connector(settings, components) })
    })
}

#[derive(Debug)]
struct Recorder {
    real: SharedHttpConnector,
}

impl HttpConnector for Recorder {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if std::env::var_os("MEMBERS_CALL_LOG").is_some()
            && let Some(function) = calling_function()
        {
            let target = request.headers().get("x-amz-target").unwrap_or_default();
            let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or_default()).unwrap_or(Value::Null);
            let needed = match target {
                "" => rest_needs(request.method(), request.uri()),
                target => needs(target, &body),
            };
            for (action, resource) in needed {
                write(&function, &action, &resource);
            }
        }
        self.real.call(request)
    }
}

/// The IAM actions and resources (template logical ids) one request needs.
pub fn needs(target: &str, body: &Value) -> Vec<(String, String)> {
    let Some((service, operation)) = target.split_once('.') else { return Vec::new() };
    if service.starts_with("AWSCognitoIdentityProviderService") {
        return vec![(format!("cognito-idp:{operation}"), "UserPool".to_owned())];
    }
    if service == "AWSEvents" {
        let bus = body["Entries"][0]["EventBusName"].as_str().or(body["EventBusName"].as_str()).unwrap_or_default();
        return vec![(format!("events:{operation}"), logical(bus))];
    }
    if service == "AmazonSQS" {
        // SendMessageBatch is authorised as sqs:SendMessage.
        let action = operation.strip_suffix("Batch").unwrap_or(operation);
        let queue = body["QueueUrl"].as_str().and_then(|url| url.rsplit('/').next()).unwrap_or_default();
        return vec![(format!("sqs:{action}"), logical(queue))];
    }
    if service.starts_with("DynamoDBStreams") {
        // The stream's ARN (…:table/<name>/stream/<label>), which a shard iterator begins
        // with too, or the table of ListStreams.
        let table = body["StreamArn"]
            .as_str()
            .or(body["ShardIterator"].as_str())
            .and_then(|arn| arn.split_once(":table/"))
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(table, _)| table)
            .or(body["TableName"].as_str())
            .unwrap_or_default();
        return vec![(format!("dynamodb:{operation}"), format!("{}/stream/*", logical(table)))];
    }
    if !service.starts_with("DynamoDB") {
        return vec![(format!("unknown:{operation}"), "unknown".to_owned())];
    }
    let table = |value: &Value| logical(value.as_str().unwrap_or_default());
    let action = |name: &str| format!("dynamodb:{name}");
    match operation {
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|item| item.as_object().into_iter().flatten())
            .map(|(kind, part)| {
                let name = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    "Get" => "GetItem",
                    other => other,
                };
                (action(name), table(&part["TableName"]))
            })
            .collect(),
        "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| (action(operation), logical(name)))
            .collect(),
        "Query" | "Scan" => {
            let mut resource = table(&body["TableName"]);
            if let Some(index) = body["IndexName"].as_str() {
                resource = format!("{resource}/index/{index}");
            }
            vec![(action(operation), resource)]
        }
        _ => vec![(action(operation), table(&body["TableName"]))],
    }
}

/// The buckets of the template, whose local names are lowercased (S3 allows no capitals).
const BUCKETS: &[&str] = &["ExportBucket"];

/// What a request of a REST API (no `x-amz-target`) needs: S3 (path-style, as the SDK
/// addresses the emulator) and Lambda's Invoke.
pub fn rest_needs(method: &str, uri: &str) -> Vec<(String, String)> {
    let after_authority = uri.split_once("://").map_or(uri, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let (path, query) = after_authority.split_once('?').unwrap_or((after_authority, ""));
    let path = path.trim_start_matches('/');
    if let Some(rest) = path.strip_prefix("2015-03-31/functions/") {
        let name = rest.split('/').next().unwrap_or_default();
        return vec![("lambda:InvokeFunction".to_owned(), logical(name))];
    }
    let bucket = path.split('/').next().unwrap_or_default();
    let physical = logical(bucket);
    let Some(bucket) = BUCKETS.iter().find(|b| b.eq_ignore_ascii_case(&physical)) else {
        return vec![(format!("unknown:{method}"), path.to_owned())];
    };
    let action = match method {
        "DELETE" if query.contains("uploadId") => "s3:AbortMultipartUpload",
        "GET" | "HEAD" => "s3:GetObject",
        // PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload.
        _ => "s3:PutObject",
    };
    vec![(action.to_owned(), format!("{bucket}/*"))]
}

/// Records that `function` needed `action` on `resource` for a request made outside the
/// SDK on its behalf (a presigned URL it signed).
pub fn record_as(function: &str, action: &str, resource: &str) {
    write(function, action, resource);
}

/// A test stack's table name (`<prefix>-<LogicalId>`, local/src/stack.rs) → its logical id.
fn logical(physical: &str) -> String {
    physical.split_once('-').map_or(physical, |(_, logical)| logical).to_owned()
}

/// The function whose code made the call now being sent, if any: the innermost frame whose
/// source is a function's (by file, not by symbol: an integration test is a crate of the
/// same name as the function it tests).
fn calling_function() -> Option<String> {
    static FILES: Mutex<Option<HashMap<usize, Option<String>>>> = Mutex::new(None);
    let mut ips = Vec::new();
    backtrace::trace(|frame| {
        ips.push(frame.ip() as usize);
        true
    });
    let mut files = FILES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let files = files.get_or_insert_with(HashMap::new);
    for ip in ips {
        let file = files.entry(ip).or_insert_with(|| {
            let mut found = None;
            backtrace::resolve(ip as *mut std::ffi::c_void, |symbol| {
                if found.is_none() {
                    found = symbol.filename().map(|path| path.to_string_lossy().replace('\\', "/"));
                }
            });
            found
        });
        let Some(file) = file else { continue };
        if OPERATOR_TOOLS.iter().any(|tool| file.ends_with(tool)) {
            return None;
        }
        // Lambda's event source mapping reads the stream (and sends its on-failure records)
        // with the function's role.
        if file.ends_with("local/src/streams.rs") {
            return Some("PublishEventsFunction".to_owned());
        }
        if let Some(function) = function_of(file) {
            return Some(function);
        }
    }
    None
}

/// `…/functions/invite-user/src/…` → `InviteUserFunction`, the template's logical id.
fn function_of(file: &str) -> Option<String> {
    let (_, rest) = file.rsplit_once("/functions/")?;
    let (folder, _) = rest.split_once("/src/")?;
    let camel: String = folder.split('-').map(|word| word[..1].to_uppercase() + &word[1..]).collect();
    Some(format!("{camel}Function"))
}

fn write(function: &str, action: &str, resource: &str) {
    use std::io::Write;
    static SEEN: Mutex<Option<HashSet<(String, String, String)>>> = Mutex::new(None);
    let Some(path) = std::env::var_os("MEMBERS_CALL_LOG") else { return };
    let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !seen.get_or_insert_with(HashSet::new).insert((function.to_owned(), action.to_owned(), resource.to_owned())) {
        return;
    }
    let line = serde_json::json!({"function": function, "action": action, "resource": resource});
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open the call log");
    writeln!(file, "{line}").expect("write the call log");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_functions_source_names_its_logical_id() {
        assert_eq!(function_of("/w/functions/invite-user/src/lib.rs").as_deref(), Some("InviteUserFunction"));
        assert_eq!(function_of("/w/functions/drift-audit/src/position.rs").as_deref(), Some("DriftAuditFunction"));
        assert_eq!(function_of("/w/shared/src/reclaim.rs"), None);
        assert_eq!(function_of("/w/tests/tests/emulator/invite_user.rs"), None);
    }

    #[test]
    fn a_transaction_needs_each_items_action_on_its_table() {
        let body = serde_json::json!({"TransactItems": [
            {"Put": {"TableName": "t1-QuotasTable"}},
            {"Update": {"TableName": "t1-MembersTable"}},
            {"ConditionCheck": {"TableName": "t1-ContactsTable"}},
        ]});
        assert_eq!(
            needs("DynamoDB_20120810.TransactWriteItems", &body),
            [
                ("dynamodb:PutItem".to_owned(), "QuotasTable".to_owned()),
                ("dynamodb:UpdateItem".to_owned(), "MembersTable".to_owned()),
                ("dynamodb:ConditionCheckItem".to_owned(), "ContactsTable".to_owned()),
            ]
        );
    }

    #[test]
    fn a_query_of_an_index_needs_the_index_and_cognito_needs_the_pool() {
        let body = serde_json::json!({"TableName": "tab-AuditTable", "IndexName": "byTarget"});
        assert_eq!(
            needs("DynamoDB_20120810.Query", &body),
            [("dynamodb:Query".to_owned(), "AuditTable/index/byTarget".to_owned())]
        );
        assert_eq!(
            needs("AWSCognitoIdentityProviderService.AdminCreateUser", &Value::Null),
            [("cognito-idp:AdminCreateUser".to_owned(), "UserPool".to_owned())]
        );
        let batch = serde_json::json!({"RequestItems": {"t9-SearchTable": []}});
        assert_eq!(
            needs("DynamoDB_20120810.BatchWriteItem", &batch),
            [("dynamodb:BatchWriteItem".to_owned(), "SearchTable".to_owned())]
        );
    }

    #[test]
    fn the_bus_the_queue_and_the_stream_are_named_by_their_logical_ids() {
        let put = serde_json::json!({"Entries": [{"EventBusName": "t1-EventBus", "Source": "members-api"}]});
        assert_eq!(needs("AWSEvents.PutEvents", &put), [("events:PutEvents".to_owned(), "EventBus".to_owned())]);
        let send = serde_json::json!({"QueueUrl": "http://127.0.0.1:5000/123456789012/t1-EventsDeadLetterQueue"});
        assert_eq!(
            needs("AmazonSQS.SendMessageBatch", &send),
            [("sqs:SendMessage".to_owned(), "EventsDeadLetterQueue".to_owned())]
        );
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/t1-AuditTable/stream/2026-12-03T00:00:00.000";
        let stream = ("dynamodb:GetRecords".to_owned(), "AuditTable/stream/*".to_owned());
        let iterator = serde_json::json!({"ShardIterator": format!("{arn}|1|AAAA")});
        assert_eq!(needs("DynamoDBStreams_20120810.GetRecords", &iterator), [stream]);
        let list = serde_json::json!({"TableName": "t1-AuditTable"});
        assert_eq!(
            needs("DynamoDBStreams_20120810.ListStreams", &list),
            [("dynamodb:ListStreams".to_owned(), "AuditTable/stream/*".to_owned())]
        );
    }

    #[test]
    fn s3_and_lambda_requests_are_named_by_method_and_path() {
        let s3 = |method, uri| rest_needs(method, uri);
        let put = [("s3:PutObject".to_owned(), "ExportBucket/*".to_owned())];
        assert_eq!(s3("PUT", "http://127.0.0.1:5000/t1-exportbucket/org/x.csv?partNumber=1&uploadId=u"), put);
        assert_eq!(s3("POST", "http://127.0.0.1:5000/t1-exportbucket/org/x.csv?uploads"), put);
        assert_eq!(
            s3("DELETE", "http://127.0.0.1:5000/t1-exportbucket/org/x.csv?uploadId=u"),
            [("s3:AbortMultipartUpload".to_owned(), "ExportBucket/*".to_owned())]
        );
        assert_eq!(
            s3("POST", "http://[::1]:9000/2015-03-31/functions/t1-ExportAuditLogFunction/invocations"),
            [("lambda:InvokeFunction".to_owned(), "ExportAuditLogFunction".to_owned())]
        );
    }
}

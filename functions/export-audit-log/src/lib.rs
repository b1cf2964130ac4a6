//! `POST /audit-log/exports` and `GET /audit-log/exports/{exportId}`: an organisation's audit
//! log taken away as a file, for administrators only.
//!
//! `POST` (body [`range::ExportRange`]): the export's record is written, pending, in the
//! exports table under the caller's organisation ([`records`]); then this same function is
//! invoked asynchronously with the job ([`jobs`]) and the request answers `202
//! {"exportId", "status": "pending"}` at once. If the invocation cannot be made, the
//! record is marked failed and the answer is `503` (nothing was started). An
//! `Idempotency-Key` makes a retry answer the same export.
//!
//! The job ([`write`]) streams the range into the bucket and marks the record `ready` with
//! its row count, or `failed`.
//!
//! `GET`: the caller's organisation's record, else `404` (another organisation's id
//! included). `ready` carries a presigned GET of the file valid ten minutes; `pending` past
//! [`JOB_DEADLINE`] is reported `failed` (a job that died without marking it). An export
//! and its file are kept a day.

pub mod file;
pub mod jobs;
pub mod range;
pub mod records;
pub mod rows;
pub mod write;

use file::Bucket;
use jobs::{Job, JobEvent, Jobs, LambdaJobs};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, Response};
use range::{ExportId, ExportRange};
use records::{Export, ExportRecords, Status};
use serde_json::json;
use shared::config::{Config, ConfigError};
use shared::http::json;
use shared::request::{Access, Admitted, Route};
use shared::store::DynamoStore;
use shared::{ApiError, Deps};

/// A job runs at most the function's timeout (900 s); past this, a pending export is dead.
pub const JOB_DEADLINE: chrono::Duration = chrono::Duration::minutes(16);

/// What the function needs: the store (admission, the audit table), the exports table, the
/// bucket, and a way to start a job.
#[derive(Debug, Clone)]
pub struct Exporter<J = LambdaJobs> {
    pub deps: Deps<(), DynamoStore>,
    pub records: ExportRecords,
    pub bucket: Bucket,
    pub jobs: J,
}

fn required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name))
}

impl Exporter {
    /// From the environment: the shared configuration, `EXPORTS_TABLE`, `EXPORT_BUCKET`, and
    /// the function's own name (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda) to invoke itself.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let (table, bucket, function_name) =
            (required("EXPORTS_TABLE")?, required("EXPORT_BUCKET")?, required("AWS_LAMBDA_FUNCTION_NAME")?);
        let sdk = shared::deps::load_sdk_config().await?;
        let jobs = LambdaJobs { client: aws_sdk_lambda::Client::new(&sdk), function_name };
        Ok(Self::on(config, &sdk, table, bucket, jobs))
    }
}

impl<J> Exporter<J> {
    pub fn on(config: Config, sdk: &aws_config::SdkConfig, table: String, bucket: String, jobs: J) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let store = DynamoStore::new(dynamo.clone(), config.tables.clone()).retaining_audit(config.audit_retention);
        Self {
            deps: Deps { config, directory: (), store },
            records: ExportRecords { client: dynamo, table },
            bucket: Bucket { client: aws_sdk_s3::Client::new(sdk), name: bucket },
            jobs,
        }
    }
}

const STARTED: Route = Route { function: "export-audit-log", outcome: "export-started", access: Access::Administrator };
const READ: Route = Route { function: "export-audit-log", outcome: "export-read", access: Access::Administrator };

/// One invocation: an export's job (the function invoking itself), or an HTTP request.
pub async fn invoked<J: Jobs>(
    exporter: &Exporter<J>,
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
    http: impl AsyncFnOnce(lambda_runtime::LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, Error>,
) -> Result<serde_json::Value, Error> {
    match serde_json::from_value::<JobEvent>(event.payload.clone()) {
        Ok(JobEvent { export_job }) => Ok(serde_json::to_value(write::run(exporter, &export_job).await)?),
        Err(_) => http(event).await,
    }
}

pub async fn handle<J: Jobs>(exporter: &Exporter<J>, request: Request) -> Result<Response<Body>, Error> {
    let deps = &exporter.deps;
    if request.method() == Method::POST {
        shared::request::mutation(deps, request, STARTED, async |request: &Admitted<ExportRange>| {
            start(exporter, request).await
        })
        .await
    } else {
        shared::request::read(deps, request, READ, async |request: &Admitted<ExportId>| status(exporter, request).await)
            .await
    }
}

async fn start<J: Jobs>(exporter: &Exporter<J>, request: &Admitted<ExportRange>) -> Result<Response<Body>, ApiError> {
    let export = Export {
        org_id: request.caller.org_id.clone(),
        export_id: request.derived_id().to_string(),
        range: request.target.clone(),
        status: Status::Pending,
        requested_by: request.caller.id.clone(),
        requested_at: request.now,
        row_count: None,
    };
    exporter.records.create(&export).await?;
    let job = Job { org_id: export.org_id.clone(), export_id: export.export_id.clone() };
    if let Err(error) = exporter.jobs.start(&job).await {
        exporter.records.finish(&export, None).await?;
        return Err(ApiError::unavailable(error));
    }
    Ok(json(StatusCode::ACCEPTED, &json!({"exportId": export.export_id, "status": Status::Pending.as_str()})))
}

async fn status<J>(exporter: &Exporter<J>, request: &Admitted<ExportId>) -> Result<Response<Body>, ApiError> {
    let now = request.now;
    let export = exporter.records.get(&request.caller.org_id, &request.target.0).await?;
    // Past a day the file is gone, whether or not DynamoDB has deleted the record yet.
    let export = export.filter(|export| now < export.requested_at + records::KEPT).ok_or(ApiError::NoSuchExport)?;
    let status = match export.status {
        Status::Pending if now > export.requested_at + JOB_DEADLINE => Status::Failed,
        status => status,
    };
    let mut body = json!({"exportId": export.export_id, "status": status.as_str()});
    if status == Status::Ready {
        let url = exporter.bucket.presigned_get(&export.object_key()).await.map_err(ApiError::unavailable)?;
        body["rowCount"] = json!(export.row_count.unwrap_or(0));
        body["url"] = json!(url);
        let validity = chrono::Duration::seconds(file::URL_VALIDITY.as_secs() as i64);
        body["urlExpiresAt"] = json!(shared::time::rfc3339(now + validity));
    }
    Ok(json(StatusCode::OK, &body))
}

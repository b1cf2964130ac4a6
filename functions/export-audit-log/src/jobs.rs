//! Starting an export's writing: the same function, invoked asynchronously (Lambda `Invoke`,
//! `InvocationType=Event`) with the job's event, [`Job`]. The [`Jobs`] port lets the tests
//! run the job in their own process instead.

use serde::{Deserialize, Serialize};
use std::future::Future;

/// The event of an export's writing: which export (its record says the rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub org_id: String,
    pub export_id: String,
}

/// How the function's own invocations tell a job from an HTTP request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobEvent {
    pub export_job: Job,
}

pub type JobError = Box<dyn std::error::Error + Send + Sync>;

pub trait Jobs: Send + Sync {
    /// Starts `job` and returns once it is handed over (not done).
    fn start(&self, job: &Job) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// This function, asynchronously: `function_name` is its own (`AWS_LAMBDA_FUNCTION_NAME`).
#[derive(Debug, Clone)]
pub struct LambdaJobs {
    pub client: aws_sdk_lambda::Client,
    pub function_name: String,
}

impl Jobs for LambdaJobs {
    async fn start(&self, job: &Job) -> Result<(), JobError> {
        let event = serde_json::to_vec(&JobEvent { export_job: job.clone() })?;
        self.client
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(event))
            .send()
            .await?;
        Ok(())
    }
}

//! export-audit-log on a test stack: the function's exporter on this stack's tables and
//! bucket, its jobs run in this process (where Lambda would run the function invoked
//! asynchronously) so that a test can wait for them; its files read back through the
//! presigned URL it answers with, as a browser reads them.

use crate::TestStack;
use export_audit_log::Exporter;
use export_audit_log::jobs::{Job, JobError, Jobs};
use export_audit_log::write::{self, Written};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// Jobs run in this process, on a twin of the exporter that started them.
#[derive(Clone)]
pub struct InProcessJobs {
    exporter: Arc<Exporter<()>>,
    running: Arc<Mutex<Vec<JoinHandle<Written>>>>,
}

impl std::fmt::Debug for InProcessJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessJobs").finish_non_exhaustive()
    }
}

impl InProcessJobs {
    /// Waits for every job started so far, and what each wrote.
    pub async fn finished(&self) -> Vec<Written> {
        let handles: Vec<_> = std::mem::take(&mut *self.running.lock().unwrap());
        let mut done = Vec::new();
        for handle in handles {
            done.push(handle.await.expect("the job ran"));
        }
        done
    }
}

impl Jobs for InProcessJobs {
    async fn start(&self, job: &Job) -> Result<(), JobError> {
        let (exporter, job) = (self.exporter.clone(), job.clone());
        self.running.lock().unwrap().push(tokio::spawn(async move { write::run(&exporter, &job).await }));
        Ok(())
    }
}

impl TestStack {
    /// The exporter on this stack, its jobs run in this process.
    pub fn exporter(&self) -> Exporter<InProcessJobs> {
        self.exporter_whose_jobs(|_| {})
    }

    /// [`TestStack::exporter`], its jobs' exporter changed by `edit` (a faulty client).
    pub fn exporter_whose_jobs(&self, edit: impl FnOnce(&mut Exporter<()>)) -> Exporter<InProcessJobs> {
        let mut twin = self.exporter_with(());
        edit(&mut twin);
        self.exporter_with(InProcessJobs { exporter: Arc::new(twin), running: Arc::default() })
    }

    /// The exporter on this stack, starting its jobs with `jobs`.
    pub fn exporter_with<J>(&self, jobs: J) -> Exporter<J> {
        let table = self.provisioned.var("EXPORTS_TABLE").to_owned();
        let bucket = self.provisioned.var("EXPORT_BUCKET").to_owned();
        Exporter::on(self.deps.config.clone(), &self.sdk, table, bucket, jobs)
    }
}

/// The file at a presigned `url`, fetched as a browser would; the GET is authorised as the
/// role that signed it (the function's `s3:GetObject`), so it is recorded as its call.
pub async fn download(url: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    crate::calls::record_as("ExportAuditLogFunction", "s3:GetObject", "ExportBucket/*");
    let response = reqwest::get(url).await.expect("the URL answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.expect("the body").to_vec())
}

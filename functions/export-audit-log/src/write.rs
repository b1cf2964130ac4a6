//! An export's writing, the job the function runs when invoked with a [`crate::jobs::Job`]:
//! the range read a DynamoDB page at a time (newest first), each page's rows appended to a
//! buffer that goes up as a part of the file whenever it holds [`PART_SIZE`]: memory holds
//! one part and one page, whatever the range. The export is then marked ready with its row
//! count, or failed (the parts uploaded given up). A second run of the same job (Lambda
//! retries an asynchronous invocation) finds it no longer pending and does nothing; two at
//! once write the same file.

use crate::Exporter;
use crate::file::{FileError, PART_SIZE, Upload};
use crate::jobs::Job;
use crate::records::{Export, Status};
use crate::rows::Rows;

/// What a job did, for its log line and its invocation's answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    pub export_id: String,
    pub status: &'static str,
    pub rows: u64,
    pub bytes: u64,
    pub parts: u64,
    /// DynamoDB pages read, and the time spent waiting for them.
    pub pages: u64,
    pub read_ms: u64,
}

pub async fn run<J>(exporter: &Exporter<J>, job: &Job) -> Written {
    let started = std::time::Instant::now();
    let mut written = Written {
        export_id: job.export_id.clone(),
        status: Status::Failed.as_str(),
        rows: 0,
        bytes: 0,
        parts: 0,
        pages: 0,
        read_ms: 0,
    };
    let export = match exporter.records.get(&job.org_id, &job.export_id).await {
        Ok(Some(export)) if export.status == Status::Pending => export,
        Ok(Some(export)) => {
            tracing::info!(export = %job.export_id, status = export.status.as_str(), "the export is written already");
            written.status = export.status.as_str();
            return written;
        }
        Ok(None) => {
            tracing::error!(export = %job.export_id, org = %job.org_id, "no such export");
            return written;
        }
        Err(error) => {
            tracing::error!(%error, export = %job.export_id, "cannot read the export");
            return written;
        }
    };
    let content_type = export.range.format.content_type();
    let mut upload = exporter.bucket.upload(export.object_key(), content_type, &export.file_name());
    let result = match fill(exporter, &export, &mut upload, &mut written).await {
        Ok(rest) => {
            written.bytes += rest.len() as u64;
            written.parts += 1;
            upload.finish(rest).await
        }
        Err(error) => Err(error),
    };
    if result.is_err() {
        upload.abort().await;
    }
    let rows = match result {
        Ok(()) => Some(written.rows),
        Err(error) => {
            tracing::error!(error = %error, export = %job.export_id, "the export failed");
            None
        }
    };
    match exporter.records.finish(&export, rows).await {
        Ok(()) => written.status = if rows.is_some() { Status::Ready.as_str() } else { Status::Failed.as_str() },
        Err(error) => tracing::error!(%error, export = %job.export_id, "cannot mark the export finished"),
    }
    tracing::info!(
        export = %job.export_id,
        status = written.status,
        rows = written.rows,
        bytes = written.bytes,
        parts = written.parts,
        pages = written.pages,
        read_ms = written.read_ms,
        millis = started.elapsed().as_millis() as u64,
        "export written"
    );
    written
}

/// Reads the range into the file, a part at a time; returns what is left for the last part.
async fn fill<J>(
    exporter: &Exporter<J>,
    export: &Export,
    upload: &mut Upload<'_>,
    written: &mut crate::write::Written,
) -> Result<Vec<u8>, FileError> {
    let mut rows = Rows::new(export.range.format);
    let mut start = None;
    loop {
        let reading = std::time::Instant::now();
        let (entries, next) =
            exporter.deps.store.audit_range_page(&export.org_id, export.range.from, export.range.to, start).await?;
        written.read_ms += reading.elapsed().as_millis() as u64;
        written.pages += 1;
        for entry in &entries {
            rows.push(entry);
        }
        written.rows += entries.len() as u64;
        if rows.len() >= PART_SIZE {
            let part = rows.take();
            written.bytes += part.len() as u64;
            written.parts += 1;
            upload.part(part).await?;
        }
        start = next;
        if start.is_none() {
            return Ok(rows.take());
        }
    }
}

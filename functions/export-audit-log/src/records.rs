//! The exports table (`EXPORTS_TABLE`): one item an export, keyed by the organisation and the
//! export's id, so that a read with the caller's organisation finds none of another's. Each
//! expires (TTL) with its file, a day after it was asked for.

use crate::range::{ExportRange, Format};
use aws_sdk_dynamodb::types::AttributeValue;
use shared::ports::StoreError;
use shared::time::{self, Timestamp};
use std::collections::HashMap;

/// How long an export and its file are kept (the bucket's lifecycle rule: one day).
pub const KEPT: chrono::Duration = chrono::Duration::days(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Ready,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Ready, Self::Failed].into_iter().find(|status| status.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub org_id: String,
    pub export_id: String,
    pub range: ExportRange,
    pub status: Status,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub row_count: Option<u64>,
}

impl Export {
    /// Where its file is in the bucket.
    pub fn object_key(&self) -> String {
        format!("{}/{}.{}", self.org_id, self.export_id, self.range.format.as_str())
    }

    /// The name a browser saves the file under.
    pub fn file_name(&self) -> String {
        let day = |at: Timestamp| at.format("%Y%m%d").to_string();
        format!("audit-log-{}-{}.{}", day(self.range.from), day(self.range.to), self.range.format.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct ExportRecords {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn failed(operation: &'static str, source: impl Into<shared::ports::Cause>) -> StoreError {
    StoreError { operation, source: source.into() }
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    error: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

impl ExportRecords {
    fn key(org_id: &str, export_id: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([("orgId".to_owned(), s(org_id)), ("exportId".to_owned(), s(export_id))])
    }

    /// Writes `export` (pending) if its id is new; `false` when it exists already (a retry
    /// of the same request).
    pub async fn create(&self, export: &Export) -> Result<bool, StoreError> {
        let mut item = Self::key(&export.org_id, &export.export_id);
        item.extend([
            ("status".to_owned(), s(export.status.as_str())),
            ("from".to_owned(), s(&time::sortable(export.range.from))),
            ("to".to_owned(), s(&time::sortable(export.range.to))),
            ("format".to_owned(), s(export.range.format.as_str())),
            ("requestedBy".to_owned(), s(&export.requested_by)),
            ("requestedAt".to_owned(), s(&time::sortable(export.requested_at))),
            ("expiresAt".to_owned(), AttributeValue::N((export.requested_at + KEPT).timestamp().to_string())),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(exportId)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(failed("PutItem", e)),
        }
    }

    /// The organisation's export `export_id`, if there is one still kept.
    pub async fn get(&self, org_id: &str, export_id: &str) -> Result<Option<Export>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(org_id, export_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?;
        let Some(item) = output.item else { return Ok(None) };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let at = |name: &str| text(name).and_then(|t| time::parse(&t));
        let read = || {
            let range = ExportRange { from: at("from")?, to: at("to")?, format: Format::parse(&text("format")?)? };
            Some(Export {
                org_id: org_id.to_owned(),
                export_id: export_id.to_owned(),
                range,
                status: Status::parse(&text("status")?)?,
                requested_by: text("requestedBy")?,
                requested_at: at("requestedAt")?,
                row_count: item.get("rowCount").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()),
            })
        };
        read().map(Some).ok_or_else(|| failed("GetItem", "malformed export record"))
    }

    /// Marks a pending export ready with its row count, or failed (`rows` none); an export
    /// no longer pending (finished by another run of the same job) is left as it is.
    pub async fn finish(&self, export: &Export, rows: Option<u64>) -> Result<(), StoreError> {
        let status = if rows.is_some() { Status::Ready } else { Status::Failed };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&export.org_id, &export.export_id)))
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(Status::Pending.as_str()))
            .expression_attribute_values(":status", s(status.as_str()));
        update = match rows {
            Some(rows) => update
                .update_expression("SET #status = :status, rowCount = :rows")
                .expression_attribute_values(":rows", AttributeValue::N(rows.to_string())),
            None => update.update_expression("SET #status = :status"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }
}

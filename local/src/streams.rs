//! The audit table's stream, run as Lambda's event source mapping runs it (the emulator
//! keeps the stream but runs no mapping): the template's `AuditStreamMapping` settings, each
//! shard read from its oldest record (`TRIM_HORIZON`), batches of records handed to
//! `publish-events` in the event shape Lambda sends, and its answer honoured as Lambda
//! honours it:
//!
//! - `batchItemFailures`: the batch is run again from the lowest failed sequence number
//!   (the records before it are done; the ones after it come again);
//! - a function error: the whole batch again;
//! - after [`MAXIMUM_RETRY_ATTEMPTS`] retries: a record of the batch (shard, first and last
//!   sequence numbers) to the on-failure destination, the dead-letter queue, and the shard
//!   goes on.
//!
//! Its reads are made as Lambda makes them, with the function's role: `ListStreams`,
//! `DescribeStream`, `GetShardIterator`, `GetRecords` (tests/src/calls.rs counts them as
//! publish-events' calls).

use crate::gateway::api::Invoke;
use crate::stack::BoxError;
use aws_config::SdkConfig;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The template's `AuditStreamMapping`: `BatchSize`, `MaximumRetryAttempts`.
pub const BATCH_SIZE: i32 = 100;
pub const MAXIMUM_RETRY_ATTEMPTS: usize = 10;
/// The function the mapping invokes.
pub const FUNCTION: &str = "publish-events";

/// Where each shard of the stream is read from next; `None`: the shard is closed and done.
pub struct StreamPoller {
    streams: aws_sdk_dynamodbstreams::Client,
    sqs: aws_sdk_sqs::Client,
    stream_arn: String,
    region: String,
    on_failure_queue_url: String,
    shards: BTreeMap<String, Option<String>>,
    /// The pause before each retry of a batch (Lambda backs off too; none in the tests).
    retry_pause: std::time::Duration,
}

/// What one pass over the shards did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    pub records: usize,
    pub invocations: usize,
    /// Batches given up on after the retries, sent to the on-failure destination.
    pub batches_given_up: usize,
}

impl StreamPoller {
    /// The poller of `table`'s latest stream, giving up on batches to `on_failure_queue_url`.
    pub async fn new(sdk: &SdkConfig, table: &str, on_failure_queue_url: &str) -> Result<Self, BoxError> {
        let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
        let listed = streams.list_streams().table_name(table).send().await?;
        let stream_arn = listed
            .streams()
            .iter()
            .filter_map(|s| s.stream_arn())
            .max()
            .ok_or_else(|| format!("{table} has no stream: is StreamSpecification in the template?"))?
            .to_owned();
        Ok(Self {
            streams,
            sqs: aws_sdk_sqs::Client::new(sdk),
            stream_arn,
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            on_failure_queue_url: on_failure_queue_url.to_owned(),
            shards: BTreeMap::new(),
            retry_pause: std::time::Duration::ZERO,
        })
    }

    /// The same poller, pausing `pause` before each retry of a batch.
    pub fn pausing(self, pause: std::time::Duration) -> Self {
        Self { retry_pause: pause, ..self }
    }

    /// Reads every shard until it has nothing new, invoking `invoke` with each batch.
    pub async fn poll(&mut self, invoke: &Invoke) -> Result<Polled, BoxError> {
        let mut polled = Polled::default();
        let described = self.streams.describe_stream().stream_arn(&self.stream_arn).send().await?;
        for shard in described.stream_description().map(|d| d.shards()).unwrap_or_default() {
            let Some(id) = shard.shard_id() else { continue };
            if self.shards.contains_key(id) {
                continue;
            }
            let iterator = self
                .streams
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await?;
            self.shards.insert(id.to_owned(), iterator.shard_iterator().map(str::to_owned));
        }
        let shard_ids: Vec<String> = self.shards.keys().cloned().collect();
        for shard in shard_ids {
            while let Some(iterator) = self.shards.get(&shard).cloned().flatten() {
                let output = self.streams.get_records().shard_iterator(&iterator).limit(BATCH_SIZE).send().await?;
                let records = output.records().to_vec();
                self.shards.insert(shard.clone(), output.next_shard_iterator().map(str::to_owned));
                if records.is_empty() {
                    break;
                }
                polled.records += records.len();
                self.run_batch(&shard, records, invoke, &mut polled).await?;
            }
        }
        Ok(polled)
    }

    async fn run_batch(
        &self,
        shard: &str,
        mut batch: Vec<Record>,
        invoke: &Invoke,
        polled: &mut Polled,
    ) -> Result<(), BoxError> {
        for attempt in 0..=MAXIMUM_RETRY_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.retry_pause).await;
            }
            let event = json!({"Records": batch.iter().map(|r| self.lambda_record(r)).collect::<Result<Vec<_>, _>>()?});
            polled.invocations += 1;
            match invoke(FUNCTION.to_owned(), event).await {
                Ok(answer) => {
                    let failed: Vec<&str> = answer["batchItemFailures"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f["itemIdentifier"].as_str())
                        .collect();
                    let Some(lowest) = failed.iter().min() else { return Ok(()) };
                    let from = batch.iter().position(|r| sequence(r) == *lowest).unwrap_or(0);
                    batch.drain(..from);
                }
                Err(error) => tracing::warn!(%error, attempt, "publish-events failed: the batch again"),
            }
        }
        polled.batches_given_up += 1;
        let first = batch.first().map(sequence).unwrap_or_default();
        let last = batch.last().map(sequence).unwrap_or_default();
        let record = json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": MAXIMUM_RETRY_ATTEMPTS + 1},
            "DDBStreamBatchInfo": {
                "shardId": shard, "startSequenceNumber": first, "endSequenceNumber": last,
                "batchSize": batch.len(), "streamArn": self.stream_arn,
            }
        });
        self.sqs.send_message().queue_url(&self.on_failure_queue_url).message_body(record.to_string()).send().await?;
        Ok(())
    }

    /// `record` as Lambda puts it in a DynamoDB stream event.
    fn lambda_record(&self, record: &Record) -> Result<Value, BoxError> {
        let change = record.dynamodb().ok_or("a stream record without its change")?;
        let image = |map: Option<
            &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
        >| { map.map(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone()))).transpose() };
        let mut dynamodb = json!({
            "ApproximateCreationDateTime": change.approximate_creation_date_time().map_or(0.0, |t| t.as_secs_f64().floor()),
            "Keys": image(change.keys.as_ref())?.unwrap_or(json!({})),
            "SequenceNumber": change.sequence_number(),
            "SizeBytes": change.size_bytes(),
            "StreamViewType": change.stream_view_type().map(|v| v.as_str()),
        });
        if let Some(new_image) = image(change.new_image.as_ref())? {
            dynamodb["NewImage"] = new_image;
        }
        if let Some(old_image) = image(change.old_image.as_ref())? {
            dynamodb["OldImage"] = old_image;
        }
        Ok(json!({
            "eventID": record.event_id(),
            "eventName": record.event_name().map(|n| n.as_str()),
            "eventVersion": record.event_version().unwrap_or("1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.aws_region().unwrap_or(&self.region),
            "dynamodb": dynamodb,
            "eventSourceARN": self.stream_arn,
        }))
    }
}

fn sequence(record: &Record) -> &str {
    record.dynamodb().and_then(|d| d.sequence_number()).unwrap_or_default()
}

//! JSON logs, one line per event, filtered by `RUST_LOG` (default `info`; `Targets`
//! directives such as `info` or `shared=debug,info`).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The functions' log format, writing to `writer`: one JSON object per line, carrying the
/// fields of the current span (the request id, actor, organisation and target).
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // `info`, or `target=level` directives separated by commas (no regular expressions).
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(writer)
        .finish()
        .with(filter)
}

pub fn init() {
    // A second call keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}

/// One line of CloudWatch's embedded metric format: `metrics` (counts) of `function`, in the
/// `MembersApi` namespace with the `Function` dimension, which the template's alarms watch.
pub fn metrics_line(function: &str, now: crate::time::Timestamp, metrics: &[(&str, usize)]) -> String {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "MembersApi",
                "Dimensions": [["Function"]],
                "Metrics": metrics.iter().map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        },
        "Function": function,
    });
    for (name, value) in metrics {
        line[*name] = serde_json::json!(value);
    }
    line.to_string()
}

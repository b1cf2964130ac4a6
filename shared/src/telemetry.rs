//! JSON logs, one line per event, filtered by `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The functions' log format, writing to `writer`: one JSON object per line, carrying the
/// fields of the current span (the request id, actor, organisation and target).
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(writer)
        .finish()
}

pub fn init() {
    // A second call keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}

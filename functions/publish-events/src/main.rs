use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let bus = &publish_events::bus_from_env().await.inspect_err(|error| {
        tracing::error!(%error, "cannot start: configuration missing or invalid");
    })?;
    run(service_fn(move |event| publish_events::handle(bus, event))).await
}

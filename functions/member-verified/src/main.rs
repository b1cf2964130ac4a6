use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let tables = shared::config::Tables::from_env()
        .inspect_err(|error| tracing::error!(%error, "cannot start: configuration incomplete"))?;
    let sdk = shared::deps::load_sdk_config().await;
    let store = &member_verified::store(&sdk, tables);
    run(service_fn(move |event| member_verified::handle(store, event))).await
}

use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let (tables, sdk) =
        async { Ok((shared::config::Tables::from_env()?, shared::deps::load_sdk_config().await?)) }.await.inspect_err(
            |error: &shared::config::ConfigError| tracing::error!(%error, "cannot start: configuration missing or invalid"),
        )?;
    let store = &member_verified::store(&sdk, tables);
    run(service_fn(move |event| member_verified::handle(store, event))).await
}

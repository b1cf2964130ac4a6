use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let env = |name: &str| std::env::var(name).ok();
    let (tables, retention, sdk) = async {
        let tables = shared::config::Tables::from_env()?;
        Ok((tables, shared::config::audit_retention(&env)?, shared::deps::load_sdk_config().await?))
    }
    .await
    .inspect_err(
        |error: &shared::config::ConfigError| tracing::error!(%error, "cannot start: configuration missing or invalid"),
    )?;
    let store = &member_verified::store(&sdk, tables, retention);
    run(service_fn(move |event| member_verified::handle(store, event))).await
}

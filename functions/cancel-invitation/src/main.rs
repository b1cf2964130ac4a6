use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let deps = shared::Deps::from_env().await.inspect_err(|error| {
        tracing::error!(%error, "cannot start: configuration incomplete");
    })?;
    let deps = &deps;
    run(service_fn(move |request| cancel_invitation::handle(deps, request))).await
}

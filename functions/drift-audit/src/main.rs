use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let deps = &shared::start().await?;
    run(service_fn(move |event| drift_audit::handle(deps, event))).await
}

use lambda_http::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let deps = &shared::deps::start_store_only().await?;
    run(service_fn(move |request| list_audit_log::handle(deps, request))).await
}

use lambda_http::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let deps = &shared::start().await?;
    run(service_fn(move |request| remove_member::handle(deps, request))).await
}

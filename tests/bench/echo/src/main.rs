//! An echo on `lambda_http` (API Gateway payload 2.0 in, a response out), no AWS client:
//! the baseline of an HTTP function's memory and per-request cost.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|request: Request| async move {
        Ok::<_, Error>(
            Response::builder()
                .status(401)
                .header("content-type", "application/json")
                .body(Body::from(format!("{{\"path\":\"{}\"}}", request.uri().path())))?,
        )
    }))
    .await
}

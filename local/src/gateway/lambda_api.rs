//! Lambda's Invoke API, as a function calling another (export-audit-log invoking itself)
//! reaches it, in front of `cargo lambda watch`, which runs each invocation to its end before
//! answering, one at a time per function: a function invoking itself asynchronously there
//! would wait for itself. Here, as on Lambda, an asynchronous invocation
//! (`X-Amz-Invocation-Type: Event`) is answered `202` at once and run after; a synchronous
//! one is passed through. Functions find it through the SDK's own per-service endpoint
//! variable, `AWS_ENDPOINT_URL_LAMBDA` (`.local/env`).

use super::api::Invoke;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Where `make dev` serves it (`LAMBDA_API_URL`).
pub const DEFAULT_URL: &str = "http://127.0.0.1:9001";

pub fn router(invoke: Invoke) -> axum::Router {
    axum::Router::new()
        .route("/2015-03-31/functions/{function}/invocations", axum::routing::post(invoked))
        .with_state(invoke)
}

async fn invoked(
    State(invoke): State<Invoke>,
    Path(function): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let event: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(_) => return (StatusCode::BAD_REQUEST, "the payload is not JSON").into_response(),
    };
    let asynchronous = headers.get("x-amz-invocation-type").is_some_and(|kind| kind == "Event");
    if asynchronous {
        tokio::spawn(async move {
            if let Err(error) = invoke(function.clone(), event).await {
                eprintln!("lambda-api: the asynchronous invocation of {function} failed: {error}");
            }
        });
        return StatusCode::ACCEPTED.into_response();
    }
    match invoke(function, event).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => {
            let mut response =
                axum::Json(serde_json::json!({"errorType": "Unhandled", "errorMessage": error})).into_response();
            response.headers_mut().insert("x-amz-function-error", "Unhandled".parse().expect("a header value"));
            response
        }
    }
}

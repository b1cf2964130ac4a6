//! Reading what API Gateway tells us about a request, and writing JSON responses.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};
use serde::Serialize;

/// Where a request came from, as the audit log records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
}

impl RequestMeta {
    pub fn from_request(request: &Request) -> Self {
        let lambda_request_id = || request.lambda_context_ref().map(|context| context.request_id.clone());
        match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => Self {
                request_id: context.request_id.clone().or_else(lambda_request_id).unwrap_or_default(),
                source_ip: context.http.source_ip.clone().unwrap_or_default(),
                user_agent: context.http.user_agent.clone().unwrap_or_default(),
            },
            _ => Self { request_id: lambda_request_id().unwrap_or_default(), ..Self::default() },
        }
    }
}

pub fn path_parameter(request: &Request, name: &str) -> Option<String> {
    request.path_parameters_ref().and_then(|params| params.first(name)).map(str::to_owned)
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_string(value).unwrap_or_default();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

//! Reading what API Gateway tells us about a request, and writing JSON responses.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};
use serde::Serialize;

pub use crate::domain::RequestMeta;

/// Where `request` came from, as API Gateway tells it.
pub fn request_meta(request: &Request) -> RequestMeta {
    let lambda_request_id = || request.lambda_context_ref().map(|context| context.request_id.clone());
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => RequestMeta {
            request_id: context.request_id.clone().or_else(lambda_request_id).unwrap_or_default(),
            source_ip: context.http.source_ip.clone().unwrap_or_default(),
            user_agent: context.http.user_agent.clone().unwrap_or_default(),
        },
        _ => RequestMeta { request_id: lambda_request_id().unwrap_or_default(), ..RequestMeta::default() },
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

/// The body as `T`, refusing unknown fields; the error names the field at fault.
pub fn parse_json_body<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, crate::ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(crate::ApiError::BadRequest("The body must be a JSON object.".into()));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // serde's own wording names the field or the fault, never anything of ours.
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        let detail = if path.is_empty() || path == "." {
            format!("The body is not valid: {message}.")
        } else {
            format!("The body is not valid: {path}: {message}.")
        };
        crate::ApiError::BadRequest(detail)
    })
}

/// The query parameters, refusing any not in `allowed` and any given twice.
pub fn query_parameters(
    request: &Request,
    allowed: &[&str],
) -> Result<std::collections::HashMap<String, String>, crate::ApiError> {
    let mut parameters = std::collections::HashMap::new();
    if let Some(query) = request.query_string_parameters_ref() {
        for (name, value) in query.iter() {
            if !allowed.contains(&name) {
                return Err(crate::ApiError::BadRequest(format!(
                    "Unknown query parameter {name:?}; allowed: {}.",
                    allowed.join(", ")
                )));
            }
            if parameters.insert(name.to_owned(), value.to_owned()).is_some() {
                return Err(crate::ApiError::BadRequest(format!("Query parameter {name:?} is given twice.")));
            }
        }
    }
    Ok(parameters)
}

/// `limit`: 1 to `max`, `default` when absent.
pub fn parse_limit(raw: Option<&String>, default: usize, max: usize) -> Result<usize, crate::ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=max).contains(limit))
            .ok_or_else(|| crate::ApiError::BadRequest(format!("limit must be a whole number from 1 to {max}."))),
    }
}

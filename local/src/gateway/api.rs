//! The local HTTP API: what API Gateway does in front of the functions. Preflights answered
//! from the template's CORS configuration; the route matched (else `404 Not Found`); the
//! JWT authorizer applied (else `401 Unauthorized` with `www-authenticate`, and no function
//! called); a payload 2.0 event handed to the function through the Lambda Invoke API; its
//! answer turned into the HTTP response (a function error or a malformed answer: `500`).

use super::authorizer::Authorizer;
use super::routes::{Api, Cors, Route};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use base64::Engine;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayV2httpRequest,
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpResponse,
};
use lambda_http::aws_lambda_events::encodings::Body as LambdaBody;
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

pub type Invocation = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;
/// Calls a function by name with an event and returns what it answered.
pub type Invoke = Arc<dyn Fn(String, Value) -> Invocation + Send + Sync>;

/// The Lambda Invoke API at `base` (what `cargo lambda watch` serves).
pub fn lambda_invoke_api(base: String) -> Invoke {
    let http = reqwest::Client::new();
    Arc::new(move |function, event| {
        let (http, url) = (http.clone(), format!("{base}/2015-03-31/functions/{function}/invocations"));
        Box::pin(async move {
            let response = http.post(&url).json(&event).send().await.map_err(|e| format!("invoke {url}: {e}"))?;
            let failed = response.headers().contains_key("x-amz-function-error") || !response.status().is_success();
            let body: Value = response.json().await.map_err(|e| format!("the answer is not JSON: {e}"))?;
            if failed || body.get("errorType").is_some() {
                return Err(format!("the function failed: {body}"));
            }
            Ok(body)
        })
    })
}

pub struct Gateway {
    pub api: Api,
    pub authorizer: Authorizer,
    pub invoke: Invoke,
}

pub fn router(gateway: Arc<Gateway>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(gateway)
}

fn message(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(serde_json::json!({ "message": text }).to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}

fn allowed_origin<'a>(cors: &Cors, headers: &'a HeaderMap) -> Option<&'a str> {
    let origin = headers.get("origin")?.to_str().ok()?;
    cors.allow_origins.iter().any(|o| o == "*" || o == origin).then_some(origin)
}

/// A preflight: answered by the gateway, never by a function. CORS headers only for an
/// allowed origin asking for an allowed method and headers.
fn preflight(cors: &Cors, headers: &HeaderMap) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let method = headers.get("access-control-request-method").and_then(|m| m.to_str().ok()).unwrap_or("");
    let requested: Vec<String> = headers
        .get("access-control-request-headers")
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(',').map(|x| x.trim().to_ascii_lowercase()).filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    let method_ok = cors.allow_methods.iter().any(|m| m == "*" || m.eq_ignore_ascii_case(method));
    let headers_ok = requested.iter().all(|h| cors.allow_headers.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(h)));
    if let Some(origin) = allowed_origin(cors, headers).filter(|_| method_ok && headers_ok) {
        let out = response.headers_mut();
        out.insert("access-control-allow-origin", HeaderValue::from_str(origin).unwrap());
        out.insert("access-control-allow-methods", HeaderValue::from_str(&cors.allow_methods.join(",")).unwrap());
        out.insert("access-control-allow-headers", HeaderValue::from_str(&cors.allow_headers.join(",")).unwrap());
        if let Some(max_age) = cors.max_age {
            out.insert("access-control-max-age", HeaderValue::from(max_age));
        }
    }
    response
}

/// CORS headers on an actual response, for an allowed origin.
fn with_cors(cors: &Cors, request_headers: &HeaderMap, mut response: Response<Body>) -> Response<Body> {
    if let Some(origin) = allowed_origin(cors, request_headers) {
        let out = response.headers_mut();
        out.insert("access-control-allow-origin", HeaderValue::from_str(origin).unwrap());
        if !cors.expose_headers.is_empty() {
            out.insert("access-control-expose-headers", HeaderValue::from_str(&cors.expose_headers.join(",")).unwrap());
        }
        out.append("vary", HeaderValue::from_static("origin"));
    }
    response
}

async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let cors = &gateway.api.cors;
    if parts.method == Method::OPTIONS && parts.headers.contains_key("access-control-request-method") {
        return preflight(cors, &parts.headers);
    }
    let path = parts.uri.path().to_owned();
    let matched = gateway.api.routes.iter().find_map(|r| r.matches(parts.method.as_str(), &path).map(|p| (r, p)));
    let Some((route, parameters)) = matched else {
        return with_cors(cors, &parts.headers, message(StatusCode::NOT_FOUND, "Not Found"));
    };
    let authorization = parts.headers.get("authorization").and_then(|h| h.to_str().ok());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let claims = match gateway.authorizer.authorize(authorization, now).await {
        Ok(claims) => claims,
        Err(refusal) => {
            let mut response = message(StatusCode::UNAUTHORIZED, "Unauthorized");
            let challenge = if authorization.is_none() {
                "Bearer".to_owned()
            } else {
                format!("Bearer error=\"invalid_token\" error_description=\"{}\"", refusal.reason)
            };
            response.headers_mut().insert("www-authenticate", HeaderValue::from_str(&challenge).unwrap());
            return with_cors(cors, &parts.headers, response);
        }
    };
    let body = match axum::body::to_bytes(body, 10 * 1024 * 1024).await {
        Ok(body) => body,
        Err(_) => {
            return with_cors(cors, &parts.headers, message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"));
        }
    };
    let event = event(route, parameters, &parts, body, claims, peer);
    let response = match (gateway.invoke)(route.function.clone(), event).await {
        Ok(answer) => http_response(answer).unwrap_or_else(|problem| {
            eprintln!("local API: {} answered malformed: {problem}", route.function);
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }),
        Err(problem) => {
            eprintln!("local API: {problem}");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    };
    with_cors(cors, &parts.headers, response)
}

/// The payload 2.0 event API Gateway sends for this request.
fn event(
    route: &Route,
    parameters: Vec<(String, String)>,
    parts: &axum::http::request::Parts,
    body: Bytes,
    claims: std::collections::HashMap<String, String>,
    peer: SocketAddr,
) -> Value {
    let now = chrono::Utc::now();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let mut query: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for (name, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(&raw_query).unwrap_or_default() {
        query.entry(name).or_default().push(value);
    }
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in parts.headers.keys() {
        let values: Vec<&str> = parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if name == "cookie" {
            cookies.extend(values.iter().flat_map(|v| v.split(';')).map(|c| c.trim().to_owned()));
            continue;
        }
        if let Ok(joined) = HeaderValue::from_str(&values.join(",")) {
            headers.insert(HeaderName::from(name), joined);
        }
    }
    let user_agent = parts.headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();

    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims = claims;
    jwt.scopes = None;
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(route.key());
    context.account_id = Some("123456789012".into());
    context.stage = Some("$default".into());
    context.request_id = Some(format!("{}=", &uuid::Uuid::new_v4().simple().to_string()[..14]));
    context.authorizer = Some(authorizer);
    context.apiid = Some("local".into());
    context.domain_name = parts.headers.get("host").and_then(|h| h.to_str().ok()).map(str::to_owned);
    context.domain_prefix = Some("local".into());
    context.time = Some(now.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    context.time_epoch = now.timestamp_millis();
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_owned());
    context.http.protocol = Some("HTTP/1.1".into());
    context.http.source_ip = Some(peer.ip().to_string());
    context.http.user_agent = Some(user_agent);

    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".into());
    event.route_key = Some(route.key());
    event.raw_path = Some(parts.uri.path().to_owned());
    event.raw_query_string = Some(raw_query);
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = headers;
    event.query_string_parameters = query.into();
    event.path_parameters = parameters.into_iter().collect();
    event.request_context = context;
    if !body.is_empty() {
        match std::str::from_utf8(&body) {
            Ok(text) => event.body = Some(text.to_owned()),
            Err(_) => {
                event.body = Some(base64::engine::general_purpose::STANDARD.encode(&body));
                event.is_base64_encoded = true;
            }
        }
    }
    let mut json = serde_json::to_value(&event).unwrap_or(Value::Null);
    // Fields of the type that belong to other payloads, not to what API Gateway sends.
    if let Some(object) = json.as_object_mut() {
        for legacy in ["type", "methodArn", "httpMethod", "identitySource", "authorizationToken", "resource"] {
            object.remove(legacy);
        }
    }
    json
}

/// The function's payload 2.0 answer as the HTTP response.
fn http_response(answer: Value) -> Result<Response<Body>, String> {
    if answer.get("statusCode").is_none() {
        return Err("no statusCode".into());
    }
    let parsed: ApiGatewayV2httpResponse = serde_json::from_value(answer).map_err(|e| e.to_string())?;
    let status =
        u16::try_from(parsed.status_code).ok().and_then(|s| StatusCode::from_u16(s).ok()).ok_or("bad statusCode")?;
    let body = match parsed.body {
        Some(LambdaBody::Text(text)) if parsed.is_base64_encoded => {
            Body::from(base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| e.to_string())?)
        }
        Some(LambdaBody::Text(text)) => Body::from(text),
        Some(LambdaBody::Binary(bytes)) => Body::from(bytes),
        Some(LambdaBody::Empty) | None => Body::empty(),
        Some(_) => return Err("unknown body".into()),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in parsed.headers.iter().chain(parsed.multi_value_headers.iter()) {
        response.headers_mut().append(name, value.clone());
    }
    for cookie in parsed.cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append("set-cookie", value);
        }
    }
    Ok(response)
}

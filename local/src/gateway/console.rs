//! The reference console's origin: its static files (`console/`, the Cognito library
//! vendored from npm), its `config.json`, and `/cognito`, the user pool's endpoint as the
//! console sees it. That one forwards to the emulator and, because the emulator calls no
//! triggers, calls `member-verified` as Cognito would: PostConfirmation when an invitee sets
//! their password (answering NEW_PASSWORD_REQUIRED), PostAuthentication after every sign-in
//! that returns tokens, each before the tokens are returned.

use super::api::Invoke;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Console {
    pub root: PathBuf,
    pub config: Value,
    pub endpoint: String,
    pub region: String,
    pub user_pool_id: String,
    pub trigger_function: String,
    pub invoke: Invoke,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub http: reqwest::Client,
}

/// The console's Content-Security-Policy: its own files only, no inline script or style, no
/// plugin, no framing; it talks to its own origin (the Cognito proxy, its configuration) and
/// the API. A real host sends the same with the API's and Cognito's origins in `connect-src`
/// (docs/local.md).
pub fn content_security_policy(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {api}; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

pub fn router(console: Arc<Console>) -> axum::Router {
    let files = tower_http::services::ServeDir::new(console.root.join("public"));
    let vendor = tower_http::services::ServeDir::new(console.root.join("node_modules"));
    let api_url = console.config["apiUrl"].as_str().unwrap_or_default().to_owned();
    let policy =
        axum::http::HeaderValue::from_str(&content_security_policy(&api_url)).expect("a policy of visible ASCII");
    axum::Router::new()
        .route("/config.json", get(config))
        .route("/cognito", post(cognito))
        .route("/cognito/", post(cognito))
        .nest_service("/vendor", vendor)
        .fallback_service(files)
        .with_state(console)
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CONTENT_SECURITY_POLICY,
            policy,
        ))
}

async fn config(State(console): State<Arc<Console>>) -> axum::Json<Value> {
    axum::Json(console.config.clone())
}

async fn cognito(State(console): State<Arc<Console>>, headers: HeaderMap, body: Bytes) -> Response<Body> {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = if target.ends_with(".InitiateAuth") { console.resolve_alias(body).await } else { body };
    let mut forward = console.http.post(&console.endpoint).body(body.clone());
    for name in ["content-type", "x-amz-target", "x-amz-user-agent"] {
        if let Some(value) = headers.get(name) {
            forward = forward.header(name, value.clone());
        }
    }
    let answered = match forward.send().await {
        Ok(answered) => answered,
        Err(error) => return plain(StatusCode::BAD_GATEWAY, format!("the emulator did not answer: {error}")),
    };
    let status = answered.status();
    let content_type = answered.headers().get("content-type").cloned();
    let bytes = answered.bytes().await.unwrap_or_default();
    if status.is_success() {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let result: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let Some(id_token) = result["AuthenticationResult"]["IdToken"].as_str() {
            let set_password = target.ends_with(".RespondToAuthChallenge")
                && request["ChallengeName"].as_str() == Some("NEW_PASSWORD_REQUIRED");
            let client_id = request["ClientId"].as_str().unwrap_or_default();
            if let Err(problem) = console.run_triggers(id_token, client_id, set_password).await {
                // Cognito fails the sign-in when a trigger fails; our trigger never fails one.
                eprintln!("console: trigger: {problem}");
            }
        }
    }
    // Cognito names the user for SRP by their username in a pool with alias attributes (as
    // this one); the emulator gives their `sub`, which it then does not accept back.
    let bytes = if target.ends_with(".InitiateAuth") && status.is_success() {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut answer) if answer["ChallengeParameters"]["USERNAME"].is_string() => {
                answer["ChallengeParameters"]["USER_ID_FOR_SRP"] = answer["ChallengeParameters"]["USERNAME"].clone();
                Bytes::from(answer.to_string())
            }
            _ => bytes,
        }
    } else {
        bytes
    };
    let bytes = if status.is_success() { console.complete_challenge(bytes).await } else { bytes };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    if let Some(content_type) = content_type.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
        response.headers_mut().insert("content-type", content_type);
    }
    response
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

impl Console {
    /// Cognito's NEW_PASSWORD_REQUIRED challenge carries the user's attributes and those
    /// still required (as JSON text); the emulator's carries neither, which clients parse.
    async fn complete_challenge(&self, bytes: Bytes) -> Bytes {
        let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else { return bytes };
        if answer["ChallengeName"].as_str() != Some("NEW_PASSWORD_REQUIRED")
            || answer["ChallengeParameters"]["userAttributes"].is_string()
        {
            return bytes;
        }
        let parameters = &answer["ChallengeParameters"];
        let Some(username) = parameters["USER_ID_FOR_SRP"].as_str().or(parameters["USERNAME"].as_str()) else {
            return bytes;
        };
        let Ok(user) = self.cognito.admin_get_user().user_pool_id(&self.user_pool_id).username(username).send().await
        else {
            return bytes;
        };
        let attributes: serde_json::Map<String, Value> = user
            .user_attributes()
            .iter()
            .filter(|a| a.name() != "sub")
            .map(|a| (a.name().to_owned(), json!(a.value().unwrap_or_default())))
            .collect();
        answer["ChallengeParameters"]["userAttributes"] = json!(Value::Object(attributes).to_string());
        answer["ChallengeParameters"]["requiredAttributes"] = json!("[]");
        Bytes::from(answer.to_string())
    }

    /// People sign in with their phone number or email, which the pool holds as aliases;
    /// Cognito resolves a verified alias to the username, the emulator does not: done here,
    /// so that SRP goes on with the real username (Cognito returns it as USER_ID_FOR_SRP).
    async fn resolve_alias(&self, body: Bytes) -> Bytes {
        let Ok(mut request) = serde_json::from_slice::<Value>(&body) else { return body };
        let Some(given) = request["AuthParameters"]["USERNAME"].as_str().map(str::to_owned) else { return body };
        let (attribute, verified) = if given.starts_with('+') {
            ("phone_number", "phone_number_verified")
        } else if given.contains('@') {
            ("email", "email_verified")
        } else {
            return body;
        };
        let value = if attribute == "email" { given.to_lowercase() } else { given.clone() };
        let Ok(found) = self
            .cognito
            .list_users()
            .user_pool_id(&self.user_pool_id)
            .filter(format!("{attribute} = \"{}\"", value.replace(['"', '\\'], "")))
            .send()
            .await
        else {
            return body;
        };
        let holder = found
            .users()
            .iter()
            .find(|user| user.attributes().iter().any(|a| a.name() == verified && a.value() == Some("true")));
        match holder.and_then(|user| user.username()) {
            Some(username) => {
                request["AuthParameters"]["USERNAME"] = json!(username);
                Bytes::from(request.to_string())
            }
            None => body,
        }
    }

    async fn run_triggers(&self, id_token: &str, client_id: &str, set_password: bool) -> Result<(), String> {
        let payload = id_token.split('.').nth(1).ok_or("a token without a payload")?;
        let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or("an unreadable token")?;
        let username = claims["cognito:username"].as_str().ok_or("a token without cognito:username")?;
        let user = self
            .cognito
            .admin_get_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| format!("AdminGetUser: {e}"))?;
        let mut attributes: serde_json::Map<String, Value> = user
            .user_attributes()
            .iter()
            .map(|a| (a.name().to_owned(), json!(a.value().unwrap_or_default())))
            .collect();
        if let Some(status) = user.user_status() {
            attributes.insert("cognito:user_status".into(), json!(status.as_str()));
        }
        let mut sources = Vec::new();
        if set_password {
            sources.push("PostConfirmation_ConfirmSignUp");
        }
        sources.push("PostAuthentication_Authentication");
        for source in sources {
            let mut request = json!({ "userAttributes": attributes, "clientMetadata": {} });
            if source.starts_with("PostAuthentication") {
                request["newDeviceUsed"] = json!(false);
            }
            let event = json!({
                "version": "1",
                "region": self.region,
                "userPoolId": self.user_pool_id,
                "userName": username,
                "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id },
                "triggerSource": source,
                "request": request,
                "response": {},
            });
            (self.invoke)(self.trigger_function.clone(), event).await?;
        }
        Ok(())
    }
}

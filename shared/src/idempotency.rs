//! `Idempotency-Key`: a repeat with the same key and body within 24 hours gets the first
//! response and does nothing again; the same key with another body is refused.

use crate::error::ApiError;
use crate::ports::{Claim, Store, StoredResponse};
use crate::time::Timestamp;
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";

/// The key of a request, if it carries one, scoped to the caller so that two callers'
/// keys never meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// As the client sent it.
    pub raw: String,
    /// `org#actor#raw`: the record's key.
    pub scoped: String,
}

impl IdempotencyKey {
    pub fn from_request(request: &Request, org_id: &str, actor_id: &str) -> Result<Option<Self>, ApiError> {
        let Some(value) = request.headers().get(HEADER) else { return Ok(None) };
        let raw = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|v| (1..=255).contains(&v.len()) && v.chars().all(|c| c.is_ascii_graphic()))
            .ok_or_else(|| ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.".into()))?;
        Ok(Some(Self { raw: raw.to_owned(), scoped: format!("{org_id}#{actor_id}#{raw}") }))
    }
}

/// What makes two requests "the same": method, path and body, the body compared as JSON
/// (so key order and white space do not matter).
pub fn fingerprint(request: &Request) -> String {
    let body: &[u8] = request.body().as_ref();
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|json| json.to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    let mut hash = Sha256::new();
    hash.update(request.method().as_str());
    hash.update(b" ");
    hash.update(request.uri().path());
    hash.update(b"\n");
    hash.update(&canonical);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `work` once per key: a replay answers with the stored response. A response of 5xx
/// is not kept, so a retry does the work again; nor is a refusal that a later retry can
/// outgrow (`429 resend-too-soon`, `409 request-in-progress`).
pub async fn once<S, F>(
    store: &S,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
    now: Timestamp,
    lease: std::time::Duration,
    work: F,
) -> Result<Response<Body>, ApiError>
where
    S: Store,
    F: Future<Output = Response<Body>>,
{
    let Some(key) = key else { return Ok(work.await) };
    match store.claim_idempotency_key(&key.scoped, fingerprint, now, lease).await? {
        Claim::Claimed => {}
        Claim::Replay(stored) => {
            tracing::info!(idempotency_key = %key.raw, "replaying the first response");
            return Ok(replay(stored));
        }
        Claim::Mismatch => return Err(ApiError::IdempotencyKeyReused),
        Claim::InFlight { retry_after_seconds } => return Err(ApiError::RequestInProgress { retry_after_seconds }),
    }
    let response = work.await;
    if response.status().is_server_error() || response.status().as_u16() == 429 {
        if let Err(error) = store.release_idempotency_key(&key.scoped).await {
            tracing::warn!(error = %crate::error::error_chain(&error), "could not release the idempotency key");
        }
    } else if let Err(error) = store.finish_idempotency_key(&key.scoped, fingerprint, &stored(&response), now).await {
        // The work is done and answered; a later repeat will find the lease expired and
        // converge on the same result.
        tracing::warn!(error = %crate::error::error_chain(&error), "could not keep the response for replay");
    }
    Ok(response)
}

pub fn stored(response: &Response<Body>) -> StoredResponse {
    StoredResponse {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect(),
        body: match response.body() {
            Body::Text(text) => text.clone(),
            Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        },
    }
}

fn replay(stored: StoredResponse) -> Response<Body> {
    let mut builder = Response::builder().status(stored.status);
    for (name, value) in &stored.headers {
        builder = builder.header(name, value);
    }
    let body = if stored.body.is_empty() { Body::Empty } else { Body::Text(stored.body) };
    builder.body(body).unwrap_or_else(|_| Response::new(Body::Empty))
}

//! EventBridge refusing some entries of a `PutEvents`, as it does when throttled or on an
//! internal failure (`FailedEntryCount` > 0, an `ErrorCode` on each refused entry): the
//! emulator never refuses one, so this connector, in front of the real HTTP client, cuts the
//! refused entries out of the request before it reaches the emulator and answers them in
//! their places; the others are put on the emulator's bus and answered by it. (The request
//! is changed after signing: the emulator checks no signature.)

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Whether the bus refuses the entry `entryId` on its `attempt`th put (0 first).
type Refuse = Arc<dyn Fn(&str, usize) -> bool + Send + Sync>;

#[derive(Clone)]
pub struct RefusingBus {
    refuse: Refuse,
    /// Puts of each entry so far, and how many were refused.
    puts: Arc<Mutex<HashMap<String, (usize, usize)>>>,
}

impl std::fmt::Debug for RefusingBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusingBus").finish_non_exhaustive()
    }
}

impl RefusingBus {
    pub fn new(refuse: impl Fn(&str, usize) -> bool + Send + Sync + 'static) -> Self {
        Self { refuse: Arc::new(refuse), puts: Arc::default() }
    }

    /// Each entry id put, with (attempts, refusals).
    pub fn puts(&self) -> HashMap<String, (usize, usize)> {
        self.puts.lock().unwrap().clone()
    }

    /// `inner`, with this bus's refusals in front of it.
    pub fn around(&self, inner: SharedHttpClient) -> SharedHttpClient {
        let this = self.clone();
        http_client_fn(move |settings, components| {
            SharedHttpConnector::new(Refusing { this: this.clone(), real: inner.http_connector(settings, components) })
        })
    }

    /// Which entries of `body` (a PutEvents request) to refuse, counting this put of each.
    fn decide(&self, body: &Value) -> Vec<bool> {
        let mut puts = self.puts.lock().unwrap();
        body["Entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                let detail: Value = serde_json::from_str(entry["Detail"].as_str().unwrap_or("{}")).unwrap_or_default();
                let id = detail["entryId"].as_str().unwrap_or_default().to_owned();
                let (attempts, refusals) = puts.entry(id.clone()).or_default();
                let refused = (self.refuse)(&id, *attempts);
                *attempts += 1;
                *refusals += usize::from(refused);
                refused
            })
            .collect()
    }
}

#[derive(Debug)]
struct Refusing {
    this: RefusingBus,
    real: SharedHttpConnector,
}

impl HttpConnector for Refusing {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        if request.headers().get("x-amz-target") != Some("AWSEvents.PutEvents") {
            return self.real.call(request);
        }
        let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or_default()).unwrap_or_default();
        let refused = self.this.decide(&body);
        let entries = body["Entries"].as_array().cloned().unwrap_or_default();
        let kept: Vec<Value> = entries.iter().zip(&refused).filter(|(_, r)| !**r).map(|(e, _)| e.clone()).collect();
        let mut forwarded = body.clone();
        forwarded["Entries"] = Value::Array(kept.clone());
        let bytes = forwarded.to_string();
        request.headers_mut().insert("content-length", bytes.len().to_string());
        *request.body_mut() = SdkBody::from(bytes);
        let sent = (!kept.is_empty()).then(|| self.real.call(request));
        HttpConnectorFuture::new(async move {
            let mut answered = Vec::new().into_iter();
            if let Some(sent) = sent {
                let response = sent.await?;
                if !response.status().is_success() {
                    return Ok(response);
                }
                let bytes = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
                    .collect()
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?
                    .into_bytes();
                let answer: Value =
                    serde_json::from_slice(&bytes).map_err(|e| ConnectorError::other(e.into(), None))?;
                answered = answer["Entries"].as_array().cloned().unwrap_or_default().into_iter();
            }
            let results: Vec<Value> = refused
                .iter()
                .map(|refused| match refused {
                    true => {
                        json!({"ErrorCode": "InternalFailure", "ErrorMessage": "injected: the bus refused the entry"})
                    }
                    false => answered.next().unwrap_or_else(|| json!({"ErrorCode": "InternalFailure"})),
                })
                .collect();
            let failed = results.iter().filter(|r| r.get("ErrorCode").is_some()).count();
            let body = json!({"FailedEntryCount": failed, "Entries": results}).to_string();
            let mut response = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(200).expect("a status"),
                SdkBody::from(body),
            );
            response.headers_mut().insert("content-type", "application/x-amz-json-1.1");
            Ok(response)
        })
    }
}

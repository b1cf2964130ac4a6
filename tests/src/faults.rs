//! Faults injected into the real SDK clients: the call still goes to the emulator (or is
//! stopped just before it), and the client sees an error, as with a dropped connection.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The name of the operation a call belongs to (`TransactWriteItems`, `AdminDeleteUser`, …).
pub fn operation(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The request never leaves: nothing changes on the server.
    BeforeSending,
    /// The server did the work, but the answer is lost on the way back.
    AfterServerAnswered,
}

/// Fails the first `times` calls of one operation.
#[derive(Debug, Clone)]
pub struct Fault {
    operation: &'static str,
    when: When,
    /// Calls let through before the first that fails.
    skip: Arc<AtomicUsize>,
    remaining: Arc<AtomicUsize>,
    seen: Arc<AtomicUsize>,
}

impl Fault {
    pub fn new(operation: &'static str, when: When, times: usize) -> Self {
        Self::after(operation, when, 0, times)
    }

    /// Lets `skip` calls of the operation through, then fails the next `times`.
    pub fn after(operation: &'static str, when: When, skip: usize, times: usize) -> Self {
        Self {
            operation,
            when,
            skip: Arc::new(AtomicUsize::new(skip)),
            remaining: Arc::new(AtomicUsize::new(times)),
            seen: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Fails the transaction that writes a new invitation's membership: invite-user's third
    /// `TransactWriteItems`, after the contacts' reservation and the abuse limits' uses
    /// (see functions/invite-user/src/lib.rs).
    pub fn invitation_commit(when: When) -> Self {
        Self::after("TransactWriteItems", when, 2, 1)
    }

    /// How many calls of the operation went through this client, failed or not.
    pub fn calls(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }

    fn strike(&self, when: When, cfg: &ConfigBag) -> Result<(), BoxError> {
        let operation = operation(cfg);
        if operation != self.operation {
            return Ok(());
        }
        if when == When::BeforeSending {
            self.seen.fetch_add(1, Ordering::SeqCst);
        }
        if when != self.when {
            return Ok(());
        }
        if self.skip.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Ok(());
        }
        let armed = self.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if armed { Err(format!("injected fault in {operation} ({when:?})").into()) } else { Ok(()) }
    }
}

impl Intercept for Fault {
    fn name(&self) -> &'static str {
        "InjectedFault"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.strike(When::BeforeSending, cfg)
    }

    fn read_after_deserialization(
        &self,
        _context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.strike(When::AfterServerAnswered, cfg)
    }
}

/// Runs `action` just before each call of one operation leaves the client: a way to make
/// something happen "at the same moment" as a call, deterministically.
#[derive(Clone)]
pub struct Before {
    operation: &'static str,
    action: Arc<dyn Fn() + Send + Sync>,
}

impl Before {
    pub fn new(operation: &'static str, action: impl Fn() + Send + Sync + 'static) -> Self {
        Self { operation, action: Arc::new(action) }
    }
}

impl std::fmt::Debug for Before {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Before").field("operation", &self.operation).finish()
    }
}

impl Intercept for Before {
    fn name(&self) -> &'static str {
        "BeforeHook"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if operation(cfg) == self.operation {
            (self.action)();
        }
        Ok(())
    }
}

/// Counts the calls a client makes, by operation, and keeps what each sent.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    seen: Arc<std::sync::Mutex<Vec<String>>>,
    bodies: Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>>,
    items_read: Arc<AtomicUsize>,
}

impl Calls {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.seen.lock().unwrap().iter().filter(|name| *name == operation).count()
    }

    pub fn total(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn reset(&self) {
        self.seen.lock().unwrap().clear();
        self.bodies.lock().unwrap().clear();
        self.items_read.store(0, Ordering::SeqCst);
    }

    /// DynamoDB items the calls read, as their answers say: what a `Query` or `Scan`
    /// evaluated (`ScannedCount`, filtered out or not: each is paid for), a `GetItem`'s item,
    /// a `BatchGetItem`'s items.
    pub fn items_read(&self) -> usize {
        self.items_read.load(Ordering::SeqCst)
    }

    /// The JSON requests of one operation, in order.
    pub fn requests(&self, operation: &str) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().iter().filter(|(name, _)| name == operation).map(|(_, b)| b.clone()).collect()
    }
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = operation(cfg);
        self.seen.lock().unwrap().push(operation);
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = operation(cfg);
        let body = context.request().body().bytes().and_then(|b| serde_json::from_slice(b).ok());
        if let Some(body) = body {
            self.bodies.lock().unwrap().push((operation, body));
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
        use aws_sdk_dynamodb::operation::{get_item::GetItemOutput, query::QueryOutput, scan::ScanOutput};
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let read = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            query.scanned_count() as usize
        } else if let Some(scan) = output.downcast_ref::<ScanOutput>() {
            scan.scanned_count() as usize
        } else if let Some(got) = output.downcast_ref::<GetItemOutput>() {
            usize::from(got.item().is_some())
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            batch.responses().map_or(0, |tables| tables.values().map(Vec::len).sum())
        } else {
            0
        };
        self.items_read.fetch_add(read, Ordering::SeqCst);
        Ok(())
    }
}

/// Replaces the emulator's answer to one operation with a service error, as AWS would send
/// it: for behaviour the emulator does not have (Cognito refusing to resend to a confirmed
/// user, say). The call itself still reaches the emulator.
#[derive(Debug, Clone)]
pub struct Answer {
    operation: &'static str,
    status: u16,
    error_type: &'static str,
    message: &'static str,
    /// How many answers to replace; `None`: all.
    remaining: Option<Arc<AtomicUsize>>,
}

impl Answer {
    pub fn error(operation: &'static str, status: u16, error_type: &'static str, message: &'static str) -> Self {
        Self { operation, status, error_type, message, remaining: None }
    }

    /// Replaces only the first answer: the SDK's retry of a transient error then gets the
    /// emulator's real one.
    pub fn once(self) -> Self {
        Self { remaining: Some(Arc::new(AtomicUsize::new(1))), ..self }
    }
}

impl Intercept for Answer {
    fn name(&self) -> &'static str {
        "InjectedAnswer"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut<
            '_,
        >,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if operation(cfg) != self.operation {
            return Ok(());
        }
        if let Some(remaining) = &self.remaining
            && remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err()
        {
            return Ok(());
        }
        let body = format!(r#"{{"__type":"{}","message":"{}"}}"#, self.error_type, self.message);
        let mut response = aws_smithy_runtime_api::http::Response::new(
            self.status.try_into()?,
            aws_smithy_types::body::SdkBody::from(body),
        );
        response.headers_mut().insert("content-type", "application/x-amz-json-1.1");
        response.headers_mut().insert("x-amzn-errortype", self.error_type);
        *context.response_mut() = response;
        Ok(())
    }
}

/// A process that dies mid-request: the first `survive` calls go through (on every client
/// sharing this interceptor); then, with `lose_last_answer`, one more call is applied by the
/// server but its answer never comes back; every call after that never leaves. Nothing the
/// process would have done next (undo, give a key back) happens.
#[derive(Debug, Clone)]
pub struct Death {
    survive: usize,
    lose_last_answer: bool,
    calls: Arc<AtomicUsize>,
}

impl Death {
    pub fn after(survive: usize, lose_last_answer: bool) -> Self {
        Self { survive, lose_last_answer, calls: Arc::default() }
    }

    /// Whether the process died before the request was done.
    pub fn struck(&self) -> bool {
        self.calls.load(Ordering::SeqCst) > self.survive
    }
}

#[derive(Debug, Clone)]
struct Doomed;

impl aws_smithy_types::config_bag::Storable for Doomed {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl Intercept for Death {
    fn name(&self) -> &'static str {
        "ProcessDeath"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let index = self.calls.fetch_add(1, Ordering::SeqCst);
        if index < self.survive {
            return Ok(());
        }
        if index == self.survive && self.lose_last_answer {
            cfg.interceptor_state().store_put(Doomed);
            return Ok(());
        }
        Err(format!("the process died before {}", operation(cfg)).into())
    }

    fn read_after_deserialization(
        &self,
        _context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<Doomed>().is_some() {
            return Err(format!("the process died waiting for {}", operation(cfg)).into());
        }
        Ok(())
    }
}

/// An HTTP connector in front of the real one, for what interceptors cannot show: the
/// SDK's own retries, which happen below them. The first request that `matches` is
/// forwarded and its answer dropped (the server did the work; the client sees a timeout);
/// every later one is answered `500` without being forwarded. `attempts()` counts the
/// matching requests the client sent: each would have reached the server on AWS.
/// Picks requests by their `x-amz-target` header and body.
type RequestFilter = Arc<dyn Fn(&str, &[u8]) -> bool + Send + Sync>;

#[derive(Clone)]
pub struct LosingConnector {
    matches: RequestFilter,
    attempts: Arc<AtomicUsize>,
}

impl std::fmt::Debug for LosingConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LosingConnector").field("attempts", &self.attempts()).finish()
    }
}

impl LosingConnector {
    /// `matches(x-amz-target, body)` picks the requests to lose.
    pub fn new(matches: impl Fn(&str, &[u8]) -> bool + Send + Sync + 'static) -> Self {
        Self { matches: Arc::new(matches), attempts: Arc::new(AtomicUsize::new(0)) }
    }

    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }

    /// `inner`, with this connector in front of it.
    pub fn around(
        &self,
        inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        use aws_smithy_runtime_api::client::http::{
            HttpClient, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
        };
        use aws_smithy_runtime_api::client::result::ConnectorError;
        #[derive(Debug)]
        struct LosingCall {
            this: LosingConnector,
            real: SharedHttpConnector,
        }
        impl aws_smithy_runtime_api::client::http::HttpConnector for LosingCall {
            fn call(&self, request: aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> HttpConnectorFuture {
                let target = request.headers().get("x-amz-target").unwrap_or_default().to_owned();
                let body = request.body().bytes().unwrap_or_default().to_vec();
                if !(self.this.matches)(&target, &body) {
                    return self.real.call(request);
                }
                if self.this.attempts.fetch_add(1, Ordering::SeqCst) > 0 {
                    let answer = aws_smithy_runtime_api::http::Response::new(
                        aws_smithy_runtime_api::http::StatusCode::try_from(500).expect("a status"),
                        aws_smithy_types::body::SdkBody::from(
                            r#"{"__type":"InternalErrorException","message":"injected: the retry fails"}"#,
                        ),
                    );
                    return HttpConnectorFuture::ready(Ok(answer));
                }
                let sent = self.real.call(request);
                HttpConnectorFuture::new(async move {
                    let _answered = sent.await;
                    Err(ConnectorError::timeout("injected: the answer was lost".into()))
                })
            }
        }
        let this = self.clone();
        http_client_fn(move |settings, components| {
            SharedHttpConnector::new(LosingCall {
                this: this.clone(),
                real: inner.http_connector(settings, components),
            })
        })
    }
}

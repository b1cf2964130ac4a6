//! One way in, one way out: every route admits its request here and answers from here.
//!
//! A request is [`Admitted`] past the checks all routes share, in this order: the caller,
//! from the claims the authorizer verified (401); the administrators' group, where the
//! route needs it (403); what the route acts on, its path's member or its body (400); for
//! a change, the `Idempotency-Key` (400; a query ignores the header). [`read`] then runs a
//! query's rule; [`mutation`] runs a change's rule once per idempotency key (leasing the
//! key, replaying the first answer, refusing a key reused for another request, see
//! [`crate::idempotency`]). Both turn the rule's error into its response and log one
//! decision line per request, so a function's `lib.rs` keeps only its rule.

use crate::domain::{RequestMeta, UserId};
use crate::error::ApiError;
use crate::http::path_parameter;
use crate::idempotency::{self, IdempotencyKey};
use crate::identity::Caller;
use crate::ports::{Receipt, Store};
use crate::time::Timestamp;
use crate::{Config, Deps};
use lambda_http::{Body, Error, Request, Response};

/// A route as the decision log names it, and who may call it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The function, as the logs name it (`cancel-invitation`).
    pub function: &'static str,
    /// The log's outcome when the rule answers (`canceled`).
    pub outcome: &'static str,
    pub access: Access,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any member of the organisation.
    Member,
    /// A member of the administrators' group.
    Administrator,
}

/// What a route acts on, read from its path after the caller is known.
pub trait Target: Sized {
    fn from_request(request: &Request) -> Result<Self, ApiError>;
}

/// A route on the organisation as a whole (`/members`, `/invitations`).
impl Target for () {
    fn from_request(_: &Request) -> Result<Self, ApiError> {
        Ok(())
    }
}

/// A route on one member: the path's `{userId}`.
impl Target for UserId {
    fn from_request(request: &Request) -> Result<Self, ApiError> {
        let raw = path_parameter(request, "userId")
            .ok_or_else(|| ApiError::BadRequest("The path must name the member's userId.".into()))?;
        Ok(UserId::parse(&raw)?)
    }
}

/// A request past the shared checks: who asks, about what, and how its repeats are known.
#[derive(Debug, Clone)]
pub struct Admitted<T = ()> {
    pub caller: Caller,
    pub target: T,
    pub meta: RequestMeta,
    pub key: Option<IdempotencyKey>,
    /// What makes two requests the same (method, path, body as JSON).
    pub fingerprint: String,
    /// The request's time: one instant for everything it records.
    pub now: Timestamp,
}

impl<T: Target> Admitted<T> {
    /// `keyed`: a change, whose `Idempotency-Key` and fingerprint are read; a query's are not.
    pub fn admit(
        request: &Request,
        config: &Config,
        access: Access,
        meta: RequestMeta,
        keyed: bool,
    ) -> Result<Self, ApiError> {
        if let Some(target) = path_parameter(request, "userId") {
            tracing::Span::current().record("target", target.as_str());
        }
        let caller = Caller::from_request(request, &config.issuer)?;
        tracing::Span::current().record("actor", caller.id.as_str()).record("org", caller.org_id.as_str());
        if access == Access::Administrator {
            caller.require_admin(&config.admin_group)?;
        }
        let target = T::from_request(request)?;
        let (key, fingerprint) = match keyed {
            true => {
                let key = IdempotencyKey::from_request(request, &caller.org_id, &caller.id)?;
                (key, idempotency::fingerprint(request))
            }
            false => (None, String::new()),
        };
        Ok(Self { caller, target, meta, key, fingerprint, now: config.clock.now() })
    }
}

impl<T> Admitted<T> {
    /// A fresh id for what this request creates; with an idempotency key, the same id for
    /// every retry of the same request, so a retry finds what its first attempt made (the
    /// same key with another body is refused before the rule runs).
    pub fn derived_id(&self) -> uuid::Uuid {
        match &self.key {
            Some(key) => uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("{}\n{}", key.scoped, self.fingerprint).as_bytes(),
            ),
            None => uuid::Uuid::new_v4(),
        }
    }

    /// `response` to be kept under the idempotency key by the rule's own committing
    /// transaction, so that the change and its answer are recorded together.
    pub fn receipt(&self, response: &Response<Body>) -> Option<Receipt> {
        self.key.as_ref().map(|key| Receipt {
            key: key.scoped.clone(),
            fingerprint: self.fingerprint.clone(),
            response: idempotency::stored(response),
            now: self.now,
        })
    }
}

/// Admits `request` and answers it with `rule`'s response: for queries.
pub async fn read<D, S, T, R>(
    deps: &Deps<D, S>,
    request: Request,
    route: Route,
    rule: R,
) -> Result<Response<Body>, Error>
where
    T: Target,
    R: AsyncFnOnce(&Admitted<T>) -> Result<Response<Body>, ApiError>,
{
    let meta = crate::http::request_meta(&request);
    Ok(decide(route, &meta, async {
        let admitted = Admitted::<T>::admit(&request, &deps.config, route.access, meta.clone(), false)?;
        Box::pin(rule(&admitted)).await
    })
    .await)
}

/// Admits `request` and runs `rule` once per idempotency key: for changes.
pub async fn mutation<D, S, T, R>(
    deps: &Deps<D, S>,
    request: Request,
    route: Route,
    rule: R,
) -> Result<Response<Body>, Error>
where
    S: Store,
    T: Target,
    R: AsyncFnOnce(&Admitted<T>) -> Result<Response<Body>, ApiError>,
{
    let meta = crate::http::request_meta(&request);
    Ok(decide(route, &meta, async {
        let admitted = Admitted::<T>::admit(&request, &deps.config, route.access, meta.clone(), true)?;
        let Admitted { key, fingerprint, now, .. } = &admitted;
        idempotency::once(&deps.store, key.as_ref(), fingerprint, *now, deps.config.lease, async {
            // On the heap: a rule's future is large, and a debug build's stack is small.
            Box::pin(rule(&admitted)).await.unwrap_or_else(ApiError::into_response)
        })
        .await
    })
    .await)
}

/// Runs one request's work in a span carrying the request id (and, as admission records
/// them, the actor, organisation and target), and logs the decision on one line: the
/// route's outcome, or the refusal's code and reason.
async fn decide<F>(route: Route, meta: &RequestMeta, work: F) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    use tracing::Instrument;
    let span = tracing::info_span!(
        "request",
        function = route.function,
        request_id = %meta.request_id,
        actor = tracing::field::Empty,
        org = tracing::field::Empty,
        target = tracing::field::Empty,
    );
    async move {
        let response = work.await.unwrap_or_else(ApiError::into_response);
        let status = response.status().as_u16();
        match response.extensions().get::<crate::error::Refusal>() {
            Some(refusal) => tracing::info!(outcome = refusal.code, status, reason = %refusal.reason, "decision"),
            // A refusal replayed from an idempotency record.
            None if status >= 400 => tracing::info!(outcome = "replayed", status, "decision"),
            None => tracing::info!(outcome = route.outcome, status, "decision"),
        }
        response
    }
    .instrument(span)
    .await
}

/// Records the member a rule acts on, for a route whose path does not name them.
pub fn record_target(target: &str) {
    tracing::Span::current().record("target", target);
}

//! One way in, one way out: every route admits its request here and answers from here.
//!
//! A request is [`Admitted`] past the checks all routes share, in this order: the caller,
//! from the claims the authorizer verified (401); the caller's own membership, read
//! consistently, because a token outlives a suspension, a removal or a demotion (none, or
//! suspended, or being removed: 401); where the route needs an administrator, the token's
//! group *and* the membership's role `admin` (403); what the route acts on, its path's
//! member or its body (400); for a change, the `Idempotency-Key` (400; a query ignores the
//! header). [`read`] then runs a
//! query's rule; [`mutation`] runs a change's rule once per idempotency key (leasing the
//! key, replaying the first answer, refusing a key reused for another request, see
//! [`crate::idempotency`]). Both turn the rule's error into its response and log one
//! decision line per request, so a function's `lib.rs` keeps only its rule.

use crate::domain::{Member, MemberStatus, RequestMeta, Role, UserId};
use crate::error::ApiError;
use crate::http::path_parameter;
use crate::idempotency::{self, IdempotencyKey};
use crate::identity::Caller;
use crate::ports::{Members, Receipt, Store};
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
    /// Named as their membership names them (the audit log's actor).
    pub caller: Caller,
    /// The caller's own membership, as read at admission.
    pub membership: Member,
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
    pub async fn admit<S: Members>(
        request: &Request,
        config: &Config,
        store: &S,
        access: Access,
        meta: RequestMeta,
        keyed: bool,
    ) -> Result<Self, ApiError> {
        if let Some(target) = path_parameter(request, "userId") {
            tracing::Span::current().record("target", target.as_str());
        }
        let mut caller = Caller::from_request(request, &config.issuer)?;
        tracing::Span::current().record("actor", caller.id.as_str()).record("org", caller.org_id.as_str());
        let membership = standing(store, &caller).await?;
        caller.display_name = membership.name.clone();
        if access == Access::Administrator {
            caller.require_admin(&config.admin_group)?;
            if membership.role != Role::Admin {
                return Err(ApiError::Forbidden("the caller's membership is not an administrator's"));
            }
        }
        let target = T::from_request(request)?;
        let (key, fingerprint) = match keyed {
            true => {
                let key = IdempotencyKey::from_request(request, &caller.org_id, &caller.id)?;
                (key, idempotency::fingerprint(request))
            }
            false => (None, String::new()),
        };
        Ok(Self { caller, membership, target, meta, key, fingerprint, now: config.clock.now() })
    }
}

/// The caller's own membership, if it still lets them in: it exists in the token's
/// organisation, and is neither suspended nor being removed.
async fn standing<S: Members>(store: &S, caller: &Caller) -> Result<Member, ApiError> {
    let user_id = caller
        .username
        .as_deref()
        .and_then(|name| UserId::parse(name).ok())
        .ok_or(ApiError::Unauthenticated("no cognito:username claim"))?;
    match store.get_member(&caller.org_id, &user_id).await? {
        None => Err(ApiError::Unauthenticated("no membership in the token's organisation")),
        Some(member) if member.status == MemberStatus::Suspended => {
            Err(ApiError::Unauthenticated("the caller's membership is suspended"))
        }
        Some(member) if member.remove_pending.is_some() => {
            Err(ApiError::Unauthenticated("the caller's membership is being removed"))
        }
        Some(member) => Ok(member),
    }
}

impl<T> Admitted<T> {
    /// The same request, as acting on `target` (a part of what it was admitted for).
    pub fn on<U>(&self, target: U) -> Admitted<U> {
        Admitted {
            caller: self.caller.clone(),
            membership: self.membership.clone(),
            target,
            meta: self.meta.clone(),
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            now: self.now,
        }
    }

    /// Whether the caller administers their organisation: the token's group and the
    /// membership's role both say so.
    pub fn caller_is_admin(&self, admin_group: &str) -> bool {
        self.caller.is_admin(admin_group) && self.membership.role == Role::Admin
    }

    /// The caller as the member objects' `actions` depend on them, given the organisation's
    /// count of active administrators.
    pub fn viewer(&self, admin_group: &str, active_admins: u64) -> crate::view::Viewer {
        crate::view::Viewer {
            admin: self.caller_is_admin(admin_group),
            user_id: self.membership.user_id.to_string(),
            active_admins,
        }
    }

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
    S: Members,
    T: Target,
    R: AsyncFnOnce(&Admitted<T>) -> Result<Response<Body>, ApiError>,
{
    let meta = crate::http::request_meta(&request);
    Ok(decide(route, &meta, async {
        let admitted =
            Admitted::<T>::admit(&request, &deps.config, &deps.store, route.access, meta.clone(), false).await?;
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
        let admitted =
            Admitted::<T>::admit(&request, &deps.config, &deps.store, route.access, meta.clone(), true).await?;
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

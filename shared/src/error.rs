//! The one place where a failure becomes a response: an `application/problem+json` body
//! (RFC 9457) with the contract's machine `code`. Causes go to the log, never to the body.

use lambda_http::{Body, Response, http::StatusCode};
use serde::Serialize;

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("no such export")]
    NoSuchExport,
    #[error("the member has already verified")]
    AlreadyVerified,
    #[error("the member has not verified")]
    NotVerified,
    #[error("the member is not suspended")]
    NotSuspended,
    #[error("the change would leave the organisation without an active administrator")]
    LastAdmin,
    #[error("an administrator may not suspend or remove themselves")]
    OwnMembership,
    #[error("contact already in use")]
    ContactInUse,
    #[error("idempotency key reused with another body")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is in progress; retry after {retry_after_seconds}s")]
    RequestInProgress { retry_after_seconds: u64 },
    #[error("resend too soon; retry after {retry_after_seconds}s")]
    ResendTooSoon { retry_after_seconds: u64 },
    #[error("the organisation's invitation quota is used up; retry after {retry_after_seconds}s")]
    InvitationQuota { retry_after_seconds: u64 },
    #[error("the phone number's message quota is used up; retry after {retry_after_seconds}s")]
    MessageQuota { retry_after_seconds: u64 },
    #[error("AWS unavailable")]
    Unavailable(#[source] Cause),
    #[error("a message delivery quota is exhausted")]
    DeliveryQuotaExhausted(#[source] Cause),
}

impl From<crate::domain::Invalid> for ApiError {
    fn from(invalid: crate::domain::Invalid) -> Self {
        Self::BadRequest(invalid.0)
    }
}

impl ApiError {
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NoSuchExport => StatusCode::NOT_FOUND,
            Self::AlreadyVerified
            | Self::NotVerified
            | Self::NotSuspended
            | Self::LastAdmin
            | Self::OwnMembership
            | Self::ContactInUse
            | Self::RequestInProgress { .. } => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ResendTooSoon { .. } | Self::InvitationQuota { .. } | Self::MessageQuota { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Unavailable(_) | Self::DeliveryQuotaExhausted(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound | Self::NoSuchExport => "not-found",
            Self::AlreadyVerified => "already-verified",
            Self::NotVerified => "not-verified",
            Self::NotSuspended => "not-suspended",
            Self::LastAdmin => "last-admin",
            Self::OwnMembership => "own-membership",
            Self::ContactInUse => "contact-in-use",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::RequestInProgress { .. } => "request-in-progress",
            Self::ResendTooSoon { .. } => "resend-too-soon",
            Self::InvitationQuota { .. } => "invitation-quota",
            Self::MessageQuota { .. } => "message-quota",
            Self::Unavailable(_) => "unavailable",
            Self::DeliveryQuotaExhausted(_) => "delivery-quota-exhausted",
        }
    }

    /// What a client may read: written here, never taken from a cause.
    fn detail(&self) -> String {
        match self {
            Self::BadRequest(detail) => detail.clone(),
            Self::Unauthenticated(_) => "The request carries no usable identity.".into(),
            Self::Forbidden(_) => "Only an administrator of the organisation may do this.".into(),
            Self::NotFound => "No such member in your organisation.".into(),
            Self::NoSuchExport => "No such export in your organisation (an export is kept a day).".into(),
            Self::AlreadyVerified => "The member has already verified their account.".into(),
            Self::NotVerified => {
                "The member has not verified their account yet; cancel their invitation instead.".into()
            }
            Self::NotSuspended => "The member is not suspended.".into(),
            Self::LastAdmin => "This would leave your organisation without an active administrator; \
                make another member an administrator first."
                .into(),
            Self::OwnMembership => "You cannot suspend or remove yourself; ask another administrator.".into(),
            Self::ContactInUse => "That phone number or email address is already in use.".into(),
            Self::IdempotencyKeyReused => "This Idempotency-Key was already used with a different request body.".into(),
            Self::ResendTooSoon { retry_after_seconds } => {
                format!("The invitation was sent recently; try again in {retry_after_seconds} seconds.")
            }
            Self::InvitationQuota { retry_after_seconds } => format!(
                "Your organisation has sent as many invitations as it may in an hour; nothing was sent. \
                Try again in {retry_after_seconds} seconds."
            ),
            Self::MessageQuota { retry_after_seconds } => format!(
                "That phone number has been sent as many messages as it may in a day; nothing was sent. \
                Try again in {retry_after_seconds} seconds."
            ),
            Self::RequestInProgress { retry_after_seconds } => format!(
                "A request with this Idempotency-Key is still in progress; retry in {retry_after_seconds} seconds."
            ),
            Self::Unavailable(_) => "The service is temporarily unavailable; it is safe to retry.".into(),
            Self::DeliveryQuotaExhausted(_) => {
                "No invitation can be sent now: the daily limit on messages is reached. \
                Nothing was sent or changed; ask the operator to raise the limit, or try again tomorrow."
                    .into()
            }
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if let Self::Unavailable(cause) | Self::DeliveryQuotaExhausted(cause) = &self {
            tracing::error!(code = self.code(), error = %error_chain(cause.as_ref()), "request failed");
        }
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code: self.code(),
            detail: self.detail(),
        };
        let mut builder = Response::builder().status(status).header("content-type", "application/problem+json");
        if let Self::ResendTooSoon { retry_after_seconds }
        | Self::RequestInProgress { retry_after_seconds }
        | Self::InvitationQuota { retry_after_seconds }
        | Self::MessageQuota { retry_after_seconds } = self
        {
            builder = builder.header("retry-after", retry_after_seconds.max(1).to_string());
        }
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let refusal = Refusal { code: self.code(), reason: self.to_string() };
        let mut response = builder.body(Body::Text(body)).unwrap_or_else(|_| Response::new(Body::Empty));
        response.extensions_mut().insert(refusal);
        response
    }
}

/// Carried by an error's response (never sent), so that the decision log names the refusal
/// wherever the error became a response.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub code: &'static str,
    pub reason: String,
}

/// `outer: inner: innermost`, for the log.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response<Body>) -> serde_json::Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn a_conflict_is_a_problem_document_with_its_code() {
        let response = ApiError::AlreadyVerified.into_response();
        assert_eq!(response.status(), 409);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let body = body(&response);
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["title"], "Conflict");
        assert_eq!(body["status"], 409);
        assert_eq!(body["code"], "already-verified");
    }

    #[test]
    fn an_aws_failure_never_reaches_the_body() {
        let cause = std::io::Error::other("ResourceNotFoundException: table members-secret-name");
        let response = ApiError::unavailable(cause).into_response();
        assert_eq!(response.status(), 503);
        let text = serde_json::to_string(&body(&response)).unwrap();
        assert!(!text.contains("members-secret-name"), "{text}");
        assert!(!text.contains("ResourceNotFound"), "{text}");
        assert_eq!(body(&response)["code"], "unavailable");
    }

    #[test]
    fn too_soon_carries_retry_after_in_whole_seconds() {
        let response = ApiError::ResendTooSoon { retry_after_seconds: 42 }.into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "42");
        assert_eq!(body(&response)["code"], "resend-too-soon");
    }

    #[test]
    fn a_used_up_quota_is_429_with_its_code_and_retry_after() {
        for (error, code) in [
            (ApiError::InvitationQuota { retry_after_seconds: 3580 }, "invitation-quota"),
            (ApiError::MessageQuota { retry_after_seconds: 3580 }, "message-quota"),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), 429);
            assert_eq!(response.headers()["retry-after"], "3580");
            assert_eq!(body(&response)["code"], code);
            assert!(body(&response)["detail"].as_str().unwrap().contains("3580 seconds"));
        }
    }
}

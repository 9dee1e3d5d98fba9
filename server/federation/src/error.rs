//! Federation errors and the HTTP answers they become.

use crate::{db::DbError, delivery::QueueError, http::ErrorBody};
use activitypub_federation::error::Error as ProtocolError;
use actix_web::{http::StatusCode, HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("no channel with this name exists here")]
    ChannelNotFound,
    #[error("no such object")]
    NotFound,
    #[error("the object was deleted")]
    Gone,
    #[error("the request is malformed: {0}")]
    BadRequest(String),
    #[error("refused: {0}")]
    Refused(String),
    /// The HTTP signature is missing, malformed or wrong.
    #[error("the HTTP signature does not verify: {0}")]
    SignatureInvalid(String),
    #[error("{0}")]
    DigestInvalid(String),
    #[error("{0}")]
    SignatureExpired(String),
    /// The activity's outline is unreadable.
    #[error("the activity is invalid: {0}")]
    ActivityInvalid(String),
    #[error("the signing actor could not be fetched: {0}")]
    ActorUnverifiable(String),
    #[error("this server's domain is blocked here")]
    DomainBlocked,
    /// Too many requests from this server (429); retry after the seconds given.
    #[error("too many requests from this server; retry in {0} s")]
    RateLimited(u64),
    /// A URL Herald may not contact (http or a private address outside debug mode).
    #[error("a URL in the activity was refused: {0}")]
    UrlRefused(String),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("database error")]
    Db(#[source] DbError),
    #[error("queue error")]
    Queue(#[from] QueueError),
    #[error("could not serialize: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl From<DbError> for FederationError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => FederationError::NotFound,
            other => FederationError::Db(other),
        }
    }
}

impl From<crate::protocol::actor::ActorRefusal> for FederationError {
    fn from(err: crate::protocol::actor::ActorRefusal) -> Self {
        FederationError::Refused(err.to_string())
    }
}

impl FederationError {
    /// The stable error code (`signature_invalid`), as in the answer's body.
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    /// Status, stable code and client-safe message.
    fn parts(&self) -> (StatusCode, &'static str, String) {
        use ProtocolError as P;
        match self {
            FederationError::ChannelNotFound => {
                (StatusCode::NOT_FOUND, "channel_not_found", self.to_string())
            }
            FederationError::NotFound => (StatusCode::NOT_FOUND, "not_found", self.to_string()),
            FederationError::Gone => (StatusCode::GONE, "gone", self.to_string()),
            FederationError::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "request_invalid", self.to_string())
            }
            FederationError::SignatureInvalid(_) => (
                StatusCode::UNAUTHORIZED,
                "signature_invalid",
                self.to_string(),
            ),
            FederationError::DigestInvalid(_) => {
                (StatusCode::UNAUTHORIZED, "digest_invalid", self.to_string())
            }
            FederationError::SignatureExpired(_) => (
                StatusCode::UNAUTHORIZED,
                "signature_expired",
                self.to_string(),
            ),
            FederationError::ActivityInvalid(_) => (
                StatusCode::BAD_REQUEST,
                "activity_invalid",
                self.to_string(),
            ),
            FederationError::ActorUnverifiable(_) => (
                StatusCode::UNAUTHORIZED,
                "actor_unverifiable",
                self.to_string(),
            ),
            FederationError::DomainBlocked => {
                (StatusCode::FORBIDDEN, "domain_blocked", self.to_string())
            }
            FederationError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                self.to_string(),
            ),
            FederationError::UrlRefused(_) => {
                (StatusCode::BAD_REQUEST, "url_refused", self.to_string())
            }
            FederationError::Refused(_) => (
                StatusCode::BAD_REQUEST,
                "activity_refused",
                self.to_string(),
            ),
            FederationError::Protocol(inner) => match inner {
                P::ActivityBodyDigestInvalid => (
                    StatusCode::UNAUTHORIZED,
                    "digest_invalid",
                    "the Digest header is missing or does not match the body".into(),
                ),
                P::ActivitySignatureInvalid => (
                    StatusCode::UNAUTHORIZED,
                    "signature_invalid",
                    "the HTTP signature is missing or does not verify".into(),
                ),
                P::ParseReceivedActivity(..) => (
                    StatusCode::BAD_REQUEST,
                    "activity_invalid",
                    inner.to_string(),
                ),
                P::UrlVerificationError(reason) => (
                    StatusCode::BAD_REQUEST,
                    "url_refused",
                    format!("a URL in the activity was refused: {reason}"),
                ),
                P::NotFound
                | P::ObjectDeleted(_)
                | P::FetchInvalidContentType(_)
                | P::FetchWrongId(_)
                | P::ParseFetchedObject(..)
                | P::Reqwest(_)
                | P::ReqwestMiddleware(_)
                | P::RequestLimit
                | P::ResponseBodyLimit => (
                    StatusCode::UNAUTHORIZED,
                    "actor_unverifiable",
                    "the signing actor could not be fetched, so the signature cannot be verified"
                        .into(),
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred".into(),
                ),
            },
            FederationError::Db(_) | FederationError::Queue(_) | FederationError::Serialize(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred".into(),
            ),
        }
    }
}

impl ResponseError for FederationError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %crate::error_chain(self), "federation request failed");
        } else {
            tracing::debug!(code, "federation request refused");
        }
        let mut response = ErrorBody::respond(status, code, message);
        if let FederationError::RateLimited(seconds) = self {
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(*seconds),
            );
        }
        response
    }
}

impl From<crate::inbox::signature::SignatureError> for FederationError {
    fn from(err: crate::inbox::signature::SignatureError) -> Self {
        use crate::inbox::signature::SignatureError as S;
        match err {
            S::DigestMissing | S::DigestMismatch => FederationError::DigestInvalid(err.to_string()),
            S::Expired => FederationError::SignatureExpired(err.to_string()),
            other => FederationError::SignatureInvalid(other.to_string()),
        }
    }
}

impl From<crate::inbox::envelope::EnvelopeError> for FederationError {
    fn from(err: crate::inbox::envelope::EnvelopeError) -> Self {
        FederationError::ActivityInvalid(err.to_string())
    }
}

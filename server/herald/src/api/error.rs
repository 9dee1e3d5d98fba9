//! API errors: each variant chooses its status and stable code on purpose.

use crate::{db::DbError, http::ErrorBody};
use actix_web::{http::StatusCode, HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("send an API token as `Authorization: Bearer TOKEN`")]
    TokenMissing,
    #[error("the token is not valid")]
    TokenInvalid,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token was revoked")]
    TokenRevoked,
    #[error("the token is for another channel")]
    TokenWrongChannel,
    #[error("the token lacks the `{0}` scope")]
    ScopeMissing(&'static str),
    #[error("the token's person is disabled")]
    UserDisabled,
    /// A person's token whose role in the channel does not allow the action (403).
    #[error("{0}")]
    RoleForbids(String),
    #[error("no channel with this name exists")]
    ChannelNotFound,
    #[error("no post with this id exists in this channel")]
    PostNotFound,
    #[error("this post was deleted")]
    PostGone,
    /// Something else that does not exist (404 not_found), with a message.
    #[error("{0}")]
    NotFound(String),
    #[error("the body is not valid JSON for this request: {0}")]
    BadJson(String),
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// Over a size limit (413), the limit named in the message.
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// A file type Herald does not take (415).
    #[error("{message}")]
    UnsupportedType { code: &'static str, message: String },
    /// The same Idempotency-Key arrived while its first request is still being answered.
    #[error("a request with this Idempotency-Key is in progress; retry in a moment")]
    IdempotencyInProgress,
    /// Input that parsed but is not acceptable (422), with its own code.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// Too many requests with this token (429); retry after the seconds given.
    #[error("too many requests with this token; retry in {0} s")]
    RateLimited(u64),
    #[error("an internal error occurred")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The status and stable code of each variant.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::TokenMissing => (StatusCode::UNAUTHORIZED, "token_missing"),
            ApiError::TokenInvalid => (StatusCode::UNAUTHORIZED, "token_invalid"),
            ApiError::TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired"),
            ApiError::TokenRevoked => (StatusCode::UNAUTHORIZED, "token_revoked"),
            ApiError::TokenWrongChannel => (StatusCode::FORBIDDEN, "token_wrong_channel"),
            ApiError::ScopeMissing(_) => (StatusCode::FORBIDDEN, "scope_missing"),
            ApiError::UserDisabled => (StatusCode::UNAUTHORIZED, "user_disabled"),
            ApiError::RoleForbids(_) => (StatusCode::FORBIDDEN, "role_forbids"),
            ApiError::ChannelNotFound => (StatusCode::NOT_FOUND, "channel_not_found"),
            ApiError::PostNotFound => (StatusCode::NOT_FOUND, "post_not_found"),
            ApiError::PostGone => (StatusCode::GONE, "post_gone"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadJson(_) => (StatusCode::BAD_REQUEST, "json_invalid"),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content_type_unsupported",
            ),
            ApiError::TooLarge { code, .. } => (StatusCode::PAYLOAD_TOO_LARGE, code),
            ApiError::UnsupportedType { code, .. } => (StatusCode::UNSUPPORTED_MEDIA_TYPE, code),
            ApiError::IdempotencyInProgress => (StatusCode::CONFLICT, "idempotency_in_progress"),
            ApiError::Invalid { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<crate::posts::PostError> for ApiError {
    fn from(err: crate::posts::PostError) -> Self {
        use crate::posts::PostError as P;
        match err {
            P::NotFound => ApiError::PostNotFound,
            P::Gone => ApiError::PostGone,
            P::Invalid { code, message } => ApiError::Invalid { code, message },
            P::Db(e) => ApiError::Internal(Box::new(e)),
            P::Serialize(e) => ApiError::Internal(Box::new(e)),
        }
    }
}

/// Database failures are internal; a missing row is mapped by the caller, which knows
/// what was missing.
impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        ApiError::Internal(Box::new(err))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = %crate::error_chain(cause.as_ref()), "API request failed");
        }
        let mut response = ErrorBody::respond(status, code, self.to_string());
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
        }
        if let ApiError::RateLimited(seconds) = self {
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(*seconds),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    /// Every variant's status and body, pinned.
    #[test]
    fn every_variant_renders_its_status_and_code() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::TokenMissing, 401, "token_missing"),
            (ApiError::TokenInvalid, 401, "token_invalid"),
            (ApiError::TokenExpired, 401, "token_expired"),
            (ApiError::TokenRevoked, 401, "token_revoked"),
            (ApiError::TokenWrongChannel, 403, "token_wrong_channel"),
            (ApiError::UserDisabled, 401, "user_disabled"),
            (ApiError::RoleForbids("no".into()), 403, "role_forbids"),
            (ApiError::ScopeMissing("posts:write"), 403, "scope_missing"),
            (ApiError::ChannelNotFound, 404, "channel_not_found"),
            (ApiError::PostNotFound, 404, "post_not_found"),
            (ApiError::PostGone, 410, "post_gone"),
            (ApiError::NotFound("nothing".into()), 404, "not_found"),
            (ApiError::RateLimited(7), 429, "rate_limited"),
            (ApiError::BadJson("eof".into()), 400, "json_invalid"),
            (
                ApiError::UnsupportedMediaType,
                415,
                "content_type_unsupported",
            ),
            (
                ApiError::IdempotencyInProgress,
                409,
                "idempotency_in_progress",
            ),
            (ApiError::invalid("post_empty", "empty"), 422, "post_empty"),
            (ApiError::from(DbError::NotFound), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let response = error.error_response();
            assert_eq!(response.status().as_u16(), status, "{code}");
            let body = response.into_body().try_into_bytes().unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["error"]["code"], code);
            let message = json["error"]["message"].as_str().unwrap();
            assert!(!message.is_empty());
            assert!(
                !message.contains("not found"),
                "internal cause leaked: {message}"
            );
        }
    }
}

//! `{"error": {"code": "…", "message": "…"}}`: the one error shape of every JSON answer.

use actix_web::{
    error::{InternalError, JsonPayloadError, PathError, QueryPayloadError},
    http::StatusCode,
    web, HttpRequest, HttpResponse,
};
use serde::Serialize;

/// The body of every error Herald answers with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code for programs (`channel_not_found`).
    pub code: String,
    /// A sentence for people; safe to show, never an internal cause.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: message.into(),
            },
        }
    }

    /// The response with this body and `status`.
    pub fn respond(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
        HttpResponse::build(status).json(ErrorBody::new(code, message))
    }
}

/// JSON bodies that fail to parse answer 400 `json_invalid` (413 `body_too_large` when over
/// the limit, 415 `content_type_unsupported` without a JSON content type).
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            let (status, code, message) = match &err {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is too large".to_string(),
                ),
                JsonPayloadError::ContentType => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "content_type_unsupported",
                    "send the body as application/json".to_string(),
                ),
                other => (
                    StatusCode::BAD_REQUEST,
                    "json_invalid",
                    format!("the body is not valid JSON for this request: {other}"),
                ),
            };
            InternalError::from_response(err, ErrorBody::respond(status, code, message)).into()
        })
}

/// Malformed path parameters answer 404 `not_found`: no such resource can exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        InternalError::from_response(
            err,
            ErrorBody::respond(StatusCode::NOT_FOUND, "not_found", "no such resource"),
        )
        .into()
    })
}

/// Malformed query strings answer 400 `query_invalid`.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let message = format!("the query string is invalid: {err}");
        InternalError::from_response(
            err,
            ErrorBody::respond(StatusCode::BAD_REQUEST, "query_invalid", message),
        )
        .into()
    })
}

/// The default service: unknown routes answer 404 in the same shape.
pub async fn not_found_route(req: HttpRequest) -> HttpResponse {
    if req.method() == actix_web::http::Method::GET || req.method() == actix_web::http::Method::HEAD
    {
        ErrorBody::respond(StatusCode::NOT_FOUND, "not_found", "no such resource")
    } else {
        ErrorBody::respond(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource or method",
        )
    }
}

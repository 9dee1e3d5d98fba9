//! The owner's HTTP API under `/api/v1`: bearer-token auth scoped to a channel; posts
//! (publish, schedule, preview, edit, delete, pin), their delivery status, the profile,
//! media uploads and the OpenAPI document. Every error is `{"error": {"code", "message"}}`
//! with a stable code.
//!
//! An entry point: calls `posts` (the lifecycle), `db`, `federation` and `delivery`.

pub mod auth;
mod authorized;
mod changes;
mod delivery;
mod error;
pub(crate) mod idempotency;
pub(crate) mod media;
mod moderation;
mod openapi;
mod posts;
mod profile;
mod sources;
mod webhooks;

pub use auth::{Scope, TokenGrant, TokenKeys};
pub(crate) use authorized::keys_and_state;
pub use authorized::{scope, Authorized};
pub use error::ApiError;
pub use openapi::ApiDoc;

use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::OpenApi;

/// The largest JSON body the API reads.
const API_BODY_LIMIT: usize = 256 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(crate::http::json_config(API_BODY_LIMIT))
            .app_data(web::PayloadConfig::new(API_BODY_LIMIT))
            .route("/openapi.json", web::get().to(get_openapi))
            .route("/channels/{name}", web::get().to(profile::get_channel))
            .route("/channels/{name}", web::patch().to(profile::patch_channel))
            .route(
                "/channels/{name}/media",
                web::post().to(media::upload_media),
            )
            .route("/channels/{name}/posts", web::post().to(posts::create_post))
            .route("/channels/{name}/posts", web::get().to(posts::list_posts))
            .route(
                "/channels/{name}/posts/preview",
                web::post().to(posts::preview_post),
            )
            .route(
                "/channels/{name}/posts/{id}",
                web::get().to(posts::get_post),
            )
            .route(
                "/channels/{name}/posts/{id}",
                web::patch().to(changes::patch_post),
            )
            .route(
                "/channels/{name}/posts/{id}",
                web::delete().to(changes::delete_post),
            )
            .route(
                "/channels/{name}/posts/{id}/pin",
                web::post().to(changes::pin_post),
            )
            .route(
                "/channels/{name}/posts/{id}/unpin",
                web::post().to(changes::unpin_post),
            )
            .route(
                "/channels/{name}/posts/{id}/delivery",
                web::get().to(delivery::get_delivery),
            )
            .route(
                "/channels/{name}/sources",
                web::post().to(sources::create_source),
            )
            .route(
                "/channels/{name}/sources",
                web::get().to(sources::list_sources),
            )
            .route(
                "/channels/{name}/sources/{id}",
                web::delete().to(sources::delete_source),
            )
            .route(
                "/channels/{name}/webhooks",
                web::post().to(webhooks::create_webhook),
            )
            .route(
                "/channels/{name}/webhooks",
                web::get().to(webhooks::list_webhooks),
            )
            .route(
                "/channels/{name}/webhooks/{id}",
                web::delete().to(webhooks::delete_webhook),
            )
            .route(
                "/channels/{name}/webhooks/{id}/deliveries",
                web::get().to(webhooks::list_webhook_deliveries),
            )
            .route(
                "/channels/{name}/followers",
                web::get().to(moderation::list_followers),
            )
            .route(
                "/channels/{name}/followers/{id}",
                web::delete().to(moderation::remove_follower),
            )
            .route(
                "/channels/{name}/followers/{id}/approve",
                web::post().to(moderation::approve_follower),
            )
            .route(
                "/channels/{name}/domain_blocks",
                web::get().to(moderation::list_domain_blocks),
            )
            .route(
                "/channels/{name}/domain_blocks",
                web::post().to(moderation::add_domain_block),
            )
            .route(
                "/channels/{name}/domain_blocks/{domain}",
                web::delete().to(moderation::remove_domain_block),
            )
            .route(
                "/channels/{name}/replies",
                web::get().to(moderation::list_replies),
            )
            .route(
                "/channels/{name}/reports",
                web::get().to(moderation::list_reports),
            )
            .default_service(web::to(crate::http::not_found_route)),
    );
}

async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// Parses a JSON body read as bytes (where the raw body is needed too, as for
/// idempotency keys), with the same errors as actix's JSON extractor.
fn parse_json<T: serde::de::DeserializeOwned>(
    request: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    let json_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
    if !json_type {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadJson(e.to_string()))
}

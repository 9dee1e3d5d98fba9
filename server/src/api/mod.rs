//! The owner's HTTP API under `/api/v1`: bearer-token auth scoped to a channel, posts and
//! their delivery status, and the OpenAPI document. Every error is
//! `{"error": {"code", "message"}}` with a stable code.
//!
//! An entry point: calls `federation` (to build activities), `db`, `content` and
//! `delivery` (to enqueue).

pub mod auth;
mod error;
mod openapi;
mod posts;

pub use auth::{Scope, TokenKeys};
pub use error::ApiError;
pub use openapi::ApiDoc;

use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

/// The largest JSON body the API reads.
const API_BODY_LIMIT: usize = 256 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(crate::http::json_config(API_BODY_LIMIT))
            .route("/openapi.json", web::get().to(get_openapi))
            .route("/channels/{name}/posts", web::post().to(posts::create_post))
            .route("/channels/{name}/posts", web::get().to(posts::list_posts))
            .route(
                "/channels/{name}/posts/{id}",
                web::get().to(posts::get_post),
            )
            .route(
                "/channels/{name}/posts/{id}/delivery",
                web::get().to(posts::get_delivery),
            )
            .default_service(web::to(crate::http::not_found_route)),
    );
}

async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

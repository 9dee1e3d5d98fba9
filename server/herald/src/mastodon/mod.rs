//! The subset of Mastodon's client API that apps (Ivory, Tusky, Elk, Phanpy, Ice Cubes,
//! Mastodon.py) need to sign in as a channel and post: OAuth 2 (`oauth`), the instance
//! (`instance`), the account (`accounts`), statuses (`statuses`), media (`media`), and the
//! endpoints apps call at start-up that a channel has nothing behind (`startup`). A Mastodon app's access token is a Herald
//! API token of one channel, so it shows in `herald token list` and is revoked like any
//! other. Errors are Mastodon's `{"error": "…"}`, or OAuth's `{"error",
//! "error_description"}` on the OAuth endpoints.
//!
//! An entry point beside `api`: calls `db`, the token keys of `api`, and the services.

mod accounts;
mod body;
mod cors;
mod instance;
mod media;
mod notifications;
mod oauth;
mod scopes;
mod startup;
mod statuses;

use crate::{
    api::{ApiError, Scope, TokenGrant},
    db::{Actor, Channel, TokenRecord},
};
use actix_web::{
    dev::Payload, http::StatusCode, web, FromRequest, HttpRequest, HttpResponse, ResponseError,
};
use futures::future::LocalBoxFuture;

pub use cors::cors;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/apps", web::post().to(oauth::create_app))
        .route(
            "/api/v1/apps/verify_credentials",
            web::get().to(oauth::verify_app),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(oauth::get_server_metadata),
        )
        .route("/oauth/authorize", web::get().to(oauth::get_authorize))
        .route("/oauth/authorize", web::post().to(oauth::post_authorize))
        .route("/oauth/token", web::post().to(oauth::post_token))
        .route("/oauth/revoke", web::post().to(oauth::post_revoke))
        // Mastodon.py asks with a trailing slash, which Mastodon's router allows.
        .service(
            web::resource(["/api/v1/instance", "/api/v1/instance/"])
                .route(web::get().to(instance::get_instance_v1)),
        )
        .service(
            web::resource(["/api/v2/instance", "/api/v2/instance/"])
                .route(web::get().to(instance::get_instance_v2)),
        )
        .route(
            "/api/v1/accounts/verify_credentials",
            web::get().to(accounts::verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            web::patch().to(accounts::update_credentials),
        )
        .route("/api/v1/statuses", web::post().to(statuses::post_status))
        .route("/api/v1/statuses/{id}", web::get().to(statuses::get_status))
        .route("/api/v1/statuses/{id}", web::put().to(statuses::put_status))
        .route(
            "/api/v1/statuses/{id}",
            web::delete().to(statuses::delete_status),
        )
        .route(
            "/api/v1/statuses/{id}/source",
            web::get().to(statuses::get_source),
        )
        .route(
            "/api/v1/statuses/{id}/history",
            web::get().to(statuses::get_history),
        )
        .route(
            "/api/v1/statuses/{id}/pin",
            web::post().to(statuses::pin_status),
        )
        .route(
            "/api/v1/statuses/{id}/unpin",
            web::post().to(statuses::unpin_status),
        )
        .route(
            "/api/v1/scheduled_statuses",
            web::get().to(statuses::get_scheduled_statuses),
        )
        .route(
            "/api/v1/scheduled_statuses/{id}",
            web::put().to(statuses::put_scheduled),
        )
        .route(
            "/api/v1/scheduled_statuses/{id}",
            web::delete().to(statuses::delete_scheduled),
        )
        .route(
            "/api/v1/notifications",
            web::get().to(notifications::get_notifications),
        )
        .route(
            "/api/v2/notifications",
            web::get().to(notifications::get_grouped_notifications),
        )
        .route(
            "/api/v1/follow_requests",
            web::get().to(notifications::get_follow_requests),
        )
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            web::post().to(notifications::authorize_request),
        )
        .route(
            "/api/v1/follow_requests/{id}/reject",
            web::post().to(notifications::reject_request),
        )
        .route(
            "/api/v1/accounts/{id}/followers",
            web::get().to(notifications::get_followers),
        )
        .route(
            "/api/v1/accounts/{id}",
            web::get().to(accounts::get_account),
        )
        .route(
            "/api/v1/accounts/{id}/statuses",
            web::get().to(accounts::get_account_statuses),
        )
        .route("/api/v2/media", web::post().to(media::post_media))
        .route("/api/v1/media", web::post().to(media::post_media))
        .route("/api/v1/media/{id}", web::get().to(media::get_media))
        .route("/api/v1/media/{id}", web::put().to(media::put_media))
        .configure(startup::routes);
}

/// A Mastodon API error: `{"error": "…"}` with its status, as apps expect.
#[derive(Debug)]
pub struct MastodonError {
    status: StatusCode,
    message: String,
}

impl MastodonError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> MastodonError {
        MastodonError {
            status,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for MastodonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for MastodonError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(serde_json::json!({ "error": self.message }))
    }
}

impl From<MastodonError> for HttpResponse {
    fn from(err: MastodonError) -> Self {
        err.error_response()
    }
}

/// The owner API's refusals keep their status and message, in Mastodon's shape; an
/// internal cause is logged once and not shown.
impl From<ApiError> for MastodonError {
    fn from(err: ApiError) -> Self {
        let (status, _) = err.status_and_code();
        if let ApiError::Internal(cause) = &err {
            tracing::error!(error = %crate::error_chain(cause.as_ref()), "client API request failed");
        }
        MastodonError::new(status, err.to_string())
    }
}

impl From<crate::db::DbError> for MastodonError {
    fn from(err: crate::db::DbError) -> Self {
        ApiError::from(err).into()
    }
}

/// The channel a Mastodon app acts as: the one its bearer token belongs to. Any valid
/// token of the channel reads the account; endpoints that change something check their
/// scope with [`ClientToken::require`].
pub struct ClientToken {
    pub channel: Channel,
    pub record: TokenRecord,
    /// Who is acting (the token's person, or the token).
    pub actor: Actor,
    grant: TokenGrant,
}

impl ClientToken {
    /// Refuses (403) a token without `scope`, or whose person's role lacks it.
    pub fn require(&self, scope: Scope) -> Result<(), MastodonError> {
        Ok(self.grant.allows(scope)?)
    }

    /// Refuses (403) a person's token whose role lacks `needed`.
    pub fn require_role(&self, needed: crate::db::Role) -> Result<(), MastodonError> {
        Ok(self.grant.has_role(needed)?)
    }
}

impl FromRequest for ClientToken {
    type Error = MastodonError;
    type Future = LocalBoxFuture<'static, Result<Self, MastodonError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let (keys, data) = crate::api::keys_and_state(&request).await?;
            let token = crate::http::bearer_token(&request).ok_or(ApiError::TokenMissing)?;
            let grant = keys.channel_of(&data.db, token).await?;
            Ok(ClientToken {
                channel: grant.channel.clone(),
                record: grant.record.clone(),
                actor: grant.actor.clone(),
                grant,
            })
        })
    }
}

/// Mastodon's time format: RFC 3339 in UTC with milliseconds (`2026-12-04T10:00:00.000Z`).
pub fn mastodon_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

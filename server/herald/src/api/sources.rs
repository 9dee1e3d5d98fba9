//! Feed sources: a channel subscribes to an Atom, RSS or JSON Feed URL, and its new
//! entries are posted by the poller (see `sources`).

use super::{scope, ApiError, Authorized};
use crate::{
    db::{self, DbError, SourceId},
    sources::{self, SourceError, SourceInput},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRequest {
    /// The feed: Atom, RSS 2.0/1.0 or JSON Feed.
    pub url: String,
    /// How an entry becomes a post (Markdown): `{title}`, `{link}`, `{summary}`,
    /// `{content}` and `{hashtags}` (from its categories) are filled in. Default:
    /// `**{title}**\n\n{summary}\n\n{link}\n\n{hashtags}`.
    pub template: Option<String>,
    /// Seconds between polls (60 to 604800); default `sources.interval_secs`.
    pub interval_secs: Option<u32>,
    /// Entries the first poll posts, newest first; default `sources.initial_entries`.
    pub initial_entries: Option<u32>,
    /// The most entries one poll posts; default `sources.max_per_poll`.
    pub max_per_poll: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceResponse {
    pub id: i64,
    pub url: String,
    pub template: String,
    pub interval_secs: u32,
    pub initial_entries: u32,
    pub max_per_poll: u32,
    pub next_poll_at: DateTime<Utc>,
    pub last_polled_at: Option<DateTime<Utc>>,
    /// Failed polls in a row.
    pub failures: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// The WebSub subscription: none, `requested`, `active` or `denied`.
    pub websub: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<db::Source> for SourceResponse {
    fn from(s: db::Source) -> Self {
        SourceResponse {
            id: s.id.0,
            url: s.url,
            template: s.template,
            interval_secs: s.interval_secs,
            initial_entries: s.initial_entries,
            max_per_poll: s.max_per_poll,
            next_poll_at: s.next_poll_at,
            last_polled_at: s.last_polled_at,
            failures: s.failures,
            last_status: s.last_status,
            last_error: s.last_error,
            websub: s.websub_state,
            created_at: s.created_at,
        }
    }
}

impl From<SourceError> for ApiError {
    fn from(err: SourceError) -> Self {
        match err {
            SourceError::UrlInvalid(m) => ApiError::invalid("url_invalid", m),
            SourceError::UrlRefused(m) => ApiError::invalid("url_refused", m),
            SourceError::NotAFeed(m) => ApiError::invalid("not_a_feed", m),
            SourceError::Unreachable(m) => ApiError::invalid("source_unreachable", m),
            e @ SourceError::TooLarge(_) => ApiError::invalid("feed_too_large", e.to_string()),
            SourceError::Invalid(m) => ApiError::invalid("source_invalid", m),
            SourceError::Db(e) => ApiError::Internal(Box::new(e)),
            SourceError::Client(e) => ApiError::Internal(Box::new(e)),
        }
    }
}

/// Subscribe the channel to a feed
///
/// The URL is fetched once to check that it is a feed; the first poll follows at once and
/// posts the newest `initial_entries`.
#[utoipa::path(post, path = "/api/v1/channels/{name}/sources", tag = "sources",
    params(("name" = String, Path)), request_body = SourceRequest,
    responses((status = 201, body = SourceResponse), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_source(
    body: web::Json<SourceRequest>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = SourceInput {
        url: body.url,
        template: body.template,
        interval_secs: body.interval_secs,
        initial_entries: body.initial_entries,
        max_per_poll: body.max_per_poll,
    };
    let source =
        sources::add_source(&data.db, &data.config, &auth.channel, &auth.actor, input).await?;
    Ok(HttpResponse::Created().json(SourceResponse::from(source)))
}

/// The channel's feed sources, with how their polls went
#[utoipa::path(get, path = "/api/v1/channels/{name}/sources", tag = "sources",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<SourceResponse>)),
    security(("bearer" = [])))]
pub async fn list_sources(
    // Editors and up: a private feed's URL often carries a token.
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let sources = db::sources_of(&data.db, auth.channel.id).await?;
    Ok(HttpResponse::Ok().json(
        sources
            .into_iter()
            .map(SourceResponse::from)
            .collect::<Vec<_>>(),
    ))
}

/// Unsubscribe from a feed (its posts stay)
#[utoipa::path(delete, path = "/api/v1/channels/{name}/sources/{id}", tag = "sources",
    params(("name" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_source(
    path: web::Path<(String, i64)>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let source = match db::source_by_id(&data.db, SourceId(id)).await {
        Ok(source) if source.channel_id == auth.channel.id => source,
        Ok(_) | Err(DbError::NotFound) => {
            return Err(ApiError::NotFound(
                "no source with this id in this channel".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    db::delete_source(&data.db, source.id).await?;
    crate::people::audit(
        &data.db,
        &auth.channel,
        &auth.actor,
        db::AuditAction::SourceRemoved,
        &source.url,
    )
    .await;
    Ok(HttpResponse::NoContent().finish())
}

//! What apps call at start-up and on their first screens. The home timeline is the
//! channel's own posts (a channel follows no one); the rest a channel has nothing behind
//! answer what Mastodon answers when there is nothing: an empty list or object, never an
//! error page, so that no app stops at sign-in.

use super::{statuses::status_with_account, ClientToken, MastodonError};
use crate::{
    db::{self, PostId},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// Posts a page holds by default, and at most (Mastodon's 20 and 40).
const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 40;

/// Endpoints that answer an empty list to a signed-in app.
const EMPTY_LISTS: [&str; 13] = [
    "/api/v1/lists",
    "/api/v1/filters",
    "/api/v2/filters",
    "/api/v1/followed_tags",
    "/api/v1/conversations",
    "/api/v1/bookmarks",
    "/api/v1/favourites",
    "/api/v1/blocks",
    "/api/v1/mutes",
    "/api/v1/domain_blocks",
    "/api/v1/featured_tags",
    "/api/v1/suggestions",
    "/api/v2/suggestions",
];

/// Public endpoints that answer an empty list.
const EMPTY_PUBLIC_LISTS: [&str; 6] = [
    "/api/v1/custom_emojis",
    "/api/v1/announcements",
    "/api/v1/timelines/public",
    "/api/v1/trends/tags",
    "/api/v1/trends/statuses",
    "/api/v1/trends/links",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in EMPTY_LISTS {
        cfg.route(path, web::get().to(empty_list));
    }
    for path in EMPTY_PUBLIC_LISTS {
        cfg.route(path, web::get().to(empty_public_list));
    }
    cfg.route("/api/v1/timelines/home", web::get().to(home_timeline))
        .route("/api/v1/markers", web::get().to(markers))
        .route("/api/v1/preferences", web::get().to(preferences))
        .route(
            "/api/v1/push/subscription",
            web::get().to(no_push_subscription),
        );
}

async fn empty_list(_token: ClientToken) -> HttpResponse {
    HttpResponse::Ok().json(json!([]))
}

async fn empty_public_list() -> HttpResponse {
    HttpResponse::Ok().json(json!([]))
}

async fn markers(_token: ClientToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({}))
}

/// Herald sends no Web Push: there is never a subscription (Mastodon's 404).
async fn no_push_subscription(_token: ClientToken) -> HttpResponse {
    MastodonError::new(actix_web::http::StatusCode::NOT_FOUND, "Record not found").into()
}

/// The composer's defaults.
async fn preferences(token: ClientToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "posting:default:visibility": "public",
        "posting:default:sensitive": false,
        "posting:default:language": token.channel.default_language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    }))
}

#[derive(Deserialize)]
pub struct PageQuery {
    max_id: Option<String>,
    since_id: Option<String>,
    min_id: Option<String>,
    limit: Option<u64>,
}

/// `GET /api/v1/timelines/home`: the channel's own posts (a channel follows no one).
async fn home_timeline(
    request: HttpRequest,
    query: web::Query<PageQuery>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(crate::api::Scope::PostsRead)?;
    posts_page(&request, &query, &data, &token.channel).await
}

/// A page of `channel`'s posts as statuses, newest first, paged by `max_id`, `since_id`
/// and `min_id` with `Link: <…>; rel="next", <…>; rel="prev"` as Mastodon's.
pub(super) async fn posts_page(
    request: &HttpRequest,
    query: &PageQuery,
    data: &HeraldState,
    channel: &db::Channel,
) -> Result<HttpResponse, MastodonError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let id = |raw: &Option<String>| raw.as_deref().and_then(PostId::parse);
    let window = db::PostWindow {
        max: id(&query.max_id),
        since: id(&query.since_id),
        min: id(&query.min_id),
    };
    let posts = db::list_posts_in(&data.db, channel.id, window, limit).await?;
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    let account = super::accounts::account_json(data, channel, false).await?;
    let mut statuses = Vec::with_capacity(posts.len());
    for post in &posts {
        let own: Vec<db::Media> = media
            .iter()
            .filter(|m| m.post_id == Some(post.id))
            .cloned()
            .collect();
        statuses.push(status_with_account(data, channel, &account, post, &own).await?);
    }
    let mut response = HttpResponse::Ok();
    if let (Some(newest), Some(oldest)) = (posts.first(), posts.last()) {
        let link = |key: &str, id: PostId| {
            let mut url = data.urls.base().clone();
            url.set_path(request.path());
            url.query_pairs_mut()
                .append_pair(key, &id.to_string())
                .append_pair("limit", &limit.to_string());
            url
        };
        let next = link("max_id", oldest.id);
        let prev = link("min_id", newest.id);
        response.insert_header((
            "Link",
            format!("<{next}>; rel=\"next\", <{prev}>; rel=\"prev\""),
        ));
    }
    Ok(response.json(statuses))
}

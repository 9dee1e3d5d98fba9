//! `/api/v1/channels/{name}/posts`: publish, list, read, and follow a post's delivery.

use super::{auth::Scope, ApiError, TokenKeys};
use crate::{
    content,
    db::{self, ActivityKind, Channel, DbError, NewActivity, NewPost, Post, PostId},
    federation::activities::create::build_create,
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The longest post body accepted, in characters. Mastodon shows remote posts of any
/// length; this bounds what one request can make every follower's server store.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest content warning, in characters.
pub const MAX_SUMMARY_CHARS: usize = 1_000;
/// Posts per page in lists, by default and at most.
const DEFAULT_PAGE: u64 = 20;
const MAX_PAGE: u64 = 100;

/// A new post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostRequest {
    /// The post in Markdown.
    #[schema(example = "We shipped **2.0** today. Read more at <https://example.com/blog>.")]
    pub text: String,
    /// A content warning: followers see it first and open the post to read on.
    pub summary: Option<String>,
    /// The post's language, as a BCP 47 tag (`en`, `pt-BR`).
    pub language: Option<String>,
    /// Marks the post sensitive (hides its media behind a warning).
    pub sensitive: Option<bool>,
    /// Publish later, at this RFC 3339 time. Not supported yet: refused with 422.
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// A post as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostResponse {
    /// The post's id (a UUIDv7).
    pub id: String,
    /// The public HTML page of the post.
    pub url: String,
    /// The post's ActivityPub id (its Note).
    pub uri: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The Markdown as written.
    pub text: String,
    /// The HTML that federates.
    pub content: String,
    pub summary: Option<String>,
    pub language: Option<String>,
    pub sensitive: bool,
}

/// A page of posts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostList {
    pub posts: Vec<PostResponse>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only posts older than this post id.
    pub before: Option<String>,
    /// Posts per page (1–100, default 20).
    pub limit: Option<u64>,
}

/// Where a post's delivery stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryStatus {
    pub post_id: String,
    /// `pending` until the post has been expanded into one delivery per server, then `done`.
    pub fanout: String,
    /// Deliveries (one per receiving server) by state: pending, delivered, retrying,
    /// failed (given up, with the reason below) and parked (the server is unreachable; sent
    /// when it is back).
    pub counts: BTreeMap<String, u64>,
    /// Servers whose delivery failed, is being retried, or is parked.
    pub failures: Vec<DeliveryFailure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryFailure {
    /// The receiving server (host, and port when not the default).
    pub server: String,
    pub state: String,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

impl PostResponse {
    fn new(state: &HeraldState, channel: &Channel, post: &Post) -> PostResponse {
        PostResponse {
            id: post.id.to_string(),
            url: state.urls.post_page(&channel.name, post.id).to_string(),
            uri: state.urls.post(post.id).to_string(),
            created_at: post.created_at,
            published_at: post.published_at,
            text: post.source.clone(),
            content: post.content_html.clone(),
            summary: post.summary.clone(),
            language: post.language.clone(),
            sensitive: post.sensitive,
        }
    }
}

/// A BCP 47 language tag, loosely: a 2–3 letter primary language and optional subtags.
fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Validates a request into the parts of a post.
fn validate(
    request: NewPostRequest,
) -> Result<(String, Option<String>, Option<String>, bool), ApiError> {
    if request.scheduled_at.is_some() {
        return Err(ApiError::invalid(
            "scheduling_unsupported",
            "scheduled posts are not supported yet; omit scheduled_at to publish now",
        ));
    }
    let text = request.text.trim().to_string();
    if text.is_empty() {
        return Err(ApiError::invalid("post_empty", "`text` must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid(
            "post_too_long",
            format!("`text` is limited to {MAX_TEXT_CHARS} characters"),
        ));
    }
    let summary = request
        .summary
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if summary
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SUMMARY_CHARS)
    {
        return Err(ApiError::invalid(
            "summary_too_long",
            format!("`summary` is limited to {MAX_SUMMARY_CHARS} characters"),
        ));
    }
    let language = request
        .language
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty());
    if let Some(lang) = &language {
        if !valid_language(lang) {
            return Err(ApiError::invalid(
                "language_invalid",
                format!("`{lang}` is not a language tag such as en or pt-BR"),
            ));
        }
    }
    Ok((text, summary, language, request.sensitive.unwrap_or(false)))
}

/// Publish a post
///
/// Stores the post and its `Create` activity and queues it for every follower's server.
/// Answers at once; delivery happens in the background (see the delivery endpoint).
#[utoipa::path(
    post,
    path = "/api/v1/channels/{name}/posts",
    tag = "posts",
    params(("name" = String, Path, description = "The channel's name")),
    request_body = NewPostRequest,
    responses(
        (status = 201, description = "Published", body = PostResponse),
        (status = 400, description = "Malformed JSON", body = crate::http::ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 403, description = "Token for another channel, or without posts:write", body = crate::http::ErrorBody),
        (status = 404, description = "No such channel", body = crate::http::ErrorBody),
        (status = 422, description = "Empty, too long, or otherwise unacceptable", body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_post(
    name: web::Path<String>,
    request: HttpRequest,
    body: web::Json<NewPostRequest>,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = keys
        .authorize(&request, &data.db, &name, Scope::PostsWrite)
        .await?;
    let (text, summary, language, sensitive) = validate(body.into_inner())?;
    let new = NewPost {
        id: PostId::new(),
        channel_id: channel.id,
        content_html: content::render_markdown(&text),
        source: text,
        summary,
        language,
        sensitive,
        created_at: Utc::now(),
    };
    // The Create shares the post's UUID: one Create per post, found without a lookup.
    let create = build_create(&data.urls, &channel, &new.to_post(), new.id.0);
    let activity = NewActivity {
        id: new.id.0,
        channel_id: channel.id,
        kind: ActivityKind::Create,
        post_id: Some(new.id),
        payload: serde_json::to_string(&create).map_err(|e| ApiError::Internal(Box::new(e)))?,
    };
    let (post, fanout) = db::publish_post(&data.db, new, activity).await?;
    if let Err(err) = data.queue.enqueue_fanout(fanout).await {
        // Committed as pending: the sweeper enqueues it once Redis answers again.
        tracing::warn!(error = %crate::error_chain(&err), "could not enqueue a fan-out");
    }
    let response = PostResponse::new(&data, &channel, &post);
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/channels/{}/posts/{}", channel.name, post.id),
        ))
        .json(response))
}

/// List posts
///
/// The channel's published posts, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{name}/posts",
    tag = "posts",
    params(("name" = String, Path, description = "The channel's name"), ListQuery),
    responses(
        (status = 200, description = "A page of posts", body = PostList),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_posts(
    name: web::Path<String>,
    query: web::Query<ListQuery>,
    request: HttpRequest,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = keys
        .authorize(&request, &data.db, &name, Scope::PostsRead)
        .await?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit_invalid",
            format!("`limit` must be 1 to {MAX_PAGE}"),
        ));
    }
    let before = match query.before.as_deref() {
        Some(raw) => Some(
            PostId::parse(raw)
                .ok_or_else(|| ApiError::invalid("cursor_invalid", "`before` must be a post id"))?,
        ),
        None => None,
    };
    let posts = db::list_posts(&data.db, channel.id, before, limit).await?;
    let next = (posts.len() as u64 == limit)
        .then(|| posts.last().map(|p| p.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(PostList {
        posts: posts
            .iter()
            .map(|p| PostResponse::new(&data, &channel, p))
            .collect(),
        next,
    }))
}

async fn load_post(data: &HeraldState, channel: &Channel, raw: &str) -> Result<Post, ApiError> {
    let id = PostId::parse(raw).ok_or(ApiError::PostNotFound)?;
    match db::post_by_id(&data.db, channel.id, id).await {
        Ok(post) if post.deleted_at.is_none() => Ok(post),
        Ok(_) | Err(DbError::NotFound) => Err(ApiError::PostNotFound),
        Err(e) => Err(e.into()),
    }
}

/// Read a post
#[utoipa::path(
    get,
    path = "/api/v1/channels/{name}/posts/{id}",
    tag = "posts",
    params(
        ("name" = String, Path, description = "The channel's name"),
        ("id" = String, Path, description = "The post's id"),
    ),
    responses(
        (status = 200, body = PostResponse),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_post(
    path: web::Path<(String, String)>,
    request: HttpRequest,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let channel = keys
        .authorize(&request, &data.db, &name, Scope::PostsRead)
        .await?;
    let post = load_post(&data, &channel, &id).await?;
    Ok(HttpResponse::Ok().json(PostResponse::new(&data, &channel, &post)))
}

/// A post's delivery status
///
/// How many receiving servers have the post, how many are pending or being retried, and
/// which failed and why.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{name}/posts/{id}/delivery",
    tag = "posts",
    params(
        ("name" = String, Path, description = "The channel's name"),
        ("id" = String, Path, description = "The post's id"),
    ),
    responses(
        (status = 200, body = DeliveryStatus),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_delivery(
    path: web::Path<(String, String)>,
    request: HttpRequest,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let channel = keys
        .authorize(&request, &data.db, &name, Scope::PostsRead)
        .await?;
    let post = load_post(&data, &channel, &id).await?;
    let activity = post.id.0;
    let counts = db::delivery_counts(&data.db, Some(activity)).await?;
    let fanout = match db::fanout_for_activity(&data.db, activity).await {
        Ok(fanout) => fanout.state,
        Err(DbError::NotFound) => db::FANOUT_DONE.to_string(),
        Err(e) => return Err(e.into()),
    };
    let failures = db::troubled_deliveries(&data.db, activity, 100)
        .await?
        .into_iter()
        .map(|d| DeliveryFailure {
            server: d.authority,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
        })
        .collect();
    Ok(HttpResponse::Ok().json(DeliveryStatus {
        post_id: post.id.to_string(),
        fanout,
        counts,
        failures,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> NewPostRequest {
        NewPostRequest {
            text: text.into(),
            summary: None,
            language: None,
            sensitive: None,
            scheduled_at: None,
        }
    }

    fn code(
        result: Result<(String, Option<String>, Option<String>, bool), ApiError>,
    ) -> &'static str {
        match result {
            Err(e) => e.status_and_code().1,
            Ok(_) => "ok",
        }
    }

    #[test]
    fn posts_are_validated() {
        assert_eq!(code(validate(request("hello"))), "ok");
        assert_eq!(code(validate(request("   \n"))), "post_empty");
        assert_eq!(
            code(validate(request(&"x".repeat(MAX_TEXT_CHARS + 1)))),
            "post_too_long"
        );
        let mut r = request("hi");
        r.language = Some("english language".into());
        assert_eq!(code(validate(r)), "language_invalid");
        let mut r = request("hi");
        r.summary = Some("w".repeat(MAX_SUMMARY_CHARS + 1));
        assert_eq!(code(validate(r)), "summary_too_long");
        let mut r = request("hi");
        r.scheduled_at = Some(Utc::now());
        assert_eq!(code(validate(r)), "scheduling_unsupported");
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "pt-BR", "zh-Hant-TW", "gsw"] {
            assert!(valid_language(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "en-", "1a"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }
}

//! `/api/v1/channels/{name}/posts`: publish (now or later), preview, list and read posts.

use super::{idempotency, scope, ApiError, Authorized};
use crate::{
    db::{self, Channel, InteractionPolicy, Media, MediaId, Post, PostId, Visibility},
    posts::{self, PostInput, Published},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Posts per page in lists, by default and at most.
const DEFAULT_PAGE: u64 = 20;
const MAX_PAGE: u64 = 100;

/// A new post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostRequest {
    /// The post in Markdown. Bare URLs are linked, `#hashtags` link to the channel's
    /// hashtag page, `@user@domain` mentions are resolved and the person is notified.
    #[schema(example = "We shipped **2.0** today: https://example.com/blog #release")]
    pub text: String,
    /// A content warning: followers see it first and open the post to read on.
    pub summary: Option<String>,
    /// The post's language, as a BCP 47 tag (`en`, `pt-BR`); the channel's default if absent.
    pub language: Option<String>,
    /// Marks the post sensitive (hides its media behind a warning).
    pub sensitive: Option<bool>,
    /// `public` (default) or `quiet`: followers only see a quiet post in their home
    /// timelines; it stays out of public timelines.
    pub visibility: Option<Visibility>,
    /// Publish later, at this RFC 3339 time.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Uploaded media to attach (up to 4), in order.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// Who may reply, quote and boost this post (the channel's policy if absent).
    pub policy: Option<InteractionPolicy>,
}

/// An attachment as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaResponse {
    pub id: String,
    pub url: String,
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub blurhash: Option<String>,
    pub description: Option<String>,
    /// Focal point, each coordinate in −1…1.
    pub focus: [f64; 2],
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
    /// When it went out; null while scheduled.
    pub published_at: Option<DateTime<Utc>>,
    /// When it goes out, while scheduled.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The time of the last edit.
    pub updated_at: Option<DateTime<Utc>>,
    pub pinned: bool,
    /// The Markdown as written.
    pub text: String,
    /// The HTML that federates.
    pub content: String,
    pub summary: Option<String>,
    pub language: Option<String>,
    pub sensitive: bool,
    pub visibility: Visibility,
    /// This post's own interaction policy (null: the channel's).
    pub policy: Option<InteractionPolicy>,
    pub media: Vec<MediaResponse>,
    /// What other servers did with it: counted per post, never per reader.
    pub counts: CountsResponse,
}

/// A post's interactions, as reported by the servers of the people who made them.
#[derive(Clone, Copy, Debug, Default, Serialize, ToSchema)]
pub struct CountsResponse {
    pub likes: u64,
    pub boosts: u64,
    /// Emoji reactions (Misskey, Pleroma, Akkoma).
    pub reactions: u64,
    pub replies: u64,
}

impl From<db::InteractionCounts> for CountsResponse {
    fn from(c: db::InteractionCounts) -> Self {
        CountsResponse {
            likes: c.likes,
            boosts: c.boosts,
            reactions: c.reactions,
            replies: c.replies,
        }
    }
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
    /// `true`: the scheduled posts instead, soonest first (not paged).
    pub scheduled: Option<bool>,
}

/// The preview of a post: its Note and HTML.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewResponse {
    /// The Note as followers' servers would receive it.
    #[schema(value_type = Object)]
    pub note: serde_json::Value,
    /// The content HTML, in the subset Mastodon's sanitizer keeps.
    pub html: String,
}

pub(super) fn media_response(state: &HeraldState, media: &Media) -> MediaResponse {
    MediaResponse {
        id: media.id.to_string(),
        url: state.urls.media(&media.file_name).to_string(),
        media_type: media.media_type.clone(),
        width: media.width,
        height: media.height,
        blurhash: media.blurhash.clone(),
        description: media.description.clone(),
        focus: [media.focus.0, media.focus.1],
    }
}

impl PostResponse {
    pub(super) fn new(
        state: &HeraldState,
        channel: &Channel,
        post: &Post,
        media: &[Media],
    ) -> PostResponse {
        PostResponse {
            id: post.id.to_string(),
            url: state.urls.post_page(&channel.name, post.id).to_string(),
            uri: state.urls.post(post.id).to_string(),
            created_at: post.created_at,
            published_at: post.published_at,
            scheduled_at: post.scheduled_at,
            updated_at: post.updated_at,
            pinned: post.pinned_at.is_some(),
            text: post.source.clone(),
            content: post.content_html.clone(),
            summary: post.summary.clone(),
            language: post.language.clone(),
            sensitive: post.sensitive,
            visibility: post.visibility,
            policy: post.policy,
            media: media.iter().map(|m| media_response(state, m)).collect(),
            counts: CountsResponse::default(),
        }
    }

    fn with_counts(mut self, counts: Option<&db::InteractionCounts>) -> PostResponse {
        self.counts = counts.copied().map(Into::into).unwrap_or_default();
        self
    }

    pub(super) fn published(
        state: &HeraldState,
        channel: &Channel,
        published: &Published,
    ) -> PostResponse {
        PostResponse::new(state, channel, &published.post, &published.media)
    }
}

pub(super) fn media_ids(raw: &[String]) -> Result<Vec<MediaId>, ApiError> {
    raw.iter()
        .map(|id| {
            MediaId::parse(id).ok_or_else(|| {
                ApiError::invalid("media_invalid", format!("`{id}` is not a media id"))
            })
        })
        .collect()
}

impl NewPostRequest {
    fn into_input(self) -> Result<PostInput, ApiError> {
        Ok(PostInput {
            media: media_ids(&self.media_ids)?,
            text: self.text,
            summary: self.summary,
            language: self.language,
            sensitive: self.sensitive.unwrap_or(false),
            visibility: self.visibility.unwrap_or_default(),
            scheduled_at: self.scheduled_at,
            policy: self.policy,
            media_text: Vec::new(),
        })
    }
}

/// Publish a post
///
/// Stores the post and its `Create` activity and queues it for every follower's server
/// (and the servers of people it mentions). Answers at once; delivery happens in the
/// background (see the delivery endpoint). With `scheduled_at`, the post is stored and
/// goes out at that time. With an `Idempotency-Key` header, a retry of the same request
/// within 24 hours gets the first answer and creates nothing.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{name}/posts",
    tag = "posts",
    params(
        ("name" = String, Path, description = "The channel's name"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    request_body = NewPostRequest,
    responses(
        (status = 201, description = "Published or scheduled", body = PostResponse),
        (status = 400, description = "Malformed JSON", body = crate::http::ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 403, description = "Token for another channel, or without posts:write", body = crate::http::ErrorBody),
        (status = 404, description = "No such channel", body = crate::http::ErrorBody),
        (status = 409, description = "The same Idempotency-Key is being answered", body = crate::http::ErrorBody),
        (status = 422, description = "Empty, too long, too many media, reused key with another body …", body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_post(
    request: HttpRequest,
    body: web::Bytes,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    idempotency::once(&request, &data, &channel, &body, || async {
        let input = super::parse_json::<NewPostRequest>(&request, &body)?.into_input()?;
        let published = posts::create(&data, &channel, &auth.actor, input).await?;
        let response = PostResponse::published(&data, &channel, &published);
        Ok(HttpResponse::Created()
            .insert_header((
                actix_web::http::header::LOCATION,
                format!(
                    "/api/v1/channels/{}/posts/{}",
                    channel.name, published.post.id
                ),
            ))
            .json(response))
    })
    .await
}

/// Preview a post
///
/// Renders the post as it would federate — the Note JSON and its HTML as Mastodon's
/// sanitizer keeps it — without storing or sending anything.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{name}/posts/preview",
    tag = "posts",
    params(("name" = String, Path, description = "The channel's name")),
    request_body = NewPostRequest,
    responses(
        (status = 200, body = PreviewResponse),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 422, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn preview_post(
    body: web::Json<NewPostRequest>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    let preview = posts::preview(
        &data,
        &channel,
        &auth.actor,
        body.into_inner().into_input()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(PreviewResponse {
        note: serde_json::to_value(&preview.note).map_err(|e| ApiError::Internal(Box::new(e)))?,
        html: preview.html,
    }))
}

async fn responses(
    data: &HeraldState,
    channel: &Channel,
    posts: &[Post],
) -> Result<Vec<PostResponse>, ApiError> {
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    let counts = db::interaction_counts(&data.db, &ids).await?;
    Ok(posts
        .iter()
        .map(|post| {
            let own: Vec<Media> = media
                .iter()
                .filter(|m| m.post_id == Some(post.id))
                .cloned()
                .collect();
            PostResponse::new(data, channel, post, &own).with_counts(counts.get(&post.id))
        })
        .collect())
}

/// List posts
///
/// The channel's published posts, newest first, a page at a time; or, with
/// `scheduled=true`, the posts waiting to go out.
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
    query: web::Query<ListQuery>,
    auth: Authorized<scope::PostsRead>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    if query.scheduled == Some(true) {
        let posts = db::scheduled_posts(&data.db, channel.id).await?;
        return Ok(HttpResponse::Ok().json(PostList {
            posts: responses(&data, &channel, &posts).await?,
            next: None,
        }));
    }
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
        posts: responses(&data, &channel, &posts).await?,
        next,
    }))
}

/// A channel's post by the `{id}` of a path: 404 when unknown, 410 when deleted.
pub(super) async fn load_post(
    data: &HeraldState,
    channel: &Channel,
    raw: &str,
) -> Result<Post, ApiError> {
    let id = PostId::parse(raw).ok_or(ApiError::PostNotFound)?;
    match db::post_by_id(&data.db, channel.id, id).await {
        Ok(post) if post.deleted_at.is_none() => Ok(post),
        Ok(_) => Err(ApiError::PostGone),
        Err(db::DbError::NotFound) => Err(ApiError::PostNotFound),
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
        (status = 410, description = "Deleted", body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_post(
    path: web::Path<(String, String)>,
    auth: Authorized<scope::PostsRead>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let channel = auth.channel;
    let post = load_post(&data, &channel, &id).await?;
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let counts = db::interaction_counts(&data.db, &[post.id]).await?;
    Ok(HttpResponse::Ok()
        .json(PostResponse::new(&data, &channel, &post, &media).with_counts(counts.get(&post.id))))
}

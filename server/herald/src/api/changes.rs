//! Edit, delete, pin and unpin a post.

use super::{
    posts::{load_post, media_ids, PostResponse},
    scope, ApiError, Authorized,
};
use crate::{
    db::{self, InteractionPolicy, Visibility},
    posts::{self, PostInput},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

/// `null` clears a value, a missing key keeps it.
fn some_or_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(deserializer)?))
}

/// A change to a post: only the keys present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostChangesRequest {
    pub text: Option<String>,
    /// The content warning; `null` removes it.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    pub sensitive: Option<bool>,
    pub visibility: Option<Visibility>,
    /// A scheduled post's new time.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The attachments, replacing the current ones.
    pub media_ids: Option<Vec<String>>,
    /// This post's interaction policy; `null` returns to the channel's.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<InteractionPolicy>)]
    pub policy: Option<Option<InteractionPolicy>>,
}

/// Edit a post
///
/// Followers' servers get an `Update` with the new content (and the edit is marked as
/// such); a scheduled post is edited in place. 410 for a deleted post.
#[utoipa::path(
    patch,
    path = "/api/v1/channels/{name}/posts/{id}",
    tag = "posts",
    params(("name" = String, Path), ("id" = String, Path)),
    request_body = PostChangesRequest,
    responses(
        (status = 200, body = PostResponse),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
        (status = 410, body = crate::http::ErrorBody),
        (status = 422, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn patch_post(
    path: web::Path<(String, String)>,
    body: web::Json<PostChangesRequest>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let channel = auth.channel;
    let post = load_post(&data, &channel, &id).await?;
    let current_media: Vec<_> = db::media_for_posts(&data.db, &[post.id])
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let changes = body.into_inner();
    let input = PostInput {
        text: changes.text.unwrap_or_else(|| post.source.clone()),
        summary: changes.summary.unwrap_or_else(|| post.summary.clone()),
        language: changes.language.unwrap_or_else(|| post.language.clone()),
        sensitive: changes.sensitive.unwrap_or(post.sensitive),
        visibility: changes.visibility.unwrap_or(post.visibility),
        scheduled_at: changes.scheduled_at,
        media: match changes.media_ids {
            Some(ids) => media_ids(&ids)?,
            None => current_media,
        },
        policy: changes.policy.unwrap_or(post.policy),
        media_text: Vec::new(),
    };
    let edited = posts::edit(&data, &channel, &auth.actor, post.id, input).await?;
    Ok(HttpResponse::Ok().json(PostResponse::published(&data, &channel, &edited)))
}

/// Delete a post
///
/// Followers' servers get a `Delete`; the post's ActivityPub id answers 410 afterwards.
/// A scheduled post is cancelled.
#[utoipa::path(
    delete,
    path = "/api/v1/channels/{name}/posts/{id}",
    tag = "posts",
    params(("name" = String, Path), ("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
        (status = 410, description = "Already deleted", body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_post(
    path: web::Path<(String, String)>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let channel = auth.channel;
    let post = load_post(&data, &channel, &id).await?;
    posts::delete(&data, &channel, &auth.actor, post.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_pin(
    path: web::Path<(String, String)>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
    pinned: bool,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let channel = auth.channel;
    let post = load_post(&data, &channel, &id).await?;
    let result = posts::pin(&data, &channel, &auth.actor, post.id, pinned).await?;
    Ok(HttpResponse::Ok().json(PostResponse::published(&data, &channel, &result)))
}

/// Pin a post
///
/// Pinned posts head the channel's featured collection, which Mastodon shows first on a
/// profile it has not seen before; followers' servers get an `Add`.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{name}/posts/{id}/pin",
    tag = "posts",
    params(("name" = String, Path), ("id" = String, Path)),
    responses(
        (status = 200, body = PostResponse),
        (status = 404, body = crate::http::ErrorBody),
        (status = 410, body = crate::http::ErrorBody),
        (status = 422, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn pin_post(
    path: web::Path<(String, String)>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    set_pin(path, auth, data, true).await
}

/// Unpin a post
#[utoipa::path(
    post,
    path = "/api/v1/channels/{name}/posts/{id}/unpin",
    tag = "posts",
    params(("name" = String, Path), ("id" = String, Path)),
    responses(
        (status = 200, body = PostResponse),
        (status = 404, body = crate::http::ErrorBody),
        (status = 410, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unpin_post(
    path: web::Path<(String, String)>,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    set_pin(path, auth, data, false).await
}

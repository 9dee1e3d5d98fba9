//! Statuses from Mastodon apps: publish (now or scheduled), read, edit, read the source,
//! delete. Each goes through the same post lifecycle (`posts`) as the owner API, so its
//! Create, Update and Delete reach followers the same way; only the shapes differ.

use super::{
    accounts::account_json, body, mastodon_time, media::attachment_json, ClientToken, MastodonError,
};
use crate::{
    api::Scope,
    db::{self, Channel, Media, MediaId, Post, PostId, Visibility},
    posts::{self, PostError, PostInput},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

/// A post error in Mastodon's shape: 404 for a post that is not there (deleted ones too,
/// as Mastodon answers), 422 with the reason for input it refuses.
impl From<PostError> for MastodonError {
    fn from(err: PostError) -> Self {
        match err {
            PostError::NotFound | PostError::Gone => {
                MastodonError::new(StatusCode::NOT_FOUND, "Record not found")
            }
            PostError::Invalid { message, .. } => {
                MastodonError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            other => crate::api::ApiError::from(other).into(),
        }
    }
}

/// A status as Mastodon apps send it (form or JSON); parameters Herald does not use
/// (`quote_approval_policy`, `poll`, `in_reply_to_id` of others …) are ignored.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct StatusParams {
    status: Option<String>,
    media_ids: body::OneOrMany,
    spoiler_text: Option<String>,
    sensitive: Option<body::Flag>,
    language: Option<String>,
    visibility: Option<String>,
    scheduled_at: Option<DateTime<Utc>>,
    /// On edits: `[{id, description, focus}]`, the attachments' new alt text and focus.
    media_attributes: Vec<Value>,
}

impl StatusParams {
    fn into_input(self, current: Option<&Post>) -> Result<PostInput, MastodonError> {
        let refuse = |m: String| MastodonError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
        let visibility = match self.visibility.as_deref() {
            None => current.map_or(Visibility::Public, |p| p.visibility),
            Some("public") => Visibility::Public,
            Some("unlisted") => Visibility::Quiet,
            Some(other) => {
                return Err(refuse(format!(
                "Validation failed: a channel posts publicly; visibility {other} is not possible"
            )))
            }
        };
        let media = self
            .media_ids
            .0
            .iter()
            .map(|id| MediaId::parse(id).ok_or_else(|| refuse(format!("no media with id {id}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PostInput {
            text: self.status.unwrap_or_default(),
            summary: self.spoiler_text,
            language: self.language,
            sensitive: self.sensitive.is_some_and(|f| f.0),
            visibility,
            scheduled_at: self.scheduled_at,
            media,
            policy: current.and_then(|p| p.policy),
            media_text: Vec::new(),
        })
    }
}

/// The channel's post `raw`, published or scheduled, not deleted.
async fn own_post(data: &HeraldState, channel: &Channel, raw: &str) -> Result<Post, MastodonError> {
    let id = PostId::parse(raw).ok_or(PostError::NotFound)?;
    let post = db::post_by_id(&data.db, channel.id, id)
        .await
        .map_err(PostError::from)?;
    if post.deleted_at.is_some() {
        return Err(PostError::Gone.into());
    }
    Ok(post)
}

/// A post as a Mastodon `Status`, with its account, attachments, mentions, tags and counts.
pub async fn status_json(
    data: &HeraldState,
    channel: &Channel,
    post: &Post,
    media: &[Media],
) -> Result<Value, MastodonError> {
    let account = account_json(data, channel, false).await?;
    status_with_account(data, channel, &account, post, media).await
}

/// [`status_json`] with the channel's `Account` already built: pages of statuses build it
/// once, not once per status.
pub async fn status_with_account(
    data: &HeraldState,
    channel: &Channel,
    account: &Value,
    post: &Post,
    media: &[Media],
) -> Result<Value, MastodonError> {
    let counts = db::interaction_counts(&data.db, &[post.id]).await?;
    let counts = counts.get(&post.id).copied().unwrap_or_default();
    let tags: Vec<Value> = post
        .tags
        .iter()
        .filter(|t| t["type"] == "Hashtag")
        .filter_map(|t| {
            let name = t["name"].as_str()?.trim_start_matches('#').to_lowercase();
            Some(json!({ "name": name, "url": t["href"] }))
        })
        .collect();
    let mentions: Vec<Value> = post
        .tags
        .iter()
        .filter(|t| t["type"] == "Mention")
        .filter_map(|t| {
            let acct = t["name"].as_str()?.trim_start_matches('@').to_string();
            let username = acct.split('@').next().unwrap_or_default().to_string();
            Some(json!({ "id": t["href"], "username": username, "acct": acct, "url": t["href"] }))
        })
        .collect();
    let attachments: Vec<Value> = media.iter().map(|m| attachment_json(data, m)).collect();
    Ok(json!({
        "id": post.id.to_string(),
        "created_at": mastodon_time(post.published_at.unwrap_or(post.created_at)),
        "in_reply_to_id": null,
        "in_reply_to_account_id": null,
        "sensitive": post.sensitive,
        "spoiler_text": post.summary.clone().unwrap_or_default(),
        "visibility": match post.visibility { Visibility::Public => "public", Visibility::Quiet => "unlisted" },
        "language": post.language,
        "uri": data.urls.post(post.id).as_str(),
        "url": data.urls.post_page(&channel.name, post.id).as_str(),
        "replies_count": counts.replies,
        "reblogs_count": counts.boosts,
        "favourites_count": counts.likes + counts.reactions,
        "edited_at": post.updated_at.map(mastodon_time),
        "favourited": false,
        "reblogged": false,
        "muted": false,
        "bookmarked": false,
        "pinned": post.pinned_at.is_some(),
        "content": post.content_html,
        "filtered": [],
        "reblog": null,
        "application": null,
        "account": account,
        "media_attachments": attachments,
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "card": null,
        "poll": null,
    }))
}

/// A scheduled post as Mastodon's `ScheduledStatus`.
fn scheduled_json(data: &HeraldState, post: &Post, media: &[Media]) -> Value {
    json!({
        "id": post.id.to_string(),
        "scheduled_at": post.scheduled_at.map(mastodon_time),
        "params": {
            "text": post.source,
            "spoiler_text": post.summary,
            "sensitive": post.sensitive,
            "language": post.language,
            "visibility": match post.visibility { Visibility::Public => "public", Visibility::Quiet => "unlisted" },
            "media_ids": media.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(),
            "poll": null,
            "in_reply_to_id": null,
            "scheduled_at": null,
            "application_id": null,
            "idempotency": null,
            "with_rate_limit": false,
        },
        "media_attachments": media.iter().map(|m| attachment_json(data, m)).collect::<Vec<_>>(),
    })
}

/// `POST /api/v1/statuses`: publishes (or schedules) a post; `Idempotency-Key` makes a
/// retry return the first answer, as with the owner API.
pub async fn post_status(
    request: HttpRequest,
    raw: web::Bytes,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let channel = token.channel;
    let answer = crate::api::idempotency::once(&request, &data, &channel, &raw, || async {
        let params: StatusParams = body::parse(&request, &raw).map_err(api_invalid)?;
        let input = params.into_input(None).map_err(api_from_mastodon)?;
        let published = posts::create(&data, &channel, &token.actor, input).await?;
        let json = if published.post.published_at.is_some() {
            status_json(&data, &channel, &published.post, &published.media)
                .await
                .map_err(api_from_mastodon)?
        } else {
            scheduled_json(&data, &published.post, &published.media)
        };
        Ok(HttpResponse::Ok().json(json))
    })
    .await;
    answer.map_err(MastodonError::from)
}

fn api_invalid(message: String) -> crate::api::ApiError {
    crate::api::ApiError::invalid("status_invalid", message)
}

/// Carries a refusal built for Mastodon through the owner API's idempotency wrapper.
fn api_from_mastodon(err: MastodonError) -> crate::api::ApiError {
    match err.status {
        StatusCode::NOT_FOUND => crate::api::ApiError::NotFound(err.message),
        StatusCode::UNPROCESSABLE_ENTITY => {
            crate::api::ApiError::invalid("status_invalid", err.message)
        }
        _ => crate::api::ApiError::Internal(err.message.into()),
    }
}

/// `GET /api/v1/statuses/:id`.
pub async fn get_status(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    let post = own_post(&data, &token.channel, &id).await?;
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    Ok(HttpResponse::Ok().json(status_json(&data, &token.channel, &post, &media).await?))
}

/// `GET /api/v1/statuses/:id/source`: the Markdown as written, for the edit form.
pub async fn get_source(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    let post = own_post(&data, &token.channel, &id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "id": post.id.to_string(),
        "text": post.source,
        "spoiler_text": post.summary.unwrap_or_default(),
    })))
}

/// `PUT /api/v1/statuses/:id`: edits; followers get an `Update`. Attachments not named
/// stay as they were (apps send the whole list when they change it).
pub async fn put_status(
    id: web::Path<String>,
    request: HttpRequest,
    raw: web::Bytes,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let channel = &token.channel;
    let post = own_post(&data, channel, &id).await?;
    let mut params: StatusParams = body::parse(&request, &raw)
        .map_err(|m| MastodonError::new(StatusCode::UNPROCESSABLE_ENTITY, m))?;
    let keep_media = params.media_ids.0.is_empty();
    let attributes = std::mem::take(&mut params.media_attributes);
    let mut input = params.into_input(Some(&post))?;
    let current = db::media_for_posts(&data.db, &[post.id]).await?;
    if keep_media {
        input.media = current.iter().map(|m| m.id).collect();
    }
    input.media_text = media_text(&attributes, &current)?;
    let edited = posts::edit(&data, channel, &token.actor, post.id, input).await?;
    Ok(HttpResponse::Ok().json(status_json(&data, channel, &edited.post, &edited.media).await?))
}

/// The alt text and focus an edit's `media_attributes` give the post's attachments.
fn media_text(
    attributes: &[Value],
    current: &[Media],
) -> Result<Vec<posts::MediaText>, MastodonError> {
    let refuse = |m: String| MastodonError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let mut changes = Vec::new();
    for attribute in attributes {
        let Some(media) = attribute["id"]
            .as_str()
            .and_then(MediaId::parse)
            .and_then(|id| current.iter().find(|m| m.id == id))
        else {
            continue;
        };
        let description = match attribute.get("description") {
            Some(Value::String(d)) => Some(d.trim().to_string()).filter(|d| !d.is_empty()),
            _ => media.description.clone(),
        };
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > crate::api::media::MAX_DESCRIPTION)
        {
            return Err(refuse(format!(
                "Validation failed: a description is limited to {} characters",
                crate::api::media::MAX_DESCRIPTION
            )));
        }
        let focus = match attribute["focus"].as_str().map(str::trim) {
            Some(raw) if !raw.is_empty() => crate::media::parse_focus(raw).ok_or_else(|| {
                refuse("Validation failed: focus is x,y with each in -1…1".into())
            })?,
            _ => media.focus,
        };
        changes.push(posts::MediaText {
            id: media.id,
            description,
            focus,
        });
    }
    Ok(changes)
}

/// `DELETE /api/v1/statuses/:id`: deletes; followers get a `Delete`. Answers the deleted
/// status with its `text`, as Mastodon does (apps offer "delete and redraft").
pub async fn delete_status(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let channel = &token.channel;
    let post = own_post(&data, channel, &id).await?;
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let mut json = status_json(&data, channel, &post, &media).await?;
    posts::delete(&data, channel, &token.actor, post.id).await?;
    json["text"] = json!(post.source);
    Ok(HttpResponse::Ok().json(json))
}

/// `GET /api/v1/scheduled_statuses`: the channel's posts waiting for their time.
pub async fn get_scheduled_statuses(
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    let posts = db::scheduled_posts(&data.db, token.channel.id).await?;
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    let scheduled: Vec<Value> = posts
        .iter()
        .map(|post| {
            let own: Vec<Media> = media
                .iter()
                .filter(|m| m.post_id == Some(post.id))
                .cloned()
                .collect();
            scheduled_json(&data, post, &own)
        })
        .collect();
    Ok(HttpResponse::Ok().json(scheduled))
}

async fn set_pin(
    id: &str,
    token: &ClientToken,
    data: &Data<HeraldState>,
    pinned: bool,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let post = own_post(data, &token.channel, id).await?;
    let result = posts::pin(data, &token.channel, &token.actor, post.id, pinned).await?;
    Ok(HttpResponse::Ok()
        .json(status_json(data, &token.channel, &result.post, &result.media).await?))
}

/// `POST /api/v1/statuses/:id/pin`: the post heads the featured collection; followers
/// get an `Add`.
pub async fn pin_status(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    set_pin(&id, &token, &data, true).await
}

/// `POST /api/v1/statuses/:id/unpin`.
pub async fn unpin_status(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    set_pin(&id, &token, &data, false).await
}

/// `GET /api/v1/statuses/:id/history`: Herald keeps no earlier versions, so the history
/// is the post as it reads now, as Mastodon shows a status never edited.
pub async fn get_history(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    let post = own_post(&data, &token.channel, &id).await?;
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let status = status_json(&data, &token.channel, &post, &media).await?;
    Ok(HttpResponse::Ok().json(json!([{
        "content": status["content"],
        "spoiler_text": status["spoiler_text"],
        "sensitive": status["sensitive"],
        "created_at": status["edited_at"].as_str().unwrap_or(status["created_at"].as_str().unwrap_or_default()),
        "account": status["account"],
        "media_attachments": status["media_attachments"],
        "emojis": [],
    }])))
}

/// A scheduled post of the channel (404 once it went out or was deleted).
async fn own_scheduled(
    data: &HeraldState,
    token: &ClientToken,
    id: &str,
) -> Result<Post, MastodonError> {
    let post = own_post(data, &token.channel, id).await?;
    if post.published_at.is_some() {
        return Err(PostError::NotFound.into());
    }
    Ok(post)
}

#[derive(Deserialize)]
pub struct Reschedule {
    scheduled_at: Option<DateTime<Utc>>,
}

/// `PUT /api/v1/scheduled_statuses/:id`: a new time for a scheduled post.
pub async fn put_scheduled(
    id: web::Path<String>,
    request: HttpRequest,
    raw: web::Bytes,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let post = own_scheduled(&data, &token, &id).await?;
    let change: Reschedule = body::parse(&request, &raw)
        .map_err(|m| MastodonError::new(StatusCode::UNPROCESSABLE_ENTITY, m))?;
    let media: Vec<MediaId> = db::media_for_posts(&data.db, &[post.id])
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let input = PostInput {
        text: post.source.clone(),
        summary: post.summary.clone(),
        language: post.language.clone(),
        sensitive: post.sensitive,
        visibility: post.visibility,
        scheduled_at: change.scheduled_at.or(post.scheduled_at),
        media,
        policy: post.policy,
        media_text: Vec::new(),
    };
    let edited = posts::edit(&data, &token.channel, &token.actor, post.id, input).await?;
    Ok(HttpResponse::Ok().json(scheduled_json(&data, &edited.post, &edited.media)))
}

/// `DELETE /api/v1/scheduled_statuses/:id`: cancels it (nothing was sent).
pub async fn delete_scheduled(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let post = own_scheduled(&data, &token, &id).await?;
    posts::delete(&data, &token.channel, &token.actor, post.id).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

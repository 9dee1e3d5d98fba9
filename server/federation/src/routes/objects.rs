//! Objects at their ids: Notes and the public activities that carried them.

use super::{activity_json, actors::refuse_blocked};
use crate::{
    db::{self, ActivityKind, PostId},
    http::ACTIVITY_JSON,
    state::HeraldState,
    {error::FederationError, objects::post::note_for, protocol::context::object_context},
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use uuid::Uuid;

pub async fn get_note(
    id: web::Path<String>,
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let id = PostId::parse(&id).ok_or(FederationError::NotFound)?;
    let post = db::post_by_uuid(&data.db, id).await?;
    refuse_blocked(&request, &data, Some(post.channel_id)).await?;
    let urls = &data.urls;
    if let Some(deleted) = post.deleted_at {
        // FEP-4f05: a deleted object answers 410 with a Tombstone.
        return Ok(HttpResponse::Gone()
            .content_type(ACTIVITY_JSON)
            .json(json!({
                "@context": object_context(),
                "id": urls.post(id),
                "type": "Tombstone",
                "formerType": "Note",
                "deleted": deleted,
            })));
    }
    if post.published_at.is_none() {
        return Err(FederationError::NotFound);
    }
    let channel = db::channel_by_id(&data.db, post.channel_id).await?;
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let mut note = note_for(urls, &channel, &post, &media);
    note.context = Some(object_context());
    Ok(activity_json(&note))
}

/// Only activities meant for the public (a post's Create) are served; an Accept names a
/// follower, and the follower list is private.
pub async fn get_activity(
    id: web::Path<String>,
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let id = Uuid::parse_str(&id).map_err(|_| FederationError::NotFound)?;
    let activity = db::activity_by_id(&data.db, id).await?;
    refuse_blocked(&request, &data, Some(activity.channel_id)).await?;
    if activity.kind != ActivityKind::Create.as_str() {
        return Err(FederationError::NotFound);
    }
    if let Some(post_id) = activity.post_id {
        let post = db::post_by_uuid(&data.db, post_id).await?;
        if post.deleted_at.is_some() {
            return Err(FederationError::Gone);
        }
    }
    let payload: serde_json::Value = serde_json::from_str(&activity.payload)?;
    Ok(activity_json(&payload))
}

/// A channel's permission for another post to quote one of its posts (FEP-044f): what
/// the quoting server shows as proof. Gone (410) with the post.
pub async fn get_quote_authorization(
    id: web::Path<String>,
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let id = Uuid::parse_str(&id).map_err(|_| FederationError::NotFound)?;
    let stamp = db::activity_by_id(&data.db, id).await?;
    if stamp.kind != ActivityKind::QuoteAuthorization.as_str() {
        return Err(FederationError::NotFound);
    }
    refuse_blocked(&request, &data, Some(stamp.channel_id)).await?;
    if let Some(post_id) = stamp.post_id {
        let post = db::post_by_uuid(&data.db, post_id).await?;
        if post.deleted_at.is_some() {
            return Err(FederationError::Gone);
        }
    }
    let payload: serde_json::Value = serde_json::from_str(&stamp.payload)?;
    Ok(activity_json(&payload))
}

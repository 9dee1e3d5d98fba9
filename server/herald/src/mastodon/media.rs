//! Media from Mastodon apps: `POST /api/v2/media` (Phanpy, Mastodon.py) and
//! `/api/v1/media` (Elk), `GET` and `PUT /api/v1/media/:id` (the alt text and focus set
//! after the upload). The upload is the owner API's one path (`api::media`); images are
//! processed at once, so the answer already has its `url`.

use super::{body, ClientToken, MastodonError};
use crate::{
    api::{
        media::{receive_upload, Fields, MAX_DESCRIPTION},
        Scope,
    },
    db::{self, Media, MediaId},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_multipart::Multipart;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// An upload as Mastodon's `MediaAttachment`, with `meta` for the layout and the blurhash.
pub fn attachment_json(data: &HeraldState, media: &Media) -> Value {
    let url = data.urls.media(&media.file_name).to_string();
    let size = json!({
        "width": media.width,
        "height": media.height,
        "size": format!("{}x{}", media.width, media.height),
        "aspect": f64::from(media.width) / f64::from(media.height.max(1)),
    });
    json!({
        "id": media.id.to_string(),
        "type": "image",
        "url": url,
        "preview_url": url,
        "remote_url": null,
        "preview_remote_url": null,
        "text_url": null,
        "meta": {
            "original": size,
            "small": size,
            "focus": { "x": media.focus.0, "y": media.focus.1 },
        },
        "description": media.description,
        "blurhash": media.blurhash,
    })
}

/// `POST /api/v2/media` and `/api/v1/media`.
pub async fn post_media(
    form: Multipart,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let stored = receive_upload(form, &data, &token.channel, Fields::Ignore).await?;
    Ok(HttpResponse::Ok().json(attachment_json(&data, &stored)))
}

async fn own_media(
    data: &HeraldState,
    token: &ClientToken,
    raw: &str,
) -> Result<Media, MastodonError> {
    let not_found = || MastodonError::new(StatusCode::NOT_FOUND, "Record not found");
    let id = MediaId::parse(raw).ok_or_else(not_found)?;
    match db::media_by_id(&data.db, token.channel.id, id).await {
        Ok(media) => Ok(media),
        Err(db::DbError::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v1/media/:id` (masto.js asks until `url` is set; it is from the start).
pub async fn get_media(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    let media = own_media(&data, &token, &id).await?;
    Ok(HttpResponse::Ok().json(attachment_json(&data, &media)))
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct MediaChanges {
    description: Option<String>,
    focus: Option<String>,
}

/// `PUT /api/v1/media/:id`: the alt text and focal point.
pub async fn put_media(
    id: web::Path<String>,
    request: HttpRequest,
    raw: web::Bytes,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsWrite)?;
    let media = own_media(&data, &token, &id).await?;
    let refuse = |m: String| MastodonError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let changes: MediaChanges = body::parse(&request, &raw).map_err(refuse)?;
    let description = match changes.description {
        Some(d) => Some(d.trim().to_string()).filter(|d| !d.is_empty()),
        None => media.description.clone(),
    };
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(refuse(format!(
            "Validation failed: description is limited to {MAX_DESCRIPTION} characters"
        )));
    }
    let focus = match changes
        .focus
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        Some(raw) => crate::media::parse_focus(raw)
            .ok_or_else(|| refuse("Validation failed: focus is x,y with each in -1…1".into()))?,
        None => media.focus,
    };
    let updated =
        db::update_media_text(&data.db, token.channel.id, media.id, description, focus).await?;
    Ok(HttpResponse::Ok().json(attachment_json(&data, &updated)))
}

//! `POST /api/v1/channels/{name}/media`: image uploads, to attach to posts or use as the
//! avatar and header.

use super::{posts::media_response, posts::MediaResponse, scope, ApiError, Authorized};
use crate::{
    db,
    media::{self, Limits, MediaError, StoreError},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_multipart::Multipart;
use actix_web::HttpResponse;
use futures::StreamExt;
use utoipa::ToSchema;

/// The longest alt text, in characters (Mastodon keeps 1,500).
pub const MAX_DESCRIPTION: usize = 1_500;
/// The most bytes read of a text field.
const MAX_TEXT_FIELD: usize = 8 * 1024;

/// An upload (multipart/form-data).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the form for the OpenAPI document
pub struct MediaUpload {
    /// The image: JPEG, PNG, WebP or GIF.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Alt text, read to people who cannot see the image.
    description: Option<String>,
    /// Focal point `x,y`, each in −1…1, kept in view when the image is cropped.
    focus: Option<String>,
}

fn bad_form(e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(
        "form_invalid",
        format!("the multipart form could not be read: {e}"),
    )
}

/// Reads a field to its end, refusing more than `limit` bytes.
async fn read_field(
    field: &mut actix_multipart::Field,
    limit: usize,
) -> Result<Option<Vec<u8>>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(bad_form)?;
        if bytes.len() + chunk.len() > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

fn text(bytes: Vec<u8>, name: &str) -> Result<String, ApiError> {
    String::from_utf8(bytes)
        .map_err(|_| ApiError::invalid("form_invalid", format!("`{name}` is not UTF-8 text")))
}

/// Upload an image
///
/// Stores the image with its metadata (EXIF, GPS position) removed, and answers with
/// its id to put in a post's `media_ids` or the profile's `avatar_id`/`header_id`.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{name}/media",
    tag = "media",
    params(("name" = String, Path)),
    request_body(content = MediaUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = MediaResponse),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 413, description = "Over the size or pixel limit (named)", body = crate::http::ErrorBody),
        (status = 415, description = "Not JPEG, PNG, WebP or GIF", body = crate::http::ErrorBody),
        (status = 422, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn upload_media(
    form: Multipart,
    auth: Authorized<scope::PostsWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let stored = receive_upload(form, &data, &auth.channel, Fields::Refuse).await?;
    Ok(HttpResponse::Created().json(media_response(&data, &stored)))
}

/// What an upload form may carry besides `file`, `description` and `focus`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fields {
    /// Anything else is refused (the owner API: a typo is an error).
    Refuse,
    /// Anything else is ignored (Mastodon apps send `thumbnail` and more).
    Ignore,
}

fn too_large(limits: Limits) -> ApiError {
    ApiError::TooLarge {
        code: "media_too_large",
        message: format!("the file is larger than {} bytes", limits.max_bytes),
    }
}

/// Reads an upload form, checks and processes the image (metadata stripped), stores the
/// file and its row: the one way an image arrives, from the owner API and from apps.
pub(crate) async fn receive_upload(
    mut form: Multipart,
    data: &HeraldState,
    channel: &db::Channel,
    fields: Fields,
) -> Result<db::Media, ApiError> {
    let limits = media::limits(data);
    let too_large = || too_large(limits);
    let (mut file, mut description, mut focus) = (None, None, None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        match field.name().unwrap_or_default() {
            "file" => {
                let limit = usize::try_from(limits.max_bytes).unwrap_or(usize::MAX);
                file = Some(read_field(&mut field, limit).await?.ok_or_else(too_large)?);
            }
            "description" => {
                let bytes = read_field(&mut field, MAX_TEXT_FIELD).await?;
                description = Some(text(bytes.unwrap_or_default(), "description")?);
            }
            "focus" => {
                let bytes = read_field(&mut field, MAX_TEXT_FIELD).await?;
                focus = Some(text(bytes.unwrap_or_default(), "focus")?);
            }
            _ if fields == Fields::Ignore => {
                read_field(&mut field, usize::MAX).await?;
            }
            other => {
                return Err(ApiError::invalid(
                    "form_invalid",
                    format!("unknown field `{other}`"),
                ))
            }
        }
    }
    let file =
        file.ok_or_else(|| ApiError::invalid("media_missing", "send the image in a `file` field"))?;
    let description = description
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(ApiError::invalid(
            "description_too_long",
            format!("`description` is limited to {MAX_DESCRIPTION} characters"),
        ));
    }
    let focus = match focus.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(raw) => media::parse_focus(raw).ok_or_else(|| {
            ApiError::invalid("focus_invalid", "`focus` is `x,y` with each in -1…1")
        })?,
        None => (0.0, 0.0),
    };
    store_image(data, channel, file, description, focus).await
}

/// Keeps an image (`media::store_image`, the one way an image is kept), with the API's
/// errors.
pub(crate) async fn store_image(
    data: &HeraldState,
    channel: &db::Channel,
    file: Vec<u8>,
    description: Option<String>,
    focus: (f64, f64),
) -> Result<db::Media, ApiError> {
    media::store_image(data, channel, file, description, focus)
        .await
        .map_err(|e| match e {
            StoreError::Media(e @ MediaError::TooLarge { .. }) => ApiError::TooLarge {
                code: "media_too_large",
                message: e.to_string(),
            },
            StoreError::Media(e @ MediaError::TooManyPixels { .. }) => ApiError::TooLarge {
                code: "media_too_many_pixels",
                message: e.to_string(),
            },
            StoreError::Media(e @ MediaError::Unsupported(_)) => ApiError::UnsupportedType {
                code: "media_type_unsupported",
                message: e.to_string(),
            },
            StoreError::Media(e @ MediaError::Corrupt(_)) => {
                ApiError::invalid("media_invalid", e.to_string())
            }
            other => ApiError::Internal(Box::new(other)),
        })
}

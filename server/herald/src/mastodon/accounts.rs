//! The account a Mastodon app signed in as: the channel, shaped as Mastodon's `Account`
//! (ids as strings, times with milliseconds, every field apps read present).

use super::{mastodon_time, ClientToken, MastodonError};
use crate::{
    api::{media::store_image, Scope},
    db::{self, Channel, ProfileField},
    posts::{self, ProfileInput},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// The channel as a Mastodon `Account`; `source` (the owner's own view, with the raw
/// note and fields) only for the owner's `verify_credentials`.
pub async fn account_json(
    data: &HeraldState,
    channel: &Channel,
    with_source: bool,
) -> Result<Value, MastodonError> {
    let images = db::ChannelImages::load(&data.db, channel).await?;
    let icon = data.urls.base().join(crate::web::ICON_PATH).ok();
    let image_url = |media: &Option<db::Media>| {
        media
            .as_ref()
            .map(|m| data.urls.media(&m.file_name).to_string())
            .or_else(|| icon.as_ref().map(|u| u.to_string()))
            .unwrap_or_default()
    };
    let avatar = image_url(&images.avatar);
    let header = image_url(&images.header);
    let followers = db::count_followers(&data.db, channel.id).await?;
    let statuses = db::count_posts(&data.db, Some(channel.id)).await?;
    let fields: Vec<Value> = channel
        .fields
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "value": crate::content::render_field(&f.value),
                "verified_at": null,
            })
        })
        .collect();
    let display_name = if channel.display_name.is_empty() {
        channel.name.to_string()
    } else {
        channel.display_name.clone()
    };
    let mut account = json!({
        "id": channel.id.0.to_string(),
        "username": channel.name.as_str(),
        "acct": channel.name.as_str(),
        "display_name": display_name,
        "locked": channel.manually_approves,
        "bot": channel.bot,
        "discoverable": true,
        "indexable": true,
        "group": false,
        "created_at": mastodon_time(channel.created_at),
        "note": crate::content::render_markdown(&channel.summary),
        "url": data.urls.profile_page(&channel.name).as_str(),
        "uri": data.urls.channel(&channel.name).as_str(),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": followers,
        "following_count": 0,
        "statuses_count": statuses,
        "last_status_at": null,
        "emojis": [],
        "fields": fields,
    });
    if with_source {
        let raw_fields: Vec<Value> = channel
            .fields
            .iter()
            .map(|f| json!({ "name": f.name, "value": f.value, "verified_at": null }))
            .collect();
        account["source"] = json!({
            "privacy": "public",
            "sensitive": false,
            "language": channel.default_language,
            "note": channel.summary,
            "fields": raw_fields,
            "follow_requests_count": 0,
        });
    }
    Ok(account)
}

/// `GET /api/v1/accounts/verify_credentials`: the signed-in channel, with `source`.
pub async fn verify_credentials(
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    Ok(HttpResponse::Ok().json(account_json(&data, &token.channel, true).await?))
}

/// The channel whose account id is `raw` (a channel of this instance; accounts are
/// public, as Mastodon's are).
async fn channel_by_account_id(data: &HeraldState, raw: &str) -> Result<Channel, MastodonError> {
    let not_found =
        || MastodonError::new(actix_web::http::StatusCode::NOT_FOUND, "Record not found");
    let id = raw.parse::<i64>().map_err(|_| not_found())?;
    match db::channel_by_id(&data.db, db::ChannelId(id)).await {
        Ok(channel) => Ok(channel),
        Err(db::DbError::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v1/accounts/:id`.
pub async fn get_account(
    id: web::Path<String>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    let channel = channel_by_account_id(&data, &id).await?;
    Ok(HttpResponse::Ok().json(account_json(&data, &channel, false).await?))
}

/// `GET /api/v1/accounts/:id/statuses`: the channel's posts, newest first, paged by
/// `max_id` with a `Link` header.
pub async fn get_account_statuses(
    id: web::Path<String>,
    request: HttpRequest,
    query: web::Query<super::startup::PageQuery>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    let channel = channel_by_account_id(&data, &id).await?;
    super::startup::posts_page(&request, &query, &data, &channel).await
}

/// The largest text body `update_credentials` reads (images come as multipart files).
const CREDENTIALS_BODY_LIMIT: usize = 256 * 1024;

/// What `update_credentials` received: text fields (as a form's `key=value` pairs, JSON
/// objects flattened the same way) and the avatar and header files.
#[derive(Default)]
struct CredentialChanges {
    text: Vec<(String, String)>,
    avatar: Option<Vec<u8>>,
    header: Option<Vec<u8>>,
}

impl CredentialChanges {
    fn get(&self, key: &str) -> Option<&str> {
        self.text
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.get(key)
            .map(|v| matches!(v, "true" | "1" | "on" | "True"))
    }

    /// `fields_attributes[N][name|value]`, in the order of N.
    fn fields(&self) -> Option<Vec<ProfileField>> {
        let mut rows: std::collections::BTreeMap<u32, (String, String)> = Default::default();
        for (key, value) in &self.text {
            let Some(rest) = key.strip_prefix("fields_attributes[") else {
                continue;
            };
            let Some((index, part)) = rest.split_once("][") else {
                continue;
            };
            let Ok(index) = index.parse::<u32>() else {
                continue;
            };
            let row = rows.entry(index).or_default();
            match part.trim_end_matches(']') {
                "name" => row.0 = value.clone(),
                "value" => row.1 = value.clone(),
                _ => {}
            }
        }
        (!rows.is_empty()).then(|| {
            rows.into_values()
                .filter(|(name, value)| !name.is_empty() || !value.is_empty())
                .map(|(name, value)| ProfileField { name, value })
                .collect()
        })
    }
}

/// A JSON body as form pairs: `{"fields_attributes": [{"name": …}]}` becomes
/// `fields_attributes[0][name]`, `{"source": {"language": …}}` `source[language]`.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}[{key}]")
                };
                flatten(&key, item, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Reads the changes; an image over `max_file` bytes, or text over the body limit, is
/// refused (413) before it is all in memory.
async fn read_changes(
    request: &HttpRequest,
    payload: web::Payload,
    max_file: usize,
) -> Result<CredentialChanges, MastodonError> {
    let too_large = || MastodonError::new(StatusCode::PAYLOAD_TOO_LARGE, "the upload is too large");
    let refuse = |m: String| MastodonError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !content_type.starts_with("application/json") {
        let form = crate::form::read(
            request,
            payload,
            &["avatar", "header"],
            max_file,
            CREDENTIALS_BODY_LIMIT,
        )
        .await
        .map_err(|e| match e {
            crate::form::FormError::TooLarge { .. } => too_large(),
            crate::form::FormError::Invalid(m) => refuse(m),
        })?;
        let mut changes = CredentialChanges {
            text: form.fields,
            ..CredentialChanges::default()
        };
        for (name, bytes) in form.files {
            match name.as_str() {
                "avatar" => changes.avatar = Some(bytes),
                _ => changes.header = Some(bytes),
            }
        }
        return Ok(changes);
    }
    let mut changes = CredentialChanges::default();
    let body = payload
        .to_bytes_limited(CREDENTIALS_BODY_LIMIT)
        .await
        .map_err(|_| too_large())?
        .map_err(|e| refuse(e.to_string()))?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| refuse(format!("invalid JSON: {e}")))?;
    flatten("", &value, &mut changes.text);
    Ok(changes)
}

/// `PATCH /api/v1/accounts/update_credentials`: display name, note (Markdown, as the
/// owner API takes it), avatar, header, fields, bot, locked, default language. Goes
/// through the same profile change as the owner API: followers get the actor's Update.
pub async fn update_credentials(
    request: HttpRequest,
    payload: web::Payload,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::ProfileWrite)?;
    let max_file = usize::try_from(data.config.posts.max_upload_bytes).unwrap_or(usize::MAX);
    let changes = read_changes(&request, payload, max_file).await?;
    let channel = &token.channel;
    let image = |bytes: Option<Vec<u8>>| {
        let data = &data;
        async move {
            match bytes {
                Some(bytes) => Ok::<_, MastodonError>(Some(Some(
                    store_image(data, channel, bytes, None, (0.0, 0.0))
                        .await?
                        .id,
                ))),
                None => Ok(None),
            }
        }
    };
    let avatar = image(changes.avatar.clone()).await?;
    let header = image(changes.header.clone()).await?;
    let input = ProfileInput {
        display_name: changes.get("display_name").map(str::to_string),
        summary: changes.get("note").map(str::to_string),
        bot: changes.flag("bot"),
        fields: changes.fields(),
        default_language: changes
            .get("source[language]")
            .map(|l| Some(l.to_string()).filter(|l| !l.is_empty())),
        policy: None,
        avatar,
        header,
        manually_approves: changes.flag("locked"),
        sign_posts: None,
        also_known_as: None,
    };
    let updated = posts::update_profile(&data, channel, &token.actor, input).await?;
    Ok(HttpResponse::Ok().json(account_json(&data, &updated, true).await?))
}

//! The account a Mastodon app signed in as: the channel, shaped as Mastodon's `Account`
//! (ids as strings, times with milliseconds, every field apps read present).

use super::{mastodon_time, ClientToken, MastodonError};
use crate::{
    db::{self, Channel},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::HttpResponse;
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

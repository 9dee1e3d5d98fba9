//! `/api/v1/channels/{name}`: the channel's profile, read and changed.

use super::{posts::media_response, scope, ApiError, Authorized};
use crate::{
    db::{self, InteractionPolicy, MediaId, ProfileField},
    posts::{self, ProfileInput},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

fn some_or_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(deserializer)?))
}

/// A channel's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelResponse {
    pub name: String,
    /// `@name@domain`.
    pub handle: String,
    /// The ActivityPub actor id.
    pub uri: String,
    /// The public page.
    pub url: String,
    pub display_name: String,
    /// Markdown.
    pub summary: String,
    /// Shown as an automated account.
    pub bot: bool,
    pub fields: Vec<ProfileField>,
    pub default_language: Option<String>,
    pub policy: InteractionPolicy,
    /// Follow requests wait for approval (`GET …/followers?pending=true`).
    pub manually_approves_followers: bool,
    /// Posts by people (not channel tokens) carry their author's name as a signature line.
    pub sign_posts: bool,
    pub avatar: Option<super::posts::MediaResponse>,
    pub header: Option<super::posts::MediaResponse>,
    pub followers_count: u64,
    pub posts_count: u64,
}

/// A profile change: only the keys present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    pub display_name: Option<String>,
    /// Markdown.
    pub summary: Option<String>,
    pub bot: Option<bool>,
    /// Up to 4 fields, replacing the current ones.
    pub fields: Option<Vec<ProfileField>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    pub default_language: Option<Option<String>>,
    /// Who may reply, quote and boost, for posts that do not say otherwise.
    pub policy: Option<InteractionPolicy>,
    /// Approve followers by hand.
    pub manually_approves_followers: Option<bool>,
    /// Sign each post with its author's name (posts by people; channel tokens sign nothing).
    pub sign_posts: Option<bool>,
    /// An uploaded image; `null` removes the avatar.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    pub avatar_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    pub header_id: Option<Option<String>>,
}

fn media_id(raw: Option<Option<String>>) -> Result<Option<Option<MediaId>>, ApiError> {
    match raw {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(id)) => MediaId::parse(&id)
            .map(|m| Some(Some(m)))
            .ok_or_else(|| ApiError::invalid("media_invalid", format!("`{id}` is not a media id"))),
    }
}

async fn response(data: &HeraldState, channel: &db::Channel) -> Result<ChannelResponse, ApiError> {
    let images = crate::db::ChannelImages::load(&data.db, channel).await?;
    Ok(ChannelResponse {
        name: channel.name.to_string(),
        handle: format!("@{}@{}", channel.name, data.urls.authority()),
        uri: data.urls.channel(&channel.name).to_string(),
        url: data.urls.profile_page(&channel.name).to_string(),
        display_name: channel.display_name.clone(),
        summary: channel.summary.clone(),
        bot: channel.bot,
        fields: channel.fields.clone(),
        default_language: channel.default_language.clone(),
        policy: channel.policy,
        manually_approves_followers: channel.manually_approves,
        sign_posts: channel.sign_posts,
        avatar: images.avatar.as_ref().map(|m| media_response(data, m)),
        header: images.header.as_ref().map(|m| media_response(data, m)),
        followers_count: db::count_followers(&data.db, channel.id).await?,
        posts_count: db::count_posts(&data.db, Some(channel.id)).await?,
    })
}

/// Read the channel's profile
#[utoipa::path(
    get,
    path = "/api/v1/channels/{name}",
    tag = "channel",
    params(("name" = String, Path)),
    responses(
        (status = 200, body = ChannelResponse),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_channel(
    auth: Authorized<scope::PostsRead>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    Ok(HttpResponse::Ok().json(response(&data, &channel).await?))
}

/// Change the channel's profile
///
/// Display name, Markdown summary, avatar and header (uploaded media), up to 4 profile
/// fields, the bot flag, the default language and the interaction policy. Followers'
/// servers get an `Update` of the actor. Needs the `profile:write` scope.
#[utoipa::path(
    patch,
    path = "/api/v1/channels/{name}",
    tag = "channel",
    params(("name" = String, Path)),
    request_body = ProfileRequest,
    responses(
        (status = 200, body = ChannelResponse),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
        (status = 422, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn patch_channel(
    body: web::Json<ProfileRequest>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    let body = body.into_inner();
    let input = ProfileInput {
        display_name: body.display_name,
        summary: body.summary,
        bot: body.bot,
        fields: body.fields,
        default_language: body.default_language,
        policy: body.policy,
        avatar: media_id(body.avatar_id)?,
        header: media_id(body.header_id)?,
        manually_approves: body.manually_approves_followers,
        sign_posts: body.sign_posts,
        also_known_as: None,
    };
    let channel = posts::update_profile(&data, &channel, &auth.actor, input).await?;
    Ok(HttpResponse::Ok().json(response(&data, &channel).await?))
}

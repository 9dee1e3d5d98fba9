//! Actor documents: channels and the instance actor.

use super::activity_json;
use crate::{
    db::{self, ChannelName, DbError},
    state::HeraldState,
    {
        error::FederationError,
        inbox::{request_parts, signature},
        objects::{ApubChannel, InstanceActor},
    },
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};

/// Loads a channel by the `{name}` of a path, answering 404 for unknown or malformed names.
pub(crate) async fn load_channel(
    data: &HeraldState,
    raw: &str,
) -> Result<db::Channel, FederationError> {
    let name = ChannelName::parse(raw).map_err(|_| FederationError::ChannelNotFound)?;
    db::channel_by_name(&data.db, name.as_str())
        .await
        .map_err(|e| match e {
            DbError::NotFound => FederationError::ChannelNotFound,
            other => other.into(),
        })
}

/// Refuses a fetch signed by a server blocked here (instance-wide, or for `channel`) with
/// 403. Unsigned fetches are served: only a signature names who is asking.
pub(crate) async fn refuse_blocked(
    request: &HttpRequest,
    data: &HeraldState,
    channel: Option<db::ChannelId>,
) -> Result<(), FederationError> {
    let parts = request_parts(request, data.urls.base());
    let Ok(signature) = signature::parse(&parts) else {
        return Ok(());
    };
    let Some(host) = signature.key_host() else {
        return Ok(());
    };
    if data.blocks.is_blocked(&data.db, &host, channel).await? {
        return Err(FederationError::DomainBlocked);
    }
    Ok(())
}

/// [`load_channel`] for a fetch: 403 to a server the channel (or instance) blocks.
pub(crate) async fn fetch_channel(
    request: &HttpRequest,
    data: &HeraldState,
    raw: &str,
) -> Result<db::Channel, FederationError> {
    let channel = load_channel(data, raw).await?;
    refuse_blocked(request, data, Some(channel.id)).await?;
    Ok(channel)
}

pub async fn get_channel(
    name: web::Path<String>,
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let channel = fetch_channel(&request, &data, &name).await?;
    let images = crate::db::ChannelImages::load(&data.db, &channel).await?;
    let actor = ApubChannel::new(channel, &data.urls).to_actor(&data.urls, &images);
    Ok(activity_json(&actor))
}

pub async fn get_instance_actor(data: Data<HeraldState>) -> HttpResponse {
    let actor = InstanceActor::new(&data.urls, &data.instance_keys).to_actor(&data.urls);
    activity_json(&actor)
}

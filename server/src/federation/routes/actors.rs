//! Actor documents: channels and the instance actor.

use super::activity_json;
use crate::{
    db::{self, ChannelName, DbError},
    federation::{
        error::FederationError,
        objects::{channel::ChannelImages, ApubChannel, InstanceActor},
    },
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};

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

pub async fn get_channel(
    name: web::Path<String>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let channel = load_channel(&data, &name).await?;
    let images = ChannelImages::load(&data.db, &channel).await?;
    let actor = ApubChannel::new(channel, &data.urls).to_actor(&data.urls, &images);
    Ok(activity_json(&actor))
}

pub async fn get_instance_actor(data: Data<HeraldState>) -> HttpResponse {
    let actor = InstanceActor::new(&data.urls, &data.instance_keys).to_actor(&data.urls);
    activity_json(&actor)
}

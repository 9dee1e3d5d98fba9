//! `Block` of a channel: the blocker stops being a follower and gets no more deliveries.

use super::local_channel;
use crate::{
    db::{self, RemoteActor},
    state::HeraldState,
    {error::FederationError, inbox::envelope::Envelope},
};
use activitypub_federation::config::Data;

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let Some(object) = activity.object_id() else {
        return Ok(());
    };
    if let Some(channel) = local_channel(data, &object).await? {
        if db::remove_follower(&data.db, channel.id, sender.id).await? {
            tracing::info!(channel = %channel.name, server = %sender.authority, "a follower blocked the channel");
            super::undo::left(data, channel.id, sender).await;
        }
    }
    Ok(())
}

//! `Undo`: of a Follow (the follower leaves), or of a Like, boost or reaction (no longer
//! counted). Only the sender's own activities can be undone.

use super::local_channel;
use crate::{
    db::{self, RemoteActor},
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{id_of, type_of, Envelope},
    },
};
use activitypub_federation::config::Data;

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let undone = activity
        .object_id()
        .ok_or_else(|| FederationError::ActivityInvalid("Undo of nothing".into()))?;
    let inline = activity.object.is_object().then_some(&activity.object);
    if let Some(inner) = inline {
        // An inline activity must be the sender's own.
        let inner_actor = inner.get("actor").and_then(id_of);
        if inner_actor.is_some_and(|a| a != sender.uri) {
            return Err(FederationError::Refused(
                "an Undo can only undo the sender's own activity".into(),
            ));
        }
        if type_of(inner) == Some("Follow") {
            let channel = match inner.get("object").and_then(id_of) {
                Some(object) => local_channel(data, &object).await?,
                None => None,
            };
            if let Some(channel) = channel {
                if db::remove_follower(&data.db, channel.id, sender.id).await? {
                    tracing::info!(server = %sender.authority, "follower left");
                    left(data, channel.id, sender).await;
                }
            }
            return Ok(());
        }
    }
    // By id: a Follow named by its IRI, or an interaction.
    if let Some(channel) = db::remove_follow_by_uri(&data.db, sender.id, undone.as_str()).await? {
        tracing::info!(server = %sender.authority, "follower left");
        left(data, channel, sender).await;
    } else {
        db::remove_interaction(&data.db, undone.as_str(), &sender.authority).await?;
    }
    Ok(())
}

/// Tells the channel's webhooks that `follower` is gone (`follower.removed`).
pub(super) async fn left(data: &HeraldState, channel: db::ChannelId, follower: &RemoteActor) {
    let event = serde_json::json!({ "actor": follower.uri });
    super::tell(data, channel, db::EventKind::FollowerRemoved, event).await;
}

//! `Follow`: a remote actor follows a channel. Herald stores the follower and answers
//! with a signed `Accept` through the delivery queue.

use super::accept::build_accept;
use crate::{
    db::{self, ActivityKind, DbError, NewActivity},
    federation::{error::FederationError, objects::ApubRemoteActor, protocol::activities::Follow},
    state::HeraldState,
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};

/// The object of a Follow must be one of our channels.
pub async fn verify(follow: &Follow, data: &Data<HeraldState>) -> Result<(), FederationError> {
    let name = data
        .urls
        .parse_channel(&follow.object)
        .ok_or(FederationError::ChannelNotFound)?;
    match db::channel_by_name(&data.db, name.as_str()).await {
        Ok(_) => Ok(()),
        Err(DbError::NotFound) => Err(FederationError::ChannelNotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn receive(follow: Follow, data: &Data<HeraldState>) -> Result<(), FederationError> {
    let name = data
        .urls
        .parse_channel(&follow.object)
        .ok_or(FederationError::ChannelNotFound)?;
    let channel = db::channel_by_name(&data.db, name.as_str()).await?;
    // Already fetched and cached while the signature was verified.
    let actor = ObjectId::<ApubRemoteActor>::from(follow.actor.clone())
        .dereference(data)
        .await?
        .0;
    let new = db::add_follower(&data.db, channel.id, &actor, follow.id.as_str()).await?;
    if new {
        tracing::info!(channel = %channel.name, server = %actor.authority, "new follower");
    }

    // Accept goes to the follower's personal inbox, even when a repeated Follow finds the
    // follow already stored: the follower's server is waiting for it.
    let (id, accept) = build_accept(&data.urls, &channel, follow);
    let delivery = db::insert_activity_for_inbox(
        &data.db,
        NewActivity {
            id,
            channel_id: channel.id,
            kind: ActivityKind::Accept,
            post_id: None,
            payload: serde_json::to_string(&accept)?,
        },
        &actor.inbox,
    )
    .await?;
    if let Err(err) = data.queue.enqueue_delivery(delivery, 0).await {
        // Stored as pending: the sweeper enqueues it when Redis is back.
        tracing::warn!(error = %crate::error_chain(&err), "could not enqueue an Accept");
    }
    Ok(())
}

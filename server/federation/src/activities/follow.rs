//! `Follow`: a remote actor follows a channel. Herald stores the follower and answers with
//! a signed `Accept` through the delivery queue — or, when the channel approves followers
//! by hand, keeps the request until the owner decides.

use super::{accept::build_accept, local_channel};
use crate::{
    db::{self, ActivityKind, Channel, NewActivity, RemoteActor},
    state::HeraldState,
    {error::FederationError, inbox::envelope::Envelope, protocol::activities::Follow},
};
use activitypub_federation::{config::Data, kinds::activity::FollowType};
use url::Url;

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let object = activity
        .object_id()
        .ok_or(FederationError::ChannelNotFound)?;
    let channel = local_channel(data, &object)
        .await?
        .ok_or(FederationError::ChannelNotFound)?;
    let host = sender.uri.host_str().unwrap_or_default();
    if db::is_blocked(&data.db, host, Some(channel.id)).await? {
        return Err(FederationError::DomainBlocked);
    }
    let (new, pending) = db::add_follower(
        &data.db,
        channel.id,
        sender,
        activity.id.as_str(),
        channel.manually_approves,
    )
    .await?;
    let event = serde_json::json!({ "channel": channel.name.as_str(), "actor": sender.uri });
    if pending {
        tracing::info!(channel = %channel.name, server = %sender.authority, "follow request awaits approval");
        if new {
            super::tell(data, channel.id, db::EventKind::FollowRequest, event).await;
        }
        return Ok(());
    }
    if new {
        tracing::info!(channel = %channel.name, server = %sender.authority, "new follower");
        super::tell(data, channel.id, db::EventKind::FollowerAdded, event).await;
    }
    // Accept goes to the follower's personal inbox, even when a repeated Follow finds the
    // follow already stored: the follower's server is waiting for it.
    let follow = Follow {
        id: activity.id.clone(),
        kind: FollowType::Follow,
        actor: sender.uri.clone(),
        object,
    };
    send_answer(data, &channel, follow, sender, true).await
}

/// Sends `Accept` (or, when `accept` is false, `Reject`) of `follow` to `follower`.
pub async fn send_answer(
    data: &HeraldState,
    channel: &Channel,
    follow: Follow,
    follower: &RemoteActor,
    accept: bool,
) -> Result<(), FederationError> {
    let (id, answer) = build_accept(&data.urls, channel, follow);
    let kind = if accept {
        ActivityKind::Accept
    } else {
        ActivityKind::Reject
    };
    let mut json = serde_json::to_value(&answer)?;
    if !accept {
        // Reject(Follow): Mastodon then drops the follow (UnfollowService).
        json["type"] = serde_json::Value::from("Reject");
    }
    let delivery = db::insert_activity_for_inbox(
        &data.db,
        NewActivity {
            id,
            channel_id: channel.id,
            kind,
            post_id: None,
            payload: json.to_string(),
        },
        &follower.inbox,
    )
    .await?;
    if let Err(err) = data.queue.enqueue_delivery(delivery, 0).await {
        // Stored as pending: the sweeper enqueues it when Redis is back.
        tracing::warn!(error = %crate::error_chain(&err), "could not enqueue an answer to a Follow");
    }
    Ok(())
}

/// The Follow a stored follow came from, rebuilt to answer it later.
pub fn stored_follow(follow_uri: &str, actor: &Url, channel: &Url) -> Option<Follow> {
    Some(Follow {
        id: Url::parse(follow_uri).ok()?,
        kind: FollowType::Follow,
        actor: actor.clone(),
        object: channel.clone(),
    })
}

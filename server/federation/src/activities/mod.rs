//! Activities: one file per kind, each with how it is built (outbound) or handled
//! (inbound). Inbound activities arrive verified from the inbox and are dispatched by
//! type (`inbox::envelope::Kind`); kinds Herald does not act on are accepted and ignored, as
//! ActivityPub asks.

pub mod accept;
mod block;
pub mod create;
mod delete;
pub mod follow;
mod interactions;
pub mod lifecycle;
mod moving;
mod quote;
mod reply;
mod report;
mod undo;
mod update;

use crate::{
    db::{self, Channel, DbError, Post, RemoteActor},
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{Envelope, Kind},
    },
};
use activitypub_federation::config::Data;
use url::Url;

/// Hands a verified activity to the handler of its kind.
pub async fn dispatch(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    match &activity.kind {
        Kind::Follow => follow::receive(data, activity, sender).await,
        Kind::Undo => undo::receive(data, activity, sender).await,
        Kind::Like | Kind::EmojiReact | Kind::Dislike => {
            interactions::like(data, activity, sender).await
        }
        Kind::Announce => interactions::announce(data, activity, sender).await,
        Kind::Create => reply::create(data, activity, sender).await,
        Kind::Update => update::receive(data, activity, sender).await,
        Kind::Delete => delete::receive(data, activity, sender).await,
        Kind::Block => block::receive(data, activity, sender).await,
        Kind::Move => moving::receive(data, activity, sender).await,
        Kind::Flag => report::receive(data, activity, sender).await,
        Kind::QuoteRequest => quote::receive(data, activity, sender).await,
        Kind::Other(other) => {
            tracing::debug!(
                kind = other.as_str(),
                "ignoring an activity of a kind Herald does not handle"
            );
            Ok(())
        }
    }
}

/// The local channel an id names, if it is one of ours.
pub(crate) async fn local_channel(
    data: &HeraldState,
    id: &Url,
) -> Result<Option<Channel>, FederationError> {
    let Some(name) = data.urls.parse_channel(id) else {
        return Ok(None);
    };
    match db::channel_by_name(&data.db, name.as_str()).await {
        Ok(channel) => Ok(Some(channel)),
        Err(DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The published, undeleted local post an id names, if it is one of ours.
pub(crate) async fn local_post(
    data: &HeraldState,
    id: &Url,
) -> Result<Option<Post>, FederationError> {
    let Some(post_id) = data.urls.parse_post(id) else {
        return Ok(None);
    };
    match db::post_by_uuid(&data.db, post_id).await {
        Ok(post) if post.is_published() => Ok(Some(post)),
        Ok(_) | Err(DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Tells `channel`'s webhooks about `kind` (see `delivery::webhooks`); never fails the
/// handler.
pub(crate) async fn tell(
    data: &HeraldState,
    channel: crate::db::ChannelId,
    kind: crate::db::EventKind,
    event: serde_json::Value,
) {
    crate::delivery::webhooks::emit(&data.db, &data.queue, channel, kind, event).await;
}

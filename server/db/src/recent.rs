//! The newest rows of a kind for one channel, for the owner's notifications (Mastodon
//! apps show followers, follow requests and replies as they come in).

use super::{
    entities::{follower, remote_actor},
    moderation::follower_entry_of,
    ChannelId, DbResult, FollowerEntry,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// A channel's followers (`pending`: follow requests), newest first.
pub async fn recent_followers(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    pending: bool,
    limit: u64,
) -> DbResult<Vec<FollowerEntry>> {
    Ok(follower::Entity::find()
        .find_also_related(remote_actor::Entity)
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::Pending.eq(pending))
        .order_by_desc(follower::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(f, actor)| Some(follower_entry_of(f, actor?)))
        .collect())
}

//! The newest rows of a kind for one channel, for the owner's notifications (Mastodon
//! apps show followers, follow requests, replies, likes and boosts as they come in).

use super::{
    entities::{follower, interaction, post, remote_actor},
    moderation::follower_entry_of,
    ChannelId, DbError, DbResult, FollowerEntry, PostId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Query, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

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

/// A like, boost or reaction as kept: of which post, from which server, never by whom.
#[derive(Clone, Debug)]
pub struct RecentInteraction {
    pub id: String,
    pub post_id: PostId,
    pub kind: String,
    pub authority: String,
    pub created_at: DateTime<Utc>,
}

/// The interactions with a channel's posts, newest first.
pub async fn recent_interactions(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    limit: u64,
) -> DbResult<Vec<RecentInteraction>> {
    let posts_of_channel = Query::select()
        .column(post::Column::Id)
        .from(post::Entity)
        .and_where(post::Column::ChannelId.eq(channel.0))
        .to_owned();
    interaction::Entity::find()
        .filter(interaction::Column::PostId.in_subquery(posts_of_channel))
        .order_by_desc(interaction::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            Ok(RecentInteraction {
                post_id: PostId::parse(&m.post_id)
                    .ok_or_else(|| DbError::Corrupt(m.post_id.clone()))?,
                id: m.id,
                kind: m.kind,
                authority: m.authority,
                created_at: m.created_at,
            })
        })
        .collect()
}

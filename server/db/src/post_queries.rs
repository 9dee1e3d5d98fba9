//! Reading posts: a channel's timeline (newest first, keyset-paged), its scheduled and
//! pinned posts, one post by id, and counts. Writing them is `posts`.

use super::{entities::post, ChannelId, DbError, DbResult, Post, PostId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

/// Scheduled posts due at `now`.
pub async fn due_scheduled_posts(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> DbResult<Vec<Post>> {
    post::Entity::find()
        .filter(post::Column::PublishedAt.is_null())
        .filter(post::Column::DeletedAt.is_null())
        .filter(post::Column::ScheduledAt.lte(now))
        .order_by_asc(post::Column::ScheduledAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Post::try_from)
        .collect()
}

/// A channel's scheduled posts, soonest first.
pub async fn scheduled_posts(db: &impl ConnectionTrait, channel: ChannelId) -> DbResult<Vec<Post>> {
    post::Entity::find()
        .filter(post::Column::ChannelId.eq(channel.0))
        .filter(post::Column::PublishedAt.is_null())
        .filter(post::Column::DeletedAt.is_null())
        .order_by_asc(post::Column::ScheduledAt)
        .all(db)
        .await?
        .into_iter()
        .map(Post::try_from)
        .collect()
}

/// A channel's pinned posts, most recently pinned first.
pub async fn pinned_posts(db: &impl ConnectionTrait, channel: ChannelId) -> DbResult<Vec<Post>> {
    post::Entity::find()
        .filter(post::Column::ChannelId.eq(channel.0))
        .filter(post::Column::PinnedAt.is_not_null())
        .filter(post::Column::DeletedAt.is_null())
        .order_by_desc(post::Column::PinnedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Post::try_from)
        .collect()
}

/// A post of `channel` by id (deleted posts included: callers decide what a tombstone shows).
pub async fn post_by_id(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    id: PostId,
) -> DbResult<Post> {
    post::Entity::find_by_id(id.to_string())
        .filter(post::Column::ChannelId.eq(channel.0))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// A post by id alone, for dereferencing its ActivityPub id.
pub async fn post_by_uuid(db: &impl ConnectionTrait, id: PostId) -> DbResult<Post> {
    post::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// Up to `limit` published, undeleted posts of `channel`, newest first, older than
/// `before` when given (keyset pagination on the time-ordered id).
pub async fn list_posts(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    before: Option<PostId>,
    limit: u64,
) -> DbResult<Vec<Post>> {
    list_posts_query(channel, before, limit)
        .all(db)
        .await?
        .into_iter()
        .map(Post::try_from)
        .collect()
}

pub(super) fn list_posts_query(
    channel: ChannelId,
    before: Option<PostId>,
    limit: u64,
) -> Select<post::Entity> {
    let mut query = post::Entity::find()
        .filter(post::Column::ChannelId.eq(channel.0))
        .filter(post::Column::DeletedAt.is_null())
        .filter(post::Column::PublishedAt.is_not_null());
    if let Some(before) = before {
        query = query.filter(post::Column::Id.lt(before.to_string()));
    }
    query.order_by_desc(post::Column::Id).limit(limit)
}

/// Which of a channel's posts a page holds, by id (Mastodon's paging parameters): older
/// than `max`, newer than `since` (the newest of those), or just newer than `min` (the
/// oldest of those: paging forward in time).
#[derive(Clone, Copy, Debug, Default)]
pub struct PostWindow {
    pub max: Option<PostId>,
    pub since: Option<PostId>,
    pub min: Option<PostId>,
}

/// Up to `limit` published, undeleted posts of `channel` in `window`, newest first.
pub async fn list_posts_in(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    window: PostWindow,
    limit: u64,
) -> DbResult<Vec<Post>> {
    let mut query = post::Entity::find()
        .filter(post::Column::ChannelId.eq(channel.0))
        .filter(post::Column::DeletedAt.is_null())
        .filter(post::Column::PublishedAt.is_not_null());
    if let Some(max) = window.max {
        query = query.filter(post::Column::Id.lt(max.to_string()));
    }
    if let Some(after) = window.min.or(window.since) {
        query = query.filter(post::Column::Id.gt(after.to_string()));
    }
    // After `min`: the oldest first (the page just after it), turned newest first below.
    let query = if window.min.is_some() {
        query.order_by_asc(post::Column::Id)
    } else {
        query.order_by_desc(post::Column::Id)
    }
    .limit(limit);
    let mut posts = query
        .all(db)
        .await?
        .into_iter()
        .map(Post::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    if window.min.is_some() {
        posts.reverse();
    }
    Ok(posts)
}

/// Published, undeleted posts of a channel, or of the whole instance when `None`.
pub async fn count_posts(db: &impl ConnectionTrait, channel: Option<ChannelId>) -> DbResult<u64> {
    let mut query = post::Entity::find()
        .filter(post::Column::DeletedAt.is_null())
        .filter(post::Column::PublishedAt.is_not_null());
    if let Some(channel) = channel {
        query = query.filter(post::Column::ChannelId.eq(channel.0));
    }
    Ok(query.count(db).await?)
}

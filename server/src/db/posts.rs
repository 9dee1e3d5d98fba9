//! Posts, and the transaction that publishes one with its `Create` and pending fan-out.

use super::{
    entities::{activity, fanout, post},
    ChannelId, DbError, DbResult, FanoutId, NewActivity, FANOUT_PENDING,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::fmt;
use uuid::Uuid;

/// A post's id: a UUIDv7, so ids are unique across restarts and machines and sort by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PostId(pub Uuid);

impl PostId {
    pub fn new() -> PostId {
        PostId(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Option<PostId> {
        Uuid::parse_str(raw).ok().map(PostId)
    }
}

impl Default for PostId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug)]
pub struct Post {
    pub id: PostId,
    pub channel_id: ChannelId,
    /// The owner's Markdown.
    pub source: String,
    /// The sanitized HTML that federates.
    pub content_html: String,
    /// Content warning.
    pub summary: Option<String>,
    /// BCP 47 language tag.
    pub language: Option<String>,
    pub sensitive: bool,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub struct NewPost {
    pub id: PostId,
    pub channel_id: ChannelId,
    pub source: String,
    pub content_html: String,
    pub summary: Option<String>,
    pub language: Option<String>,
    pub sensitive: bool,
    pub created_at: DateTime<Utc>,
}

impl NewPost {
    /// The post as it will read once published: lets the caller build its activity before
    /// the transaction that stores both.
    pub fn to_post(&self) -> Post {
        Post {
            id: self.id,
            channel_id: self.channel_id,
            source: self.source.clone(),
            content_html: self.content_html.clone(),
            summary: self.summary.clone(),
            language: self.language.clone(),
            sensitive: self.sensitive,
            created_at: self.created_at,
            published_at: Some(self.created_at),
            updated_at: None,
            deleted_at: None,
        }
    }
}

impl TryFrom<post::Model> for Post {
    type Error = DbError;

    fn try_from(m: post::Model) -> DbResult<Post> {
        Ok(Post {
            id: PostId::parse(&m.id).ok_or_else(|| DbError::Corrupt(m.id.clone()))?,
            channel_id: ChannelId(m.channel_id),
            source: m.source,
            content_html: m.content_html,
            summary: m.summary,
            language: m.language,
            sensitive: m.sensitive,
            created_at: m.created_at,
            published_at: m.published_at,
            updated_at: m.updated_at,
            deleted_at: m.deleted_at,
        })
    }
}

/// Publishes a post: the post, its `Create` activity and a pending fan-out, in one
/// transaction. Either all three exist or none does, so a committed post always federates
/// (the sweeper re-enqueues a fan-out that never reached the queue).
pub async fn publish_post(
    db: &DatabaseConnection,
    new: NewPost,
    create: NewActivity,
) -> DbResult<(Post, FanoutId)> {
    let txn = db.begin().await?;
    let post = post::ActiveModel {
        id: Set(new.id.to_string()),
        channel_id: Set(new.channel_id.0),
        source: Set(new.source),
        content_html: Set(new.content_html),
        summary: Set(new.summary),
        language: Set(new.language),
        sensitive: Set(new.sensitive),
        created_at: Set(new.created_at),
        published_at: Set(Some(new.created_at)),
        updated_at: Set(None),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let activity_id = create.id.to_string();
    activity::ActiveModel {
        id: Set(activity_id.clone()),
        channel_id: Set(create.channel_id.0),
        kind: Set(create.kind.to_string()),
        post_id: Set(create.post_id.map(|p| p.to_string())),
        payload: Set(create.payload),
        created_at: Set(new.created_at),
    }
    .insert(&txn)
    .await?;
    let fanout = fanout::ActiveModel {
        activity_id: Set(activity_id),
        state: Set(FANOUT_PENDING.to_string()),
        created_at: Set(new.created_at),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((post.try_into()?, FanoutId(fanout.id)))
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
    let mut query = post::Entity::find()
        .filter(post::Column::ChannelId.eq(channel.0))
        .filter(post::Column::DeletedAt.is_null())
        .filter(post::Column::PublishedAt.is_not_null());
    if let Some(before) = before {
        query = query.filter(post::Column::Id.lt(before.to_string()));
    }
    query
        .order_by_desc(post::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Post::try_from)
        .collect()
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

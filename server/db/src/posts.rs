//! Posts through their lifecycle: published (with their `Create`), scheduled, edited,
//! pinned, deleted. Each change that federates stores its activity and a pending fan-out
//! in the same transaction, so a committed change always reaches followers. Reading posts
//! is `post_queries`.

use super::{
    entities::{activity, fanout, post},
    media::attach_media,
    policy::{from_json, to_json},
    ChannelId, DbError, DbResult, FanoutId, FanoutState, InteractionPolicy, MediaId, NewActivity,
    PostId, Visibility,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait,
};
use serde_json::Value;

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
    pub visibility: Visibility,
    pub created_at: DateTime<Utc>,
    /// When it went out; `None` while scheduled.
    pub published_at: Option<DateTime<Utc>>,
    /// When it is to go out, while scheduled.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The time of the last edit.
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub pinned_at: Option<DateTime<Utc>>,
    /// The ActivityStreams `tag` array (Hashtag and Mention objects).
    pub tags: Vec<Value>,
    /// Ids of the actors it mentions (they are cc'd).
    pub mentions: Vec<String>,
    /// Overrides the channel's interaction policy.
    pub policy: Option<InteractionPolicy>,
    /// The author's name, signed under the post (part of `content_html` too).
    pub signature: Option<String>,
}

impl Post {
    pub fn is_published(&self) -> bool {
        self.published_at.is_some() && self.deleted_at.is_none()
    }
}

/// The body of a post as written and rendered: what creating and editing share.
#[derive(Clone, Debug)]
pub struct PostBody {
    pub source: String,
    pub content_html: String,
    pub summary: Option<String>,
    pub language: Option<String>,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub tags: Vec<Value>,
    pub mentions: Vec<String>,
    pub policy: Option<InteractionPolicy>,
    /// Attachments, in order.
    pub media: Vec<MediaId>,
    /// The author's name, signed under the post.
    pub signature: Option<String>,
}

pub struct NewPost {
    pub id: PostId,
    pub channel_id: ChannelId,
    pub body: PostBody,
    pub created_at: DateTime<Utc>,
    /// Publish later, at this time (`None`: now).
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// An activity to send to the channel's followers and to `extra_inboxes` (mentioned
/// actors' servers).
pub struct Broadcast {
    pub activity: NewActivity,
    pub extra_inboxes: Vec<String>,
    /// Its fan-out waits (`held`) until the post's mentions of other servers' accounts
    /// are resolved (see `held`).
    pub held: bool,
}

impl NewPost {
    /// The post as it will read once stored: lets the caller build its activity before
    /// the transaction that stores both.
    pub fn to_post(&self) -> Post {
        let published = self.scheduled_at.is_none().then_some(self.created_at);
        Post {
            id: self.id,
            channel_id: self.channel_id,
            source: self.body.source.clone(),
            content_html: self.body.content_html.clone(),
            summary: self.body.summary.clone(),
            language: self.body.language.clone(),
            sensitive: self.body.sensitive,
            visibility: self.body.visibility,
            created_at: self.created_at,
            published_at: published,
            scheduled_at: self.scheduled_at,
            updated_at: None,
            deleted_at: None,
            pinned_at: None,
            tags: self.body.tags.clone(),
            mentions: self.body.mentions.clone(),
            policy: self.body.policy,
            signature: self.body.signature.clone(),
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
            visibility: Visibility::parse(&m.visibility).unwrap_or_default(),
            created_at: m.created_at,
            published_at: m.published_at,
            scheduled_at: m.scheduled_at,
            updated_at: m.updated_at,
            deleted_at: m.deleted_at,
            pinned_at: m.pinned_at,
            tags: from_json(m.tags.as_deref()),
            mentions: from_json(m.mentions.as_deref()),
            policy: m
                .policy
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
            signature: m.signature,
        })
    }
}

/// Stores an activity and its pending (or held) fan-out inside `txn`.
async fn insert_broadcast(txn: &DatabaseTransaction, broadcast: Broadcast) -> DbResult<FanoutId> {
    let now = super::now();
    let activity_id = broadcast.activity.id.to_string();
    activity::ActiveModel {
        id: Set(activity_id.clone()),
        channel_id: Set(broadcast.activity.channel_id.0),
        kind: Set(broadcast.activity.kind.to_string()),
        post_id: Set(broadcast.activity.post_id.map(|p| p.to_string())),
        payload: Set(broadcast.activity.payload),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    let extra = (!broadcast.extra_inboxes.is_empty()).then(|| to_json(&broadcast.extra_inboxes));
    let fanout = fanout::ActiveModel {
        activity_id: Set(activity_id),
        state: Set(if broadcast.held {
            FanoutState::Held
        } else {
            FanoutState::Pending
        }
        .as_str()
        .to_string()),
        created_at: Set(now),
        finished_at: Set(None),
        extra_inboxes: Set(extra),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(FanoutId(fanout.id))
}

/// Stores a new post with its attachments and, unless it is scheduled, its `Create`
/// broadcast — all or nothing. A medium that is not the channel's or already attached
/// is a `Conflict`.
pub async fn create_post(
    db: &DatabaseConnection,
    new: NewPost,
    create: Option<Broadcast>,
) -> DbResult<(Post, Option<FanoutId>)> {
    let txn = db.begin().await?;
    let body = &new.body;
    let model = post::ActiveModel {
        id: Set(new.id.to_string()),
        channel_id: Set(new.channel_id.0),
        source: Set(body.source.clone()),
        content_html: Set(body.content_html.clone()),
        summary: Set(body.summary.clone()),
        language: Set(body.language.clone()),
        sensitive: Set(body.sensitive),
        visibility: Set(body.visibility.as_str().to_string()),
        created_at: Set(new.created_at),
        published_at: Set(new.scheduled_at.is_none().then_some(new.created_at)),
        scheduled_at: Set(new.scheduled_at),
        updated_at: Set(None),
        deleted_at: Set(None),
        pinned_at: Set(None),
        tags: Set(Some(to_json(&body.tags))),
        mentions: Set(Some(to_json(&body.mentions))),
        policy: Set(body.policy.as_ref().map(to_json)),
        signature: Set(body.signature.clone()),
    }
    .insert(&txn)
    .await?;
    attach_media(&txn, new.channel_id, new.id, &body.media).await?;
    let fanout = match create {
        Some(broadcast) => Some(insert_broadcast(&txn, broadcast).await?),
        None => None,
    };
    txn.commit().await?;
    Ok((model.try_into()?, fanout))
}

/// The same as [`create_post`] for a post that goes out now (kept for callers that
/// publish directly).
pub async fn publish_post(
    db: &DatabaseConnection,
    new: NewPost,
    create: NewActivity,
) -> DbResult<(Post, FanoutId)> {
    let (post, fanout) = create_post(
        db,
        new,
        Some(Broadcast {
            activity: create,
            extra_inboxes: Vec::new(),
            held: false,
        }),
    )
    .await?;
    Ok((post, fanout.ok_or(DbError::NotFound)?))
}

/// Replaces a post's body (and for a scheduled post its time), and stores the `Update`
/// broadcast when the post is already out. `updated_at` becomes `updated`.
pub async fn edit_post(
    db: &DatabaseConnection,
    post: &Post,
    body: PostBody,
    updated_at: DateTime<Utc>,
    scheduled_at: Option<DateTime<Utc>>,
    update: Option<Broadcast>,
) -> DbResult<(Post, Option<FanoutId>)> {
    let txn = db.begin().await?;
    let model = post::Entity::find_by_id(post.id.to_string())
        .filter(post::Column::DeletedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(DbError::NotFound)?;
    let mut active = model.into_active_model();
    active.source = Set(body.source.clone());
    active.content_html = Set(body.content_html.clone());
    active.summary = Set(body.summary.clone());
    active.language = Set(body.language.clone());
    active.sensitive = Set(body.sensitive);
    active.visibility = Set(body.visibility.as_str().to_string());
    active.tags = Set(Some(to_json(&body.tags)));
    active.mentions = Set(Some(to_json(&body.mentions)));
    active.policy = Set(body.policy.as_ref().map(to_json));
    active.signature = Set(body.signature.clone());
    if post.published_at.is_some() {
        active.updated_at = Set(Some(updated_at));
    } else {
        active.scheduled_at = Set(scheduled_at);
    }
    let model = active.update(&txn).await?;
    attach_media(&txn, post.channel_id, post.id, &body.media).await?;
    let fanout = match update {
        Some(broadcast) => Some(insert_broadcast(&txn, broadcast).await?),
        None => None,
    };
    txn.commit().await?;
    Ok((model.try_into()?, fanout))
}

/// Marks a post deleted (and unpinned) and stores its `Delete` broadcast, when it was
/// out. A scheduled post is simply cancelled.
pub async fn delete_post(
    db: &DatabaseConnection,
    post: &Post,
    delete: Option<Broadcast>,
) -> DbResult<Option<FanoutId>> {
    let txn = db.begin().await?;
    let result = post::Entity::update_many()
        .col_expr(post::Column::DeletedAt, Expr::value(super::now()))
        .col_expr(
            post::Column::PinnedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            post::Column::ScheduledAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(post::Column::Id.eq(post.id.to_string()))
        .filter(post::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    let fanout = match delete {
        Some(broadcast) => Some(insert_broadcast(&txn, broadcast).await?),
        None => None,
    };
    txn.commit().await?;
    Ok(fanout)
}

/// Pins or unpins a published post and stores the `Add`/`Remove` broadcast. Returns
/// `None` (and stores nothing) when the post already was so.
pub async fn set_pinned(
    db: &DatabaseConnection,
    post: &Post,
    pinned: bool,
    broadcast: Broadcast,
) -> DbResult<Option<FanoutId>> {
    let txn = db.begin().await?;
    let mut update = post::Entity::update_many()
        .filter(post::Column::Id.eq(post.id.to_string()))
        .filter(post::Column::DeletedAt.is_null())
        .filter(post::Column::PublishedAt.is_not_null());
    update = if pinned {
        update
            .col_expr(post::Column::PinnedAt, Expr::value(super::now()))
            .filter(post::Column::PinnedAt.is_null())
    } else {
        update
            .col_expr(
                post::Column::PinnedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(post::Column::PinnedAt.is_not_null())
    };
    if update.exec(&txn).await?.rows_affected == 0 {
        return Ok(None);
    }
    let fanout = insert_broadcast(&txn, broadcast).await?;
    txn.commit().await?;
    Ok(Some(fanout))
}

/// Publishes a scheduled post at `now`, exactly once: the update that sets
/// `published_at` only matches a post still unpublished, so of two schedulers racing one
/// wins and the other stores nothing. `create` is built for that `now`.
pub async fn publish_scheduled(
    db: &DatabaseConnection,
    post: PostId,
    now: DateTime<Utc>,
    create: Broadcast,
) -> DbResult<Option<FanoutId>> {
    let txn = db.begin().await?;
    let result = post::Entity::update_many()
        .col_expr(post::Column::PublishedAt, Expr::value(now))
        .col_expr(
            post::Column::ScheduledAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(post::Column::Id.eq(post.to_string()))
        .filter(post::Column::PublishedAt.is_null())
        .filter(post::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    let fanout = insert_broadcast(&txn, create).await?;
    txn.commit().await?;
    Ok(Some(fanout))
}

/// Stores an activity about the channel itself (a profile `Update`) with its fan-out.
pub async fn store_broadcast(db: &DatabaseConnection, broadcast: Broadcast) -> DbResult<FanoutId> {
    let txn = db.begin().await?;
    let fanout = insert_broadcast(&txn, broadcast).await?;
    txn.commit().await?;
    Ok(fanout)
}

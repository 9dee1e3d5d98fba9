//! Whole channels as rows, to move them between Heralds: everything a channel needs to live
//! on elsewhere (its profile and keys, its posts in every state, its media, its followers),
//! read from one consistent snapshot and written back in one transaction with the ids given.
//! Deliveries, tokens, idempotency keys and received activities stay behind: they belong
//! to the instance, not to the channel.

use super::{
    authority_of,
    entities::{channel, follower, media, post, remote_actor},
    policy::to_json,
    Channel, ChannelId, DbError, DbResult, Media, Post, RemoteActor,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, AccessMode, ActiveModelTrait, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DbBackend, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use std::collections::HashMap;

/// Rows per multi-row INSERT: far below SQLite's 32,766 bound parameters (posts have 17
/// columns).
const BATCH: usize = 500;

/// A channel with everything that moves with it.
///
/// On import the database ids of the channel (`channel.id`, and `channel_id` in the posts
/// and media) are ignored: the channel gets a new one. Post and media ids are kept as given.
pub struct ChannelRecords {
    pub channel: Channel,
    /// Every post, published, scheduled or deleted, oldest first.
    pub posts: Vec<Post>,
    /// Attachments (with their post and position) and profile images.
    pub media: Vec<PlacedMedia>,
    pub followers: Vec<FollowerRecord>,
}

/// A medium and its place among its post's attachments.
#[derive(Clone, Debug)]
pub struct PlacedMedia {
    pub media: Media,
    /// 0 for the first attachment (and for media attached to no post).
    pub position: u32,
}

/// A follow of the channel, with the remote actor as cached.
#[derive(Clone, Debug)]
pub struct FollowerRecord {
    /// On import `actor.id` is ignored: the actor is found, or cached anew, by its URI.
    pub actor: RemoteActor,
    /// Where deliveries to this follower go.
    pub target_inbox: String,
    /// The id of the `Follow` activity (an `Undo` may name it).
    pub follow_uri: String,
    pub created_at: DateTime<Utc>,
    /// A request still waiting for the owner's approval.
    pub pending: bool,
}

/// Reads everything of `channel` from one snapshot: a concurrent post or follow is either
/// wholly in or wholly out.
pub async fn channel_records(
    db: &DatabaseConnection,
    channel: ChannelId,
) -> DbResult<ChannelRecords> {
    let txn = match db.get_database_backend() {
        // PostgreSQL's default (read committed) gives each statement its own snapshot.
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        // SQLite in WAL mode reads one snapshot for a whole transaction.
        _ => db.begin().await?,
    };
    let channel = super::channel_by_id(&txn, channel).await?;
    let posts = post::Entity::find()
        .filter(post::Column::ChannelId.eq(channel.id.0))
        .order_by_asc(post::Column::Id)
        .all(&txn)
        .await?
        .into_iter()
        .map(Post::try_from)
        .collect::<DbResult<Vec<_>>>()?;
    let media = media::Entity::find()
        .filter(media::Column::ChannelId.eq(channel.id.0))
        .order_by_asc(media::Column::Id)
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| {
            let position = u32::try_from(m.position).unwrap_or_default();
            Ok(PlacedMedia {
                media: Media::try_from(m)?,
                position,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    let followers = follower::Entity::find()
        .filter(follower::Column::ChannelId.eq(channel.id.0))
        .find_also_related(remote_actor::Entity)
        .order_by_asc(follower::Column::Id)
        .all(&txn)
        .await?
        .into_iter()
        .map(|(follow, actor)| {
            let actor = actor.ok_or_else(|| {
                DbError::Corrupt(format!("follower {} has no remote actor", follow.id))
            })?;
            Ok(FollowerRecord {
                actor: RemoteActor::try_from(actor)?,
                target_inbox: follow.target_inbox,
                follow_uri: follow.follow_uri,
                created_at: follow.created_at,
                pending: follow.pending,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    txn.commit().await?;
    Ok(ChannelRecords {
        channel,
        posts,
        media,
        followers,
    })
}

/// Creates a channel with its posts, media and followers, all or nothing. A taken name is
/// [`DbError::Conflict`], as is a post or medium id already in use. Remote actors already
/// cached keep their cached document. Nothing is queued for delivery.
pub async fn import_channel(db: &DatabaseConnection, records: ChannelRecords) -> DbResult<Channel> {
    let txn = db.begin().await?;
    let c = records.channel;
    let created = channel::ActiveModel {
        name: Set(c.name.as_str().to_string()),
        display_name: Set(c.display_name),
        summary: Set(c.summary),
        bot: Set(c.bot),
        public_key_pem: Set(c.public_key_pem),
        private_key_pem: Set(c.private_key_pem),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
        fields: Set(Some(to_json(&c.fields))),
        default_language: Set(c.default_language),
        policy: Set(Some(to_json(&c.policy))),
        avatar_id: Set(c.avatar.map(|m| m.to_string())),
        header_id: Set(c.header.map(|m| m.to_string())),
        manually_approves: Set(c.manually_approves),
        sign_posts: Set(c.sign_posts),
        also_known_as: Set(Some(to_json(&c.also_known_as))),
        moved_to: Set(c.moved_to.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let id = created.id;
    for chunk in records.media.chunks(BATCH) {
        media::Entity::insert_many(chunk.iter().map(|placed| media_model(id, placed)))
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in records.posts.chunks(BATCH) {
        post::Entity::insert_many(chunk.iter().map(|p| post_model(id, p)))
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in records.followers.chunks(BATCH) {
        insert_followers(&txn, id, chunk).await?;
    }
    let channel = Channel::try_from(created)?;
    txn.commit().await?;
    Ok(channel)
}

fn media_model(channel: i64, placed: &PlacedMedia) -> media::ActiveModel {
    let m = &placed.media;
    media::ActiveModel {
        id: Set(m.id.to_string()),
        channel_id: Set(channel),
        post_id: Set(m.post_id.map(|p| p.to_string())),
        position: Set(i32::try_from(placed.position).unwrap_or(i32::MAX)),
        file_name: Set(m.file_name.clone()),
        media_type: Set(m.media_type.clone()),
        size: Set(i64::try_from(m.size).unwrap_or(i64::MAX)),
        width: Set(i32::try_from(m.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(m.height).unwrap_or(i32::MAX)),
        blurhash: Set(m.blurhash.clone()),
        description: Set(m.description.clone()),
        focus_x: Set(m.focus.0),
        focus_y: Set(m.focus.1),
        created_at: Set(m.created_at),
    }
}

fn post_model(channel: i64, p: &Post) -> post::ActiveModel {
    post::ActiveModel {
        id: Set(p.id.to_string()),
        channel_id: Set(channel),
        source: Set(p.source.clone()),
        content_html: Set(p.content_html.clone()),
        summary: Set(p.summary.clone()),
        language: Set(p.language.clone()),
        sensitive: Set(p.sensitive),
        visibility: Set(p.visibility.as_str().to_string()),
        created_at: Set(p.created_at),
        published_at: Set(p.published_at),
        scheduled_at: Set(p.scheduled_at),
        updated_at: Set(p.updated_at),
        deleted_at: Set(p.deleted_at),
        pinned_at: Set(p.pinned_at),
        tags: Set(Some(to_json(&p.tags))),
        mentions: Set(Some(to_json(&p.mentions))),
        policy: Set(p.policy.as_ref().map(to_json)),
        signature: Set(p.signature.clone()),
    }
}

/// Caches the actors not cached yet, then adds their follows of `channel`.
async fn insert_followers(
    txn: &impl ConnectionTrait,
    channel: i64,
    followers: &[FollowerRecord],
) -> DbResult<()> {
    remote_actor::Entity::insert_many(followers.iter().map(|f| {
        let a = &f.actor;
        remote_actor::ActiveModel {
            uri: Set(a.uri.to_string()),
            inbox: Set(a.inbox.to_string()),
            shared_inbox: Set(a.shared_inbox.as_ref().map(|u| u.to_string())),
            public_key_pem: Set(a.public_key_pem.clone()),
            authority: Set(authority_of(&a.uri)),
            fetched_at: Set(a.fetched_at),
            key_id: Set(a.key_id.clone()),
            also_known_as: Set(Some(to_json(&a.also_known_as))),
            ..Default::default()
        }
    }))
    .on_conflict(
        OnConflict::column(remote_actor::Column::Uri)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(txn)
    .await?;
    let ids: HashMap<String, i64> = remote_actor::Entity::find()
        .select_only()
        .column(remote_actor::Column::Uri)
        .column(remote_actor::Column::Id)
        .filter(remote_actor::Column::Uri.is_in(followers.iter().map(|f| f.actor.uri.to_string())))
        .into_tuple::<(String, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let rows = followers
        .iter()
        .map(|f| {
            let actor = ids
                .get(f.actor.uri.as_str())
                .copied()
                .ok_or_else(|| DbError::Corrupt(format!("actor {} was not cached", f.actor.uri)))?;
            Ok(follower::ActiveModel {
                channel_id: Set(channel),
                remote_actor_id: Set(actor),
                target_inbox: Set(f.target_inbox.clone()),
                follow_uri: Set(f.follow_uri.clone()),
                created_at: Set(f.created_at),
                pending: Set(f.pending),
                ..Default::default()
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    follower::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

//! What the inbox stores: received activity ids (replays are processed once), interactions
//! with posts, the servers that interacted (reach), replies and reports.

use super::{
    entities::{interaction, post_reach, received_activity, reply, report},
    ChannelId, DbError, DbResult, PostId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set, TryInsertResult,
};
use std::collections::HashMap;

fn inserted<T>(result: TryInsertResult<T>) -> bool {
    matches!(result, TryInsertResult::Inserted(_))
}

/// Notes that activity `id` was received; false when it had been (a replay).
pub async fn record_received(db: &impl ConnectionTrait, id: &str) -> DbResult<bool> {
    let result = received_activity::Entity::insert(received_activity::ActiveModel {
        id: Set(id.to_string()),
        received_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(received_activity::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

/// Forgets that activity `id` was received: its handling failed, so a retry is taken.
pub async fn forget_received(db: &impl ConnectionTrait, id: &str) -> DbResult<()> {
    received_activity::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets received ids older than `before` (replays that late fail the date check).
pub async fn purge_received(db: &impl ConnectionTrait, before: DateTime<Utc>) -> DbResult<u64> {
    Ok(received_activity::Entity::delete_many()
        .filter(received_activity::Column::ReceivedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Kinds of interaction counted per post.
pub const INTERACTION_LIKE: &str = "like";
pub const INTERACTION_BOOST: &str = "boost";
pub const INTERACTION_REACTION: &str = "reaction";
pub const INTERACTION_REPLY: &str = "reply";

pub struct NewInteraction {
    /// The activity's id (what an Undo names).
    pub id: String,
    pub post_id: PostId,
    pub kind: &'static str,
    /// The sender's server.
    pub authority: String,
    /// An emoji reaction's emoji.
    pub content: Option<String>,
}

/// Counts an interaction (once per activity id); true when new.
pub async fn add_interaction(db: &impl ConnectionTrait, new: NewInteraction) -> DbResult<bool> {
    let result = interaction::Entity::insert(interaction::ActiveModel {
        id: Set(new.id),
        post_id: Set(new.post_id.to_string()),
        kind: Set(new.kind.to_string()),
        authority: Set(new.authority),
        content: Set(new.content),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(interaction::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

/// Removes the interaction with activity id `id` sent from `authority` (an Undo); true when
/// there was one.
pub async fn remove_interaction(
    db: &impl ConnectionTrait,
    id: &str,
    authority: &str,
) -> DbResult<bool> {
    Ok(interaction::Entity::delete_many()
        .filter(interaction::Column::Id.eq(id))
        .filter(interaction::Column::Authority.eq(authority))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Removes the interactions an actor made (their ids start with the actor's id, as
/// Mastodon, Pleroma and Misskey name them) and their replies: the actor was deleted.
pub async fn remove_actor_content(db: &impl ConnectionTrait, actor: &str) -> DbResult<u64> {
    let prefix = format!("{actor}#");
    let slash = format!("{actor}/");
    let likes = interaction::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(interaction::Column::Id.starts_with(&prefix))
                .add(interaction::Column::Id.starts_with(&slash)),
        )
        .exec(db)
        .await?
        .rows_affected;
    let replies = reply::Entity::delete_many()
        .filter(reply::Column::ActorUri.eq(actor))
        .exec(db)
        .await?
        .rows_affected;
    Ok(likes + replies)
}

#[derive(FromQueryResult)]
struct KindCount {
    post_id: String,
    kind: String,
    count: i64,
}

/// How many times a post was liked, boosted, reacted to and replied to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InteractionCounts {
    pub likes: u64,
    pub boosts: u64,
    pub reactions: u64,
    pub replies: u64,
}

/// The interactions with each of `posts` (those with none are absent).
pub async fn interaction_counts(
    db: &impl ConnectionTrait,
    posts: &[PostId],
) -> DbResult<HashMap<PostId, InteractionCounts>> {
    if posts.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = interaction::Entity::find()
        .select_only()
        .column(interaction::Column::PostId)
        .column(interaction::Column::Kind)
        .column_as(interaction::Column::Id.count(), "count")
        .filter(interaction::Column::PostId.is_in(posts.iter().map(PostId::to_string)))
        .group_by(interaction::Column::PostId)
        .group_by(interaction::Column::Kind)
        .into_model::<KindCount>()
        .all(db)
        .await?;
    let mut counts: HashMap<PostId, InteractionCounts> = HashMap::new();
    for row in rows {
        let Some(post) = PostId::parse(&row.post_id) else {
            continue;
        };
        let entry = counts.entry(post).or_default();
        let count = u64::try_from(row.count).unwrap_or_default();
        match row.kind.as_str() {
            INTERACTION_LIKE => entry.likes = count,
            INTERACTION_BOOST => entry.boosts = count,
            INTERACTION_REACTION => entry.reactions = count,
            INTERACTION_REPLY => entry.replies = count,
            _ => {}
        }
    }
    Ok(counts)
}

/// Remembers that the server with `inbox` interacted with `post`: its edits and deletion
/// go there too, as Mastodon does (StatusReachFinder).
pub async fn add_reach(db: &impl ConnectionTrait, post: PostId, inbox: &str) -> DbResult<()> {
    let result = post_reach::Entity::insert(post_reach::ActiveModel {
        post_id: Set(post.to_string()),
        inbox: Set(inbox.to_string()),
    })
    .on_conflict(
        OnConflict::columns([post_reach::Column::PostId, post_reach::Column::Inbox])
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(db)
    .await?;
    let _ = inserted(result);
    Ok(())
}

pub async fn reach_inboxes(db: &impl ConnectionTrait, post: PostId) -> DbResult<Vec<String>> {
    Ok(post_reach::Entity::find()
        .select_only()
        .column(post_reach::Column::Inbox)
        .filter(post_reach::Column::PostId.eq(post.to_string()))
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// A reply to a channel post, kept for the owner to read.
#[derive(Clone, Debug)]
pub struct Reply {
    pub id: String,
    pub post_id: PostId,
    pub actor_uri: String,
    pub authority: String,
    /// Sanitized.
    pub content_html: String,
    pub published: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub struct NewReply {
    pub id: String,
    pub post_id: PostId,
    pub channel_id: ChannelId,
    pub actor_uri: String,
    pub authority: String,
    pub content_html: String,
    pub published: Option<DateTime<Utc>>,
}

/// Stores a reply (once per id; an edit replaces the content); true when new.
pub async fn upsert_reply(db: &impl ConnectionTrait, new: NewReply) -> DbResult<bool> {
    let existed = reply::Entity::find_by_id(new.id.clone())
        .one(db)
        .await?
        .is_some();
    reply::Entity::insert(reply::ActiveModel {
        id: Set(new.id),
        post_id: Set(new.post_id.to_string()),
        channel_id: Set(new.channel_id.0),
        actor_uri: Set(new.actor_uri),
        authority: Set(new.authority),
        content_html: Set(new.content_html),
        published: Set(new.published),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(reply::Column::Id)
            .update_columns([reply::Column::ContentHtml])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(!existed)
}

/// Removes a reply its author deleted; true when there was one.
pub async fn remove_reply(db: &impl ConnectionTrait, id: &str, actor: &str) -> DbResult<bool> {
    Ok(reply::Entity::delete_many()
        .filter(reply::Column::Id.eq(id))
        .filter(reply::Column::ActorUri.eq(actor))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// A channel's replies, newest first, older than `before` (a reply id's creation time).
pub async fn list_replies(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    before: Option<DateTime<Utc>>,
    limit: u64,
) -> DbResult<Vec<Reply>> {
    let mut query = reply::Entity::find().filter(reply::Column::ChannelId.eq(channel.0));
    if let Some(before) = before {
        query = query.filter(reply::Column::CreatedAt.lt(before));
    }
    query
        .order_by_desc(reply::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            Ok(Reply {
                post_id: PostId::parse(&m.post_id)
                    .ok_or_else(|| DbError::Corrupt(m.post_id.clone()))?,
                id: m.id,
                actor_uri: m.actor_uri,
                authority: m.authority,
                content_html: m.content_html,
                published: m.published,
                created_at: m.created_at,
            })
        })
        .collect()
}

/// A report (`Flag`) received.
#[derive(Clone, Debug)]
pub struct Report {
    pub id: i64,
    pub activity_uri: String,
    /// The channel reported, when it is one of ours.
    pub channel_id: Option<ChannelId>,
    /// The reporting server.
    pub authority: String,
    pub content: String,
    /// The reported objects' ids.
    pub objects: Vec<String>,
    pub created_at: DateTime<Utc>,
}

pub struct NewReport {
    pub activity_uri: String,
    pub channel_id: Option<ChannelId>,
    pub authority: String,
    pub content: String,
    pub objects: Vec<String>,
}

pub async fn add_report(db: &impl ConnectionTrait, new: NewReport) -> DbResult<()> {
    report::Entity::insert(report::ActiveModel {
        activity_uri: Set(new.activity_uri),
        channel_id: Set(new.channel_id.map(|c| c.0)),
        authority: Set(new.authority),
        content: Set(new.content),
        objects: Set(super::policy::to_json(&new.objects)),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(report::Column::ActivityUri)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Reports about `channel`, or all reports (for the operator) when `None`; newest first.
pub async fn list_reports(
    db: &impl ConnectionTrait,
    channel: Option<ChannelId>,
) -> DbResult<Vec<Report>> {
    let mut query = report::Entity::find();
    if let Some(channel) = channel {
        query = query.filter(report::Column::ChannelId.eq(channel.0));
    }
    Ok(query
        .order_by_desc(report::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Report {
            id: m.id,
            activity_uri: m.activity_uri,
            channel_id: m.channel_id.map(ChannelId),
            authority: m.authority,
            content: m.content,
            objects: super::policy::from_json(Some(&m.objects)),
            created_at: m.created_at,
        })
        .collect())
}

//! Followers of channels, and the distinct inboxes a fan-out delivers to.

use super::{
    entities::{follower, remote_actor},
    ChannelId, DbResult, RemoteActor, RemoteActorId,
};
use chrono::Utc;
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set, TransactionTrait,
};

/// Records that `actor` follows `channel` (idempotent: a repeated Follow refreshes the
/// Follow's id, which a later Undo refers to), or asks to, when `pending` (the channel
/// approves followers by hand). Returns the follow's state afterwards: (new, pending).
pub async fn add_follower(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    actor: &RemoteActor,
    follow_uri: &str,
    pending: bool,
) -> DbResult<(bool, bool)> {
    let existing = follower::Entity::find()
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::RemoteActorId.eq(actor.id.0))
        .one(db)
        .await?;
    follower::Entity::insert(follower::ActiveModel {
        channel_id: Set(channel.0),
        remote_actor_id: Set(actor.id.0),
        target_inbox: Set(actor.delivery_inbox().to_string()),
        follow_uri: Set(follow_uri.to_string()),
        created_at: Set(Utc::now()),
        pending: Set(pending),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([follower::Column::ChannelId, follower::Column::RemoteActorId])
            .update_columns([follower::Column::FollowUri, follower::Column::TargetInbox])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(match existing {
        // A repeated Follow keeps the state it had (an approved follower stays approved).
        Some(existing) => (false, existing.pending),
        None => (true, pending),
    })
}

/// Removes `actor` from `channel`'s followers. Returns true when there was a follow.
pub async fn remove_follower(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    actor: RemoteActorId,
) -> DbResult<bool> {
    let result = follower::Entity::delete_many()
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::RemoteActorId.eq(actor.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Approved followers of `channel` (pending requests are not followers yet).
pub async fn count_followers(db: &impl ConnectionTrait, channel: ChannelId) -> DbResult<u64> {
    Ok(follower::Entity::find()
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::Pending.eq(false))
        .count(db)
        .await?)
}

/// The next `limit` distinct delivery inboxes of `channel`'s followers after `after`, in
/// order: keyset pagination over the (channel_id, target_inbox) index, so a fan-out of any
/// size holds one page in memory and the database does the grouping.
pub async fn follower_inbox_page(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    after: Option<&str>,
    limit: u64,
) -> DbResult<Vec<String>> {
    Ok(follower_inbox_page_query(channel, after, limit)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

pub(super) fn follower_inbox_page_query(
    channel: ChannelId,
    after: Option<&str>,
    limit: u64,
) -> Select<follower::Entity> {
    let mut query = follower::Entity::find()
        .select_only()
        .column(follower::Column::TargetInbox)
        .distinct()
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::Pending.eq(false));
    if let Some(after) = after {
        query = query.filter(follower::Column::TargetInbox.gt(after));
    }
    query
        .order_by_asc(follower::Column::TargetInbox)
        .limit(limit)
}

/// Removes the follow that `actor` made with the Follow activity `follow_uri` (an `Undo`
/// that names the Follow by IRI only). Returns the channel it followed, when there was one.
pub async fn remove_follow_by_uri(
    db: &impl ConnectionTrait,
    actor: RemoteActorId,
    follow_uri: &str,
) -> DbResult<Option<ChannelId>> {
    let Some(found) = follower::Entity::find()
        .filter(follower::Column::RemoteActorId.eq(actor.0))
        .filter(follower::Column::FollowUri.eq(follow_uri))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let result = follower::Entity::delete_by_id(found.id).exec(db).await?;
    Ok((result.rows_affected > 0).then_some(ChannelId(found.channel_id)))
}

/// Removes the followers of `channel` whose personal inbox is `inbox`: the answer to a
/// 410 Gone from that inbox, which means the actor is gone. Returns how many were removed.
pub async fn remove_followers_with_inbox(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    inbox: &str,
) -> DbResult<u64> {
    let actors: Vec<i64> = remote_actor::Entity::find()
        .select_only()
        .column(remote_actor::Column::Id)
        .filter(remote_actor::Column::Inbox.eq(inbox))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    if actors.is_empty() {
        return Ok(0);
    }
    let result = follower::Entity::delete_many()
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::RemoteActorId.is_in(actors))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Adds many followers at once (benchmarks and imports): the remote actors, then their
/// follows, each in batched inserts that skip rows already present. Returns how many
/// follows exist for these actors afterwards.
pub async fn add_followers_in_bulk(
    db: &DatabaseConnection,
    channel: ChannelId,
    actors: &[super::NewRemoteActor],
) -> DbResult<u64> {
    /// Rows per INSERT: well under SQLite's 32,766 bound parameters (7 columns each).
    const BATCH: usize = 500;
    let now = Utc::now();
    let mut total = 0;
    for chunk in actors.chunks(BATCH) {
        let txn = db.begin().await?;
        remote_actor::Entity::insert_many(chunk.iter().map(|a| remote_actor::ActiveModel {
            uri: Set(a.uri.to_string()),
            inbox: Set(a.inbox.to_string()),
            shared_inbox: Set(a.shared_inbox.as_ref().map(|u| u.to_string())),
            public_key_pem: Set(a.public_key_pem.clone()),
            authority: Set(super::authority_of(&a.uri)),
            fetched_at: Set(now),
            key_id: Set(a.key_id.clone()),
            also_known_as: Set(None),
            ..Default::default()
        }))
        .on_conflict(
            OnConflict::column(remote_actor::Column::Uri)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(&txn)
        .await?;
        let rows: Vec<(i64, String, Option<String>)> = remote_actor::Entity::find()
            .select_only()
            .column(remote_actor::Column::Id)
            .column(remote_actor::Column::Inbox)
            .column(remote_actor::Column::SharedInbox)
            .filter(remote_actor::Column::Uri.is_in(chunk.iter().map(|a| a.uri.to_string())))
            .into_tuple()
            .all(&txn)
            .await?;
        follower::Entity::insert_many(rows.into_iter().map(|(id, inbox, shared)| {
            follower::ActiveModel {
                channel_id: Set(channel.0),
                remote_actor_id: Set(id),
                target_inbox: Set(shared.unwrap_or(inbox)),
                follow_uri: Set(String::new()),
                created_at: Set(now),
                pending: Set(false),
                ..Default::default()
            }
        }))
        .on_conflict(
            OnConflict::columns([follower::Column::ChannelId, follower::Column::RemoteActorId])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        total += chunk.len() as u64;
    }
    Ok(total)
}

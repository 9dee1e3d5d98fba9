//! Idempotency keys of the owner API: a retried POST gets the first answer back.

use super::{entities::idempotency_key, ChannelId, DbResult};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};

/// How long a key is remembered (Mastodon keeps its keys for an hour; the issue asks 24 h).
pub const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);

/// The first answer given to a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    /// SHA-256 of the request body it answered.
    pub request_hash: String,
    pub status: u16,
    pub response: String,
    pub created_at: DateTime<Utc>,
}

/// Claims `key` for a request whose body hashes to `request_hash`: `None` when this
/// request is the first (answer it, then [`finish_key`]), or the stored answer (status 0
/// while the first request is still being answered). Keys older than the window are
/// forgotten first.
pub async fn claim_key(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    key: &str,
    request_hash: &str,
) -> DbResult<Option<StoredAnswer>> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ChannelId.eq(channel.0))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::CreatedAt.lte(Utc::now() - IDEMPOTENCY_WINDOW))
        .exec(db)
        .await?;
    let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        channel_id: Set(channel.0),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        status: Set(0),
        response: Set(String::new()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_key::Column::ChannelId,
            idempotency_key::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(db)
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        return Ok(None);
    }
    let found = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::ChannelId.eq(channel.0))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?;
    Ok(found.map(|m| StoredAnswer {
        request_hash: m.request_hash,
        status: u16::try_from(m.status).unwrap_or(0),
        response: m.response,
        created_at: m.created_at,
    }))
}

/// Stores the answer to a claimed key.
pub async fn finish_key(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    key: &str,
    status: u16,
    response: String,
) -> DbResult<()> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            Expr::value(i32::from(status)),
        )
        .col_expr(idempotency_key::Column::Response, Expr::value(response))
        .filter(idempotency_key::Column::ChannelId.eq(channel.0))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a claimed key whose request failed, so a retry runs again.
pub async fn release_key(db: &impl ConnectionTrait, channel: ChannelId, key: &str) -> DbResult<()> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ChannelId.eq(channel.0))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

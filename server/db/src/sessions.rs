//! Console sessions, server-side: a session is found by the hash of its cookie (the
//! cookie itself is never stored), lasts until its expiry, and carries the secret its
//! forms' CSRF tokens are checked against.

use super::{entities::session, DbResult, UserId};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

#[derive(Clone)]
pub struct Session {
    pub user_id: UserId,
    /// The secret a form's CSRF token must match.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_session(
    db: &impl ConnectionTrait,
    id_hash: String,
    user: UserId,
    csrf: String,
    expires_at: DateTime<Utc>,
) -> DbResult<()> {
    session::ActiveModel {
        id_hash: Set(id_hash),
        user_id: Set(user.0),
        csrf: Set(csrf),
        created_at: Set(super::now()),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The live session with this hash; an expired one is deleted and not returned.
pub async fn session_by_hash(
    db: &impl ConnectionTrait,
    id_hash: &str,
) -> DbResult<Option<Session>> {
    let Some(model) = session::Entity::find_by_id(id_hash.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if model.expires_at <= super::now() {
        session::Entity::delete_by_id(id_hash.to_string())
            .exec(db)
            .await?;
        return Ok(None);
    }
    Ok(Some(Session {
        user_id: UserId(model.user_id),
        csrf: model.csrf,
        expires_at: model.expires_at,
    }))
}

pub async fn delete_session(db: &impl ConnectionTrait, id_hash: &str) -> DbResult<()> {
    session::Entity::delete_by_id(id_hash.to_string())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of `user`; returns how many there were.
pub async fn delete_sessions_of(db: &impl ConnectionTrait, user: UserId) -> DbResult<u64> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.0))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes sessions that have expired (the scheduler's sweep); returns how many.
pub async fn delete_expired_sessions(db: &impl ConnectionTrait) -> DbResult<u64> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(super::now()))
        .exec(db)
        .await?
        .rows_affected)
}

//! API tokens: the server-side record of each issued token, so one can be revoked.

use super::{entities::token, ChannelId, DbError, DbResult, UserId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

/// A token's record. The token itself (a signed JWT) is never stored; its `jti` is `id`.
#[derive(Clone, Debug)]
pub struct TokenRecord {
    pub id: Uuid,
    pub channel_id: ChannelId,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The person it belongs to (it then carries their role); `None`: a channel token,
    /// for bots and scripts.
    pub user_id: Option<UserId>,
    /// What it is for, as its issuer named it.
    pub label: Option<String>,
}

pub struct NewToken {
    pub id: Uuid,
    pub channel_id: ChannelId,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub user_id: Option<UserId>,
    pub label: Option<String>,
}

impl TryFrom<token::Model> for TokenRecord {
    type Error = DbError;

    fn try_from(m: token::Model) -> DbResult<TokenRecord> {
        Ok(TokenRecord {
            id: Uuid::parse_str(&m.id).map_err(|e| DbError::Corrupt(e.to_string()))?,
            channel_id: ChannelId(m.channel_id),
            scopes: m.scopes.split_whitespace().map(str::to_string).collect(),
            created_at: m.created_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
            user_id: m.user_id.map(UserId),
            label: m.label,
        })
    }
}

pub async fn insert_token(db: &impl ConnectionTrait, new: NewToken) -> DbResult<TokenRecord> {
    token::ActiveModel {
        id: Set(new.id.to_string()),
        channel_id: Set(new.channel_id.0),
        scopes: Set(new.scopes.join(" ")),
        created_at: Set(Utc::now()),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        user_id: Set(new.user_id.map(|u| u.0)),
        label: Set(new.label),
    }
    .insert(db)
    .await?
    .try_into()
}

pub async fn token_by_id(db: &impl ConnectionTrait, id: Uuid) -> DbResult<TokenRecord> {
    token::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

pub async fn list_tokens(
    db: &impl ConnectionTrait,
    channel: ChannelId,
) -> DbResult<Vec<TokenRecord>> {
    token::Entity::find()
        .filter(token::Column::ChannelId.eq(channel.0))
        .order_by_asc(token::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(TokenRecord::try_from)
        .collect()
}

/// Marks a token revoked (idempotent: revoking twice keeps the first time).
pub async fn revoke_token(db: &impl ConnectionTrait, id: Uuid) -> DbResult<TokenRecord> {
    let model = token::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?;
    if model.revoked_at.is_some() {
        return model.try_into();
    }
    let mut active = model.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    active.update(db).await?.try_into()
}

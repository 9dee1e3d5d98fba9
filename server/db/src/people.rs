//! The people who run channels: users, their role in each channel, and the one-time
//! sign-in links that let a new person set a password. Passwords are hashed by the
//! service layer; only the hash reaches this module.

use super::{
    entities::{membership, session, sign_in_link, token, user},
    Channel, ChannelId, DbError, DbResult,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use std::fmt;

/// A user's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a person may do in a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Reads the delivery status, replies and reports.
    Viewer,
    /// A viewer who also posts, edits, deletes, pins and schedules.
    Editor,
    /// An editor who also manages people, the profile, followers and tokens.
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// Whether this role includes everything `needed` may do (roles are ordered:
    /// viewer < editor < owner).
    pub fn includes(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone)]
pub struct User {
    pub id: UserId,
    /// Lower-cased; the sign-in name.
    pub email: String,
    /// The name shown to the team and, when a channel signs its posts, under them.
    pub display_name: String,
    /// The argon2id hash (PHC string); `None` until the person sets a password.
    pub password_hash: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("has_password", &self.password_hash.is_some())
            .field("disabled_at", &self.disabled_at)
            .finish()
    }
}

impl User {
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> User {
        User {
            id: UserId(m.id),
            email: m.email,
            display_name: m.display_name,
            password_hash: m.password_hash,
            disabled_at: m.disabled_at,
            created_at: m.created_at,
        }
    }
}

/// Creates a user; a taken email is [`DbError::Conflict`].
pub async fn create_user(
    db: &impl ConnectionTrait,
    email: &str,
    display_name: &str,
    password_hash: Option<String>,
) -> DbResult<User> {
    Ok(user::ActiveModel {
        email: Set(email.to_lowercase()),
        display_name: Set(display_name.to_string()),
        password_hash: Set(password_hash),
        disabled_at: Set(None),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?
    .into())
}

pub async fn user_by_id(db: &impl ConnectionTrait, id: UserId) -> DbResult<User> {
    Ok(user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
}

pub async fn user_by_email(db: &impl ConnectionTrait, email: &str) -> DbResult<User> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
}

pub async fn list_users(db: &impl ConnectionTrait) -> DbResult<Vec<User>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(User::from)
        .collect())
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: UserId,
    hash: String,
) -> DbResult<()> {
    let mut active = user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into_active_model();
    active.password_hash = Set(Some(hash));
    active.update(db).await?;
    Ok(())
}

/// Disables (or, with `false`, enables again) a user. Disabling ends their sessions at
/// once; their tokens are refused while they are disabled.
pub async fn set_disabled<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: UserId,
    disabled: bool,
) -> DbResult<User> {
    let txn = db.begin().await?;
    let model = user::Entity::find_by_id(id.0)
        .one(&txn)
        .await?
        .ok_or(DbError::NotFound)?;
    let keep = model.disabled_at;
    let mut active = model.into_active_model();
    active.disabled_at = Set(if disabled {
        keep.or(Some(super::now()))
    } else {
        None
    });
    let updated = active.update(&txn).await?;
    if disabled {
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(id.0))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(updated.into())
}

/// Deletes a user with their roles, sessions and links; their tokens are revoked (kept,
/// so the audit log and token list still make sense).
pub async fn delete_user<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: UserId,
) -> DbResult<()> {
    let txn = db.begin().await?;
    let deleted = user::Entity::delete_by_id(id.0).exec(&txn).await?;
    if deleted.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    membership::Entity::delete_many()
        .filter(membership::Column::UserId.eq(id.0))
        .exec(&txn)
        .await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(id.0))
        .exec(&txn)
        .await?;
    sign_in_link::Entity::delete_many()
        .filter(sign_in_link::Column::UserId.eq(id.0))
        .exec(&txn)
        .await?;
    token::Entity::update_many()
        .col_expr(token::Column::RevokedAt, Expr::value(super::now()))
        .filter(token::Column::UserId.eq(id.0))
        .filter(token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Gives `user` `role` in `channel` (replacing a role they had).
pub async fn grant_role(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    user: UserId,
    role: Role,
) -> DbResult<()> {
    let existing = membership::Entity::find_by_id((channel.0, user.0))
        .one(db)
        .await?;
    match existing {
        Some(model) => {
            let mut active = model.into_active_model();
            active.role = Set(role.as_str().to_string());
            active.update(db).await?;
        }
        None => {
            membership::ActiveModel {
                channel_id: Set(channel.0),
                user_id: Set(user.0),
                role: Set(role.as_str().to_string()),
                created_at: Set(super::now()),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Takes `user`'s role in `channel` away; `NotFound` when they had none.
pub async fn revoke_role(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    user: UserId,
) -> DbResult<()> {
    let deleted = membership::Entity::delete_by_id((channel.0, user.0))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// `user`'s role in `channel`, if any.
pub async fn role_of(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    user: UserId,
) -> DbResult<Option<Role>> {
    Ok(membership::Entity::find_by_id((channel.0, user.0))
        .one(db)
        .await?
        .and_then(|m| Role::parse(&m.role)))
}

/// How many owners `channel` has.
pub async fn owner_count(db: &impl ConnectionTrait, channel: ChannelId) -> DbResult<u64> {
    Ok(membership::Entity::find()
        .filter(membership::Column::ChannelId.eq(channel.0))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(db)
        .await?)
}

/// The people of `channel` with their roles, in the order they joined.
pub async fn members(db: &impl ConnectionTrait, channel: ChannelId) -> DbResult<Vec<(User, Role)>> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::ChannelId.eq(channel.0))
        .order_by_asc(membership::Column::CreatedAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(memberships.len());
    for m in memberships {
        let Some(role) = Role::parse(&m.role) else {
            continue;
        };
        if let Some(user) = user::Entity::find_by_id(m.user_id).one(db).await? {
            out.push((user.into(), role));
        }
    }
    Ok(out)
}

/// The channels `user` has a role in, by name.
pub async fn channels_of(
    db: &impl ConnectionTrait,
    user: UserId,
) -> DbResult<Vec<(Channel, Role)>> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.0))
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(memberships.len());
    for m in memberships {
        let Some(role) = Role::parse(&m.role) else {
            continue;
        };
        match super::channel_by_id(db, ChannelId(m.channel_id)).await {
            Ok(channel) => out.push((channel, role)),
            Err(DbError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.0.name.as_str().cmp(b.0.name.as_str()));
    Ok(out)
}

/// Stores a one-time sign-in link for `user` by the hash of its secret.
pub async fn insert_sign_in_link(
    db: &impl ConnectionTrait,
    token_hash: String,
    user: UserId,
    expires_at: DateTime<Utc>,
) -> DbResult<()> {
    sign_in_link::ActiveModel {
        token_hash: Set(token_hash),
        user_id: Set(user.0),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The user a sign-in link is for, if it is unused and unexpired. With `consume`, the
/// link is used up (once, even against a concurrent use).
pub async fn sign_in_link_user(
    db: &impl ConnectionTrait,
    token_hash: &str,
    consume: bool,
) -> DbResult<User> {
    let now = super::now();
    let link = sign_in_link::Entity::find_by_id(token_hash.to_string())
        .one(db)
        .await?
        .filter(|l| l.used_at.is_none() && l.expires_at > now)
        .ok_or(DbError::NotFound)?;
    if consume {
        let used = sign_in_link::Entity::update_many()
            .col_expr(sign_in_link::Column::UsedAt, Expr::value(now))
            .filter(sign_in_link::Column::TokenHash.eq(token_hash))
            .filter(sign_in_link::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        if used.rows_affected == 0 {
            return Err(DbError::NotFound);
        }
    }
    user_by_id(db, UserId(link.user_id)).await
}

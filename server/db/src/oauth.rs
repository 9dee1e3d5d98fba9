//! OAuth 2 for Mastodon apps: registered client apps and one-time authorization codes.
//! Secrets and codes arrive here hashed; the clear values are shown once and never stored.

use super::{
    entities::{oauth_app, oauth_code},
    ChannelId, DbError, DbResult, UserId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};

/// A registered client app (`POST /api/v1/apps`).
#[derive(Clone, Debug)]
pub struct OauthApp {
    pub id: i64,
    pub client_id: String,
    /// SHA-256 of the client secret, hex.
    pub secret_hash: String,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

pub struct NewOauthApp {
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
}

impl From<oauth_app::Model> for OauthApp {
    fn from(m: oauth_app::Model) -> Self {
        OauthApp {
            id: m.id,
            client_id: m.client_id,
            secret_hash: m.client_secret,
            name: m.name,
            website: m.website,
            redirect_uris: m.redirect_uris.lines().map(str::to_string).collect(),
            scopes: m.scopes.split_whitespace().map(str::to_string).collect(),
            created_at: m.created_at,
        }
    }
}

pub async fn insert_oauth_app(db: &impl ConnectionTrait, new: NewOauthApp) -> DbResult<OauthApp> {
    Ok(oauth_app::ActiveModel {
        client_id: Set(new.client_id),
        client_secret: Set(new.secret_hash),
        name: Set(new.name),
        website: Set(new.website),
        redirect_uris: Set(new.redirect_uris.join("\n")),
        scopes: Set(new.scopes.join(" ")),
        app_token_hash: Set(None),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?
    .into())
}

pub async fn oauth_app_by_client_id(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> DbResult<OauthApp> {
    Ok(oauth_app::Entity::find()
        .filter(oauth_app::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
}

/// Sets (or with `None` clears) the hash of an app's own token, from the client
/// credentials grant; one at a time, as a new grant replaces the last.
pub async fn set_app_token(
    db: &impl ConnectionTrait,
    app: i64,
    token_hash: Option<String>,
) -> DbResult<()> {
    oauth_app::Entity::update_many()
        .col_expr(oauth_app::Column::AppTokenHash, Expr::value(token_hash))
        .filter(oauth_app::Column::Id.eq(app))
        .exec(db)
        .await?;
    Ok(())
}

/// The app whose own token hashes to `token_hash`.
pub async fn oauth_app_by_token(db: &impl ConnectionTrait, token_hash: &str) -> DbResult<OauthApp> {
    Ok(oauth_app::Entity::find()
        .filter(oauth_app::Column::AppTokenHash.eq(token_hash))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
}

/// An authorization code: an owner's consent for one app to act as one channel.
#[derive(Clone, Debug)]
pub struct OauthCode {
    pub app_id: i64,
    pub channel_id: ChannelId,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    /// PKCE S256 challenge, when the app sent one.
    pub code_challenge: Option<String>,
    /// When the owner's pasted token expires: the app's token expires with it.
    pub token_expires_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The person whose token consented: the app's token acts as them.
    pub user_id: Option<UserId>,
}

pub struct NewOauthCode {
    /// SHA-256 of the code, hex.
    pub code_hash: String,
    pub app_id: i64,
    pub channel_id: ChannelId,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The person whose token consented: the app's token acts as them.
    pub user_id: Option<UserId>,
}

pub async fn insert_oauth_code(db: &impl ConnectionTrait, new: NewOauthCode) -> DbResult<()> {
    oauth_code::ActiveModel {
        code_hash: Set(new.code_hash),
        app_id: Set(new.app_id),
        channel_id: Set(new.channel_id.0),
        scopes: Set(new.scopes.join(" ")),
        redirect_uri: Set(new.redirect_uri),
        code_challenge: Set(new.code_challenge),
        token_expires_at: Set(new.token_expires_at),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        user_id: Set(new.user_id.map(|u| u.0)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes the code with hash `code_hash`, given to app `app`, for use: marks it used and
/// returns it, once. A code already used, unknown, or another app's is `NotFound` (and
/// another app cannot use it up): of two requests racing one code, one wins.
pub async fn take_oauth_code(
    db: &impl ConnectionTrait,
    code_hash: &str,
    app: i64,
) -> DbResult<OauthCode> {
    let taken = oauth_code::Entity::update_many()
        .col_expr(oauth_code::Column::UsedAt, Expr::value(super::now()))
        .filter(oauth_code::Column::CodeHash.eq(code_hash))
        .filter(oauth_code::Column::AppId.eq(app))
        .filter(oauth_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if taken.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    let m = oauth_code::Entity::find_by_id(code_hash.to_string())
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?;
    Ok(OauthCode {
        app_id: m.app_id,
        channel_id: ChannelId(m.channel_id),
        scopes: m.scopes.split_whitespace().map(str::to_string).collect(),
        redirect_uri: m.redirect_uri,
        code_challenge: m.code_challenge,
        token_expires_at: m.token_expires_at,
        expires_at: m.expires_at,
        user_id: m.user_id.map(UserId),
    })
}

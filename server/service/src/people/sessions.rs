//! Signing in to the console: a password checked against its argon2id hash, attempts
//! counted per account and per client address (in Redis, so every web process shares the
//! count), a failed attempt answered after a delay with one message whatever was wrong,
//! and a server-side session whose cookie is a random secret stored only as its hash.

use super::{password, PeopleError};
use crate::{
    db::{self, DbError, Session, User, UserId},
    delivery::limits,
    secrets::{random_secret, sha256_hex},
    state::HeraldState,
};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How long a failed sign-in waits before it is answered.
const FAILURE_DELAY: Duration = Duration::from_millis(600);

/// A new session: the cookie value to hand the browser, and whose it is.
pub struct SignedIn {
    pub cookie: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email or wrong password: one message for both.
    #[error("that email and password do not match an account")]
    Refused,
    #[error("this account is disabled; ask the channel's owner or the operator")]
    Disabled,
    #[error("too many sign-in attempts; try again in {0} s")]
    RateLimited(u64),
    #[error("this sign-in link is unknown, used or expired; ask for a new one")]
    LinkInvalid,
    #[error(transparent)]
    Failed(#[from] PeopleError),
}

impl From<DbError> for SignInError {
    fn from(err: DbError) -> Self {
        SignInError::Failed(err.into())
    }
}

/// Signs `email` in with `password`. `client` is the request's address, counted (as a
/// hash) against the per-client limit and never stored.
pub async fn sign_in(
    data: &HeraldState,
    email: &str,
    password: &str,
    client: Option<&str>,
) -> Result<SignedIn, SignInError> {
    let per_minute = data.config.limits.sign_in_per_minute;
    let email = email.trim().to_lowercase();
    let account_key = sha256_hex(&email);
    limits::check(
        &data.queue,
        limits::Scope::SignInAccount,
        &account_key,
        per_minute,
    )
    .await
    .map_err(SignInError::RateLimited)?;
    if let Some(client) = client {
        limits::check(
            &data.queue,
            limits::Scope::SignInClient,
            &sha256_hex(client),
            per_minute.map(|n| n.saturating_mul(3)),
        )
        .await
        .map_err(SignInError::RateLimited)?;
    }
    let user = match db::user_by_email(&data.db, &email).await {
        Ok(user) => Some(user),
        Err(DbError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::decoy_hash().to_string());
    let password = password.to_string();
    let matches = tokio::task::spawn_blocking(move || password::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(user) if matches && user.password_hash.is_some() => user,
        _ => {
            tokio::time::sleep(FAILURE_DELAY).await;
            return Err(SignInError::Refused);
        }
    };
    if !user.is_active() {
        return Err(SignInError::Disabled);
    }
    start_session(data, user).await
}

/// Uses up a one-time sign-in link: sets the person's new password and signs them in.
pub async fn use_sign_in_link(
    data: &HeraldState,
    link_secret: &str,
    new_password: &str,
) -> Result<SignedIn, SignInError> {
    let hash = password::hash_password(new_password)?;
    let user = match db::sign_in_link_user(&data.db, &sha256_hex(link_secret), true).await {
        Ok(user) => user,
        Err(DbError::NotFound) => return Err(SignInError::LinkInvalid),
        Err(e) => return Err(e.into()),
    };
    if !user.is_active() {
        return Err(SignInError::Disabled);
    }
    db::set_password_hash(&data.db, user.id, hash).await?;
    // A new password (a forgotten or a stolen one) ends the sessions the old one began.
    db::delete_sessions_of(&data.db, user.id).await?;
    start_session(data, user).await
}

async fn start_session(data: &HeraldState, user: User) -> Result<SignedIn, SignInError> {
    let cookie = random_secret().ok_or(PeopleError::Random)?;
    let csrf = random_secret().ok_or(PeopleError::Random)?;
    let ttl = chrono::Duration::from_std(data.config.console.session_ttl)
        .unwrap_or(chrono::Duration::hours(12));
    let expires_at = Utc::now() + ttl;
    db::insert_session(&data.db, sha256_hex(&cookie), user.id, csrf, expires_at).await?;
    Ok(SignedIn {
        cookie,
        user,
        expires_at,
    })
}

/// The signed-in person behind a session cookie, with their session: `None` for an
/// unknown, expired or signed-out session, or a person since disabled.
pub async fn session_user(
    data: &HeraldState,
    cookie: &str,
) -> Result<Option<(User, Session)>, DbError> {
    let Some(session) = db::session_by_hash(&data.db, &sha256_hex(cookie)).await? else {
        return Ok(None);
    };
    match db::user_by_id(&data.db, session.user_id).await {
        Ok(user) if user.is_active() => Ok(Some((user, session))),
        Ok(_) | Err(DbError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Ends the session behind `cookie`.
pub async fn sign_out(data: &HeraldState, cookie: &str) -> Result<(), DbError> {
    db::delete_session(&data.db, &sha256_hex(cookie)).await
}

/// Ends every session of `user`; returns how many ended.
pub async fn sign_out_everywhere(data: &HeraldState, user: UserId) -> Result<u64, DbError> {
    db::delete_sessions_of(&data.db, user).await
}

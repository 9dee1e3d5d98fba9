//! The people who run a channel: creating users (with a password or a one-time sign-in
//! link), roles, passwords (argon2id), console sessions, and the audit log's writes for
//! these actions. The console, the CLI and the API's person tokens all come here.
//!
//! Called by entry points (`console`, `cli`, `api`); calls `db` and `delivery` (the
//! Redis that counts sign-in attempts).

mod password;
mod sessions;

pub use password::{hash_password, verify_password, MIN_PASSWORD_CHARS};
pub use sessions::{
    session_user, sign_in, sign_out, sign_out_everywhere, use_sign_in_link, SignInError, SignedIn,
};

use crate::{
    config::Config,
    db::{self, Actor, AuditAction, Channel, ConnectionTrait, DbError, Role, User, UserId},
};
use chrono::Utc;

/// The longest display name.
pub const MAX_NAME_CHARS: usize = 100;

/// What can go wrong with a person or a role.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such user")]
    NotFound,
    #[error("a user with this email already exists")]
    Taken,
    #[error(
        "the channel's last owner cannot be removed or demoted; make someone else owner first"
    )]
    LastOwner,
    #[error(transparent)]
    Db(DbError),
    #[error("the system's random generator failed")]
    Random,
    #[error("could not hash the password: {0}")]
    Hash(String),
}

impl From<DbError> for PeopleError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => PeopleError::NotFound,
            DbError::Conflict(_) => PeopleError::Taken,
            other => PeopleError::Db(other),
        }
    }
}

/// A plausible email address: one `@`, something on each side, no spaces, a dot in the
/// domain (it is a sign-in name; Herald sends no mail).
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Creates a user with `password` (hashed here), or without one: they then set it from
/// a sign-in link ([`sign_in_link`]).
pub async fn create_user(
    db: &impl ConnectionTrait,
    email: &str,
    display_name: &str,
    password: Option<&str>,
) -> Result<User, PeopleError> {
    let email = email.trim().to_lowercase();
    if !valid_email(&email) {
        return Err(PeopleError::Invalid(format!(
            "`{email}` is not an email address such as jane@example.com"
        )));
    }
    let name = display_name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(PeopleError::Invalid(format!(
            "a display name has 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let hash = match password {
        Some(password) => Some(hash_password(password)?),
        None => None,
    };
    Ok(db::create_user(db, &email, name, hash).await?)
}

/// A one-time link at which `user` sets a (new) password and is signed in; valid for
/// `console.link_hours`. Only its hash is stored.
pub async fn sign_in_link(
    db: &impl ConnectionTrait,
    config: &Config,
    user: &User,
) -> Result<String, PeopleError> {
    let secret = crate::secrets::random_secret().ok_or(PeopleError::Random)?;
    let ttl =
        chrono::Duration::from_std(config.console.link_ttl).unwrap_or(chrono::Duration::hours(72));
    db::insert_sign_in_link(
        db,
        crate::secrets::sha256_hex(&secret),
        user.id,
        Utc::now() + ttl,
    )
    .await?;
    Ok(format!("{}/console/welcome/{secret}", config.base_url()))
}

/// Gives `user` `role` in `channel`, as `actor`, and logs it. Demoting the last owner is
/// refused.
pub async fn grant(
    db: &impl ConnectionTrait,
    actor: &Actor,
    channel: &Channel,
    user: &User,
    role: Role,
) -> Result<(), PeopleError> {
    let before = db::role_of(db, channel.id, user.id).await?;
    if before == Some(Role::Owner)
        && role != Role::Owner
        && db::owner_count(db, channel.id).await? <= 1
    {
        return Err(PeopleError::LastOwner);
    }
    db::grant_role(db, channel.id, user.id, role).await?;
    audit(
        db,
        channel,
        actor,
        AuditAction::Granted,
        &format!("{} as {role}", user.email),
    )
    .await;
    Ok(())
}

/// Takes `user`'s role in `channel` away, as `actor`, and logs it. Removing the last
/// owner is refused.
pub async fn revoke(
    db: &impl ConnectionTrait,
    actor: &Actor,
    channel: &Channel,
    user: &User,
) -> Result<(), PeopleError> {
    if db::role_of(db, channel.id, user.id).await? == Some(Role::Owner)
        && db::owner_count(db, channel.id).await? <= 1
    {
        return Err(PeopleError::LastOwner);
    }
    db::revoke_role(db, channel.id, user.id).await?;
    audit(db, channel, actor, AuditAction::Revoked, &user.email).await;
    Ok(())
}

/// Sets a person's password (at least [`MIN_PASSWORD_CHARS`] characters).
pub async fn set_password(
    db: &impl ConnectionTrait,
    user: UserId,
    password: &str,
) -> Result<(), PeopleError> {
    let hash = hash_password(password)?;
    Ok(db::set_password_hash(db, user, hash).await?)
}

/// Writes an audit entry. The action it records has happened already, so a failure to
/// log it is logged, not returned.
pub async fn audit(
    db: &impl ConnectionTrait,
    channel: &Channel,
    actor: &Actor,
    action: AuditAction,
    target: &str,
) {
    if let Err(err) = db::record_audit(db, channel.id, actor, action, target).await {
        tracing::error!(
            error = %crate::error_chain(&err),
            action = action.as_str(),
            "could not write the audit log"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["jane@example.com", "a.b+c@sub.example.org"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "ja ne@example.com",
            "a@b@c.d",
            "jane@.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}

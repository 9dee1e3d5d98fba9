//! API tokens: HS256 JWTs that name their channel and scopes. Each token's `jti` is stored,
//! so a token can be revoked and listed; the token itself is never stored.

use super::ApiError;
use crate::{
    config::Config,
    db::{self, Actor, Channel, ChannelId, DbError, NewToken, Role, TokenRecord, User},
};
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::{io, path::Path};
use uuid::Uuid;

/// What a token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read posts and their delivery status.
    PostsRead,
    /// Create, edit and delete posts.
    PostsWrite,
    /// Change the channel's profile.
    ProfileWrite,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::PostsRead, Scope::PostsWrite, Scope::ProfileWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PostsRead => "posts:read",
            Scope::PostsWrite => "posts:write",
            Scope::ProfileWrite => "profile:write",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The least role a person's token needs for this scope: viewers read, editors post,
    /// owners change the profile, followers and blocks.
    pub fn needed_role(self) -> Role {
        match self {
            Scope::PostsRead => Role::Viewer,
            Scope::PostsWrite => Role::Editor,
            Scope::ProfileWrite => Role::Owner,
        }
    }
}

/// A verified token and what it may do: its channel, its record, who it acts as (a person,
/// or the token itself for a channel token) and, for a person's token, their role in the
/// channel now (a role changed or taken away changes the token at once).
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub channel: Channel,
    pub record: TokenRecord,
    pub actor: Actor,
    pub role: Option<Role>,
}

impl TokenGrant {
    /// Refuses (403) a person's token whose role does not include `needed` (a channel
    /// token has no role to check): for what no scope says, such as the follower list.
    pub fn has_role(&self, needed: Role) -> Result<(), ApiError> {
        match self.role {
            Some(role) if !role.includes(needed) => Err(ApiError::RoleForbids(format!(
                "this needs the {needed} role in this channel; this token's person is {role}"
            ))),
            _ => Ok(()),
        }
    }

    /// Refuses (403) a token without `scope`, or whose person's role does not include it.
    pub fn allows(&self, scope: Scope) -> Result<(), ApiError> {
        if !self.record.scopes.iter().any(|s| s == scope.as_str()) {
            return Err(ApiError::ScopeMissing(scope.as_str()));
        }
        if let Some(role) = self.role {
            let needed = scope.needed_role();
            if !role.includes(needed) {
                return Err(ApiError::RoleForbids(format!(
                    "`{}` needs the {needed} role in this channel; this token's person is {role}",
                    scope.as_str()
                )));
            }
        }
        Ok(())
    }
}

/// The claims of a Herald token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The channel's name.
    sub: String,
    /// The channel's id: a channel deleted and re-created under the same name does not
    /// inherit the old channel's tokens.
    cid: i64,
    /// Space-separated scopes.
    scope: String,
    /// The token's id, as stored.
    jti: String,
    iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// The signing and verifying keys of API tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The per-token rate limit and the Redis that counts it (none for the CLI).
    limit: Option<(crate::delivery::Queue, u32)>,
}

/// Bytes of randomness in a generated secret.
const GENERATED_SECRET_BYTES: usize = 32;

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            limit: None,
        }
    }

    /// The keys from `jwt_secret`, or from the secret kept in `data_dir` (generated, with
    /// owner-only permissions, the first time).
    pub fn load(config: &Config) -> io::Result<TokenKeys> {
        if let Some(secret) = &config.jwt_secret {
            return Ok(TokenKeys::from_secret(secret.expose().as_bytes()));
        }
        let secret = load_or_generate_secret(&config.jwt_secret_file())?;
        Ok(TokenKeys::from_secret(secret.as_bytes()))
    }

    /// Limits each token to `per_minute` requests (`None`: no limit), counted in `queue`'s
    /// Redis so that every web process shares the count.
    pub fn with_limit(
        mut self,
        queue: crate::delivery::Queue,
        per_minute: Option<u32>,
    ) -> TokenKeys {
        self.limit = per_minute.map(|n| (queue, n));
        self
    }

    /// Issues a token for `channel` and stores its record: a channel token, or with
    /// `person`, one that acts as them and carries their role.
    pub async fn issue(
        &self,
        db: &impl db::ConnectionTrait,
        channel: &Channel,
        scopes: &[Scope],
        expires_at: Option<DateTime<Utc>>,
        person: Option<&User>,
        label: Option<String>,
    ) -> Result<(String, TokenRecord), IssueError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        let claims = Claims {
            sub: channel.name.to_string(),
            cid: channel.id.0,
            scope: scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            jti: id.to_string(),
            iat: now.timestamp(),
            exp: expires_at.map(|t| t.timestamp()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        let record = db::insert_token(
            db,
            NewToken {
                id,
                channel_id: channel.id,
                scopes: scopes.iter().map(|s| s.as_str().to_string()).collect(),
                expires_at,
                user_id: person.map(|p| p.id),
                label,
            },
        )
        .await?;
        Ok((token, record))
    }

    /// Checks the request's bearer token for `channel_name` and `scope`. Order: token
    /// (401), channel (404), token's channel (403), scope and role (403).
    pub async fn authorize(
        &self,
        request: &HttpRequest,
        db: &impl db::ConnectionTrait,
        channel_name: &str,
        scope: Scope,
    ) -> Result<TokenGrant, ApiError> {
        let token = crate::http::bearer_token(request).ok_or(ApiError::TokenMissing)?;
        let (claims, record) = self.verify(db, token).await?;
        let channel = match db::channel_by_name(db, channel_name).await {
            Ok(channel) => channel,
            Err(DbError::NotFound) => return Err(ApiError::ChannelNotFound),
            Err(e) => return Err(e.into()),
        };
        if record.channel_id != channel.id || ChannelId(claims.cid) != channel.id {
            return Err(ApiError::TokenWrongChannel);
        }
        let grant = grant(db, channel, record).await?;
        grant.allows(scope)?;
        Ok(grant)
    }

    /// Checks `token` (signature, expiry, revocation, rate limit, its person) and returns
    /// what it may do: for requests that name no channel, as Mastodon apps' do (the token
    /// is the account).
    pub async fn channel_of(
        &self,
        db: &impl db::ConnectionTrait,
        token: &str,
    ) -> Result<TokenGrant, ApiError> {
        let (claims, record) = self.verify(db, token).await?;
        let channel = match db::channel_by_id(db, record.channel_id).await {
            Ok(channel) => channel,
            // The channel was deleted: its tokens are of no use.
            Err(DbError::NotFound) => return Err(ApiError::TokenRevoked),
            Err(e) => return Err(e.into()),
        };
        if ChannelId(claims.cid) != channel.id {
            return Err(ApiError::TokenInvalid);
        }
        grant(db, channel, record).await
    }

    /// The token's claims and record, if it is signed by these keys, unexpired and not
    /// revoked, and within its rate limit.
    async fn verify(
        &self,
        db: &impl db::ConnectionTrait,
        token: &str,
    ) -> Result<(Claims, TokenRecord), ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::TokenExpired,
                _ => ApiError::TokenInvalid,
            })?
            .claims;
        let id = Uuid::parse_str(&claims.jti).map_err(|_| ApiError::TokenInvalid)?;
        let record = match db::token_by_id(db, id).await {
            Ok(record) => record,
            Err(DbError::NotFound) => return Err(ApiError::TokenRevoked),
            Err(e) => return Err(e.into()),
        };
        if record.revoked_at.is_some() {
            return Err(ApiError::TokenRevoked);
        }
        if record.expires_at.is_some_and(|t| t <= Utc::now()) {
            return Err(ApiError::TokenExpired);
        }
        if let Some((queue, per_minute)) = &self.limit {
            crate::delivery::limits::check(
                queue,
                crate::delivery::limits::Scope::Api,
                &claims.jti,
                Some(*per_minute),
            )
            .await
            .map_err(ApiError::RateLimited)?;
        }
        Ok((claims, record))
    }
}

/// Who a token of `channel` acts as: its person, while they are active and have a role
/// in the channel (401 when disabled, 403 without a role), or the token itself.
async fn grant(
    db: &impl db::ConnectionTrait,
    channel: Channel,
    record: TokenRecord,
) -> Result<TokenGrant, ApiError> {
    let Some(user_id) = record.user_id else {
        return Ok(TokenGrant {
            actor: Actor::Token(record.id),
            channel,
            record,
            role: None,
        });
    };
    let user = match db::user_by_id(db, user_id).await {
        Ok(user) => user,
        Err(DbError::NotFound) => return Err(ApiError::TokenRevoked),
        Err(e) => return Err(e.into()),
    };
    if !user.is_active() {
        return Err(ApiError::UserDisabled);
    }
    let Some(role) = db::role_of(db, channel.id, user.id).await? else {
        return Err(ApiError::RoleForbids(
            "this token's person no longer has a role in this channel".into(),
        ));
    };
    Ok(TokenGrant {
        channel,
        record,
        actor: Actor::Person(user),
        role: Some(role),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("could not sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    #[error("could not store the token: {0}")]
    Db(#[from] DbError),
}

fn load_or_generate_secret(path: &Path) -> io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(secret) if !secret.trim().is_empty() => return Ok(secret.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = [0u8; GENERATED_SECRET_BYTES];
    openssl::rand::rand_bytes(&mut bytes).map_err(io::Error::other)?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Written whole to a file of its own, then linked into place: another process that
    // starts at the same moment sees either no file or the whole secret, never a part
    // of it; and if it linked its secret first, that one is used.
    let partial = path.with_extension(format!("{}.part", &secret[..16]));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        use std::io::Write;
        let mut file = options.open(&partial)?;
        file.write_all(secret.as_bytes())?;
        file.sync_all()?;
    }
    let linked = std::fs::hard_link(&partial, path);
    let _ = std::fs::remove_file(&partial);
    match linked {
        Ok(()) => Ok(secret),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let theirs = std::fs::read_to_string(path)?.trim().to_string();
            if theirs.is_empty() {
                return Err(io::Error::other(format!(
                    "{} is empty: delete it to have a new secret generated (tokens issued so far stop working)",
                    path.display()
                )));
            }
            Ok(theirs)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("admin"), None);
    }

    #[test]
    fn the_generated_secret_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/jwt.secret");
        let first = load_or_generate_secret(&path).unwrap();
        assert_eq!(first.len(), GENERATED_SECRET_BYTES * 2);
        assert_eq!(load_or_generate_secret(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn processes_starting_together_agree_on_one_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.secret");
        let secrets: Vec<String> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_generate_secret(&path).unwrap()))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(secrets.iter().all(|s| s == &secrets[0] && !s.is_empty()));
        // Nothing left behind but the secret.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // An empty file (a crash mid-write by an older version) is named, not used.
        std::fs::write(&path, "").unwrap();
        let err = load_or_generate_secret(&path).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
    }
}

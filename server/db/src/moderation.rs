//! Moderation: domain blocks (instance-wide or per channel) and the owner's view of
//! followers (listing, approving requests, removing).

use super::{
    entities::{domain_block, follower, remote_actor},
    ChannelId, DbError, DbResult, RemoteActorId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainBlock {
    pub id: i64,
    pub domain: String,
    /// `None`: instance-wide.
    pub channel_id: Option<ChannelId>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<domain_block::Model> for DomainBlock {
    fn from(m: domain_block::Model) -> DomainBlock {
        DomainBlock {
            id: m.id,
            domain: m.domain,
            channel_id: m.channel_id.map(ChannelId),
            reason: m.reason,
            created_at: m.created_at,
        }
    }
}

/// Normalizes a domain to block: lower case, no scheme, path, port or trailing dot.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let raw = raw.trim().to_ascii_lowercase();
    let raw = raw.split("://").last().unwrap_or_default();
    let host = raw
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    let valid = !host.is_empty()
        && host.contains('.')
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    valid.then(|| host.to_string())
}

/// The domains a block on which covers `host`: the host and each parent domain (a block
/// of `example.com` covers `social.example.com`), as Mastodon's domain blocks do.
pub fn covering_domains(host: &str) -> Vec<String> {
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

pub async fn add_domain_block(
    db: &impl ConnectionTrait,
    domain: &str,
    channel: Option<ChannelId>,
    reason: Option<String>,
) -> DbResult<DomainBlock> {
    domain_block::Entity::insert(domain_block::ActiveModel {
        domain: Set(domain.to_string()),
        channel_id: Set(channel.map(|c| c.0)),
        reason: Set(reason),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            domain_block::Column::Domain,
            domain_block::Column::ChannelId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .do_nothing()
    .exec_without_returning(db)
    .await?;
    let mut query = domain_block::Entity::find().filter(domain_block::Column::Domain.eq(domain));
    query = match channel {
        Some(c) => query.filter(domain_block::Column::ChannelId.eq(c.0)),
        None => query.filter(domain_block::Column::ChannelId.is_null()),
    };
    Ok(query.one(db).await?.ok_or(DbError::NotFound)?.into())
}

pub async fn remove_domain_block(
    db: &impl ConnectionTrait,
    domain: &str,
    channel: Option<ChannelId>,
) -> DbResult<bool> {
    let mut query =
        domain_block::Entity::delete_many().filter(domain_block::Column::Domain.eq(domain));
    query = match channel {
        Some(c) => query.filter(domain_block::Column::ChannelId.eq(c.0)),
        None => query.filter(domain_block::Column::ChannelId.is_null()),
    };
    Ok(query.exec(db).await?.rows_affected > 0)
}

/// Blocks of `channel` (`None`: the instance-wide ones).
pub async fn list_domain_blocks(
    db: &impl ConnectionTrait,
    channel: Option<ChannelId>,
) -> DbResult<Vec<DomainBlock>> {
    let query = match channel {
        Some(c) => domain_block::Entity::find().filter(domain_block::Column::ChannelId.eq(c.0)),
        None => domain_block::Entity::find().filter(domain_block::Column::ChannelId.is_null()),
    };
    Ok(query
        .order_by_asc(domain_block::Column::Domain)
        .all(db)
        .await?
        .into_iter()
        .map(DomainBlock::from)
        .collect())
}

/// True when `host` is blocked instance-wide, or by `channel` when given.
pub async fn is_blocked(
    db: &impl ConnectionTrait,
    host: &str,
    channel: Option<ChannelId>,
) -> DbResult<bool> {
    let mut scope = Condition::any().add(domain_block::Column::ChannelId.is_null());
    if let Some(c) = channel {
        scope = scope.add(domain_block::Column::ChannelId.eq(c.0));
    }
    Ok(domain_block::Entity::find()
        .filter(domain_block::Column::Domain.is_in(covering_domains(host)))
        .filter(scope)
        .one(db)
        .await?
        .is_some())
}

/// Every blocked domain, each with the channel it is blocked for (`None`: everywhere), for
/// the workers' snapshot.
pub async fn all_domain_blocks(
    db: &impl ConnectionTrait,
) -> DbResult<Vec<(String, Option<ChannelId>)>> {
    Ok(domain_block::Entity::find()
        .select_only()
        .column(domain_block::Column::Domain)
        .column(domain_block::Column::ChannelId)
        .into_tuple::<(String, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(d, c)| (d, c.map(ChannelId)))
        .collect())
}

/// Removes the followers on `domain` (and its subdomains), of one channel or all.
pub async fn remove_followers_on_domain(
    db: &impl ConnectionTrait,
    domain: &str,
    channel: Option<ChannelId>,
) -> DbResult<u64> {
    let actors: Vec<i64> = remote_actor::Entity::find()
        .select_only()
        .column(remote_actor::Column::Id)
        .filter(
            Condition::any()
                .add(remote_actor::Column::Authority.eq(domain))
                .add(remote_actor::Column::Authority.starts_with(format!("{domain}:")))
                .add(remote_actor::Column::Authority.like(format!("%.{domain}")))
                .add(remote_actor::Column::Authority.like(format!("%.{domain}:%"))),
        )
        .into_tuple()
        .all(db)
        .await?;
    if actors.is_empty() {
        return Ok(0);
    }
    let mut query =
        follower::Entity::delete_many().filter(follower::Column::RemoteActorId.is_in(actors));
    if let Some(c) = channel {
        query = query.filter(follower::Column::ChannelId.eq(c.0));
    }
    Ok(query.exec(db).await?.rows_affected)
}

/// A follower (or follow request) as the owner sees it.
#[derive(Clone, Debug)]
pub struct FollowerEntry {
    pub id: i64,
    pub actor_uri: String,
    pub inbox: String,
    pub authority: String,
    pub follow_uri: String,
    pub pending: bool,
    pub created_at: DateTime<Utc>,
    pub remote_actor_id: RemoteActorId,
}

/// A channel's followers (or pending requests), oldest first, after the id `after`.
pub async fn list_followers(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    pending: bool,
    after: Option<i64>,
    limit: u64,
) -> DbResult<Vec<FollowerEntry>> {
    let mut query = follower::Entity::find()
        .find_also_related(remote_actor::Entity)
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::Pending.eq(pending));
    if let Some(after) = after {
        query = query.filter(follower::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(follower::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(f, actor)| Some(follower_entry_of(f, actor?)))
        .collect())
}

/// A follower row with its cached actor, as the owner sees it.
pub(super) fn follower_entry_of(f: follower::Model, actor: remote_actor::Model) -> FollowerEntry {
    FollowerEntry {
        id: f.id,
        actor_uri: actor.uri,
        inbox: actor.inbox,
        authority: actor.authority,
        follow_uri: f.follow_uri,
        pending: f.pending,
        created_at: f.created_at,
        remote_actor_id: RemoteActorId(actor.id),
    }
}

/// One follower (or request) of `channel` by id.
pub async fn follower_entry(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    id: i64,
) -> DbResult<FollowerEntry> {
    list_followers(db, channel, false, Some(id - 1), 1)
        .await?
        .into_iter()
        .chain(list_followers(db, channel, true, Some(id - 1), 1).await?)
        .find(|f| f.id == id)
        .ok_or(DbError::NotFound)
}

/// Approves a pending follow request; true when there was one.
pub async fn approve_follower(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    id: i64,
) -> DbResult<bool> {
    Ok(follower::Entity::update_many()
        .col_expr(follower::Column::Pending, Expr::value(false))
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::Id.eq(id))
        .filter(follower::Column::Pending.eq(true))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Removes a follower or refuses a request; true when there was one.
pub async fn remove_follower_entry(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    id: i64,
) -> DbResult<bool> {
    Ok(follower::Entity::delete_many()
        .filter(follower::Column::ChannelId.eq(channel.0))
        .filter(follower::Column::Id.eq(id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(
            normalize_domain("https://Social.Example.com/@x").as_deref(),
            Some("social.example.com")
        );
        assert_eq!(
            normalize_domain("example.com:443").as_deref(),
            Some("example.com")
        );
        assert_eq!(normalize_domain("localhost"), None);
        assert_eq!(normalize_domain(""), None);
        assert_eq!(
            covering_domains("a.social.example.com:8443"),
            ["a.social.example.com", "social.example.com", "example.com"]
        );
    }
}

/// How long a [`BlockSnapshot`] trusts what it read.
const SNAPSHOT_TTL: Duration = Duration::from_secs(5);

/// The domain blocks read every few seconds rather than per request, for the hot paths
/// (each delivery, each signed fetch). A new block is in force within [`SNAPSHOT_TTL`];
/// the followers it removes go at once.
#[derive(Default)]
pub struct BlockSnapshot {
    state: RwLock<Option<(Instant, Arc<BlockMap>)>>,
    reloading: tokio::sync::Mutex<()>,
}

/// Blocked domain → the channels it is blocked for (`None`: all).
type BlockMap = HashMap<String, Vec<Option<ChannelId>>>;

impl BlockSnapshot {
    /// True when `host` (an authority; a port is ignored) is blocked instance-wide, or for
    /// `channel` when given.
    pub async fn is_blocked(
        &self,
        db: &impl ConnectionTrait,
        host: &str,
        channel: Option<ChannelId>,
    ) -> DbResult<bool> {
        let map = self.current(db).await?;
        if map.is_empty() {
            return Ok(false);
        }
        Ok(covering_domains(host).iter().any(|domain| {
            map.get(domain).is_some_and(|scopes| {
                scopes
                    .iter()
                    .any(|scope| scope.is_none() || (channel.is_some() && *scope == channel))
            })
        }))
    }

    fn fresh(&self) -> Option<Arc<BlockMap>> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state
            .as_ref()
            .filter(|(at, _)| at.elapsed() < SNAPSHOT_TTL)
            .map(|(_, map)| map.clone())
    }

    async fn current(&self, db: &impl ConnectionTrait) -> DbResult<Arc<BlockMap>> {
        if let Some(map) = self.fresh() {
            return Ok(map);
        }
        // One caller reloads; the others wait for it rather than all querying at once.
        let _reloading = self.reloading.lock().await;
        if let Some(map) = self.fresh() {
            return Ok(map);
        }
        let mut map = BlockMap::new();
        for (domain, channel) in all_domain_blocks(db).await? {
            map.entry(domain).or_default().push(channel);
        }
        let map = Arc::new(map);
        *self.state.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), map.clone()));
        Ok(map)
    }
}

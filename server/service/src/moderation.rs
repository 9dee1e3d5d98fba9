//! Moderation, for the operator (instance-wide) and the owner (per channel): blocking a
//! domain (its followers go, its requests and signed fetches are refused, nothing is
//! delivered there), removing a follower (with a `Reject(Follow)`), and answering follow
//! requests when a channel approves followers by hand.
//!
//! Called by entry points (`api`, `cli`); calls `db` and `federation` (to answer follows).

use crate::{
    db::{self, Channel, DbError, DomainBlock, RemoteActor},
    federation::activities::follow::{send_answer, stored_follow},
    federation::FederationError,
    state::HeraldState,
};

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error("`{0}` is not a domain such as example.com")]
    InvalidDomain(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(DbError),
    #[error(transparent)]
    Federation(#[from] FederationError),
}

impl From<DbError> for ModerationError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => ModerationError::NotFound,
            other => ModerationError::Db(other),
        }
    }
}

/// Blocks `domain` (and its subdomains) for `channel`, or instance-wide; its followers are
/// removed at once. Returns the block and how many followers went.
pub async fn block_domain(
    data: &HeraldState,
    raw: &str,
    channel: Option<&Channel>,
    reason: Option<String>,
) -> Result<(DomainBlock, u64), ModerationError> {
    let domain =
        db::normalize_domain(raw).ok_or_else(|| ModerationError::InvalidDomain(raw.to_string()))?;
    let channel_id = channel.map(|c| c.id);
    let block = db::add_domain_block(&data.db, &domain, channel_id, reason).await?;
    let removed = db::remove_followers_on_domain(&data.db, &domain, channel_id).await?;
    tracing::info!(%domain, removed, "domain blocked");
    Ok((block, removed))
}

/// Lifts a block; true when there was one.
pub async fn unblock_domain(
    data: &HeraldState,
    raw: &str,
    channel: Option<&Channel>,
) -> Result<bool, ModerationError> {
    let domain =
        db::normalize_domain(raw).ok_or_else(|| ModerationError::InvalidDomain(raw.to_string()))?;
    Ok(db::remove_domain_block(&data.db, &domain, channel.map(|c| c.id)).await?)
}

fn actor_of(entry: &db::FollowerEntry) -> Result<RemoteActor, ModerationError> {
    let uri = url::Url::parse(&entry.actor_uri)
        .map_err(|e| ModerationError::Db(DbError::Corrupt(e.to_string())))?;
    let inbox = url::Url::parse(&entry.inbox)
        .map_err(|e| ModerationError::Db(DbError::Corrupt(e.to_string())))?;
    Ok(RemoteActor {
        id: entry.remote_actor_id,
        uri,
        inbox,
        shared_inbox: None,
        public_key_pem: String::new(),
        authority: entry.authority.clone(),
        fetched_at: entry.created_at,
        key_id: None,
        also_known_as: Vec::new(),
    })
}

/// Answers a follower or follow request: approve (`Accept`) or remove/refuse (`Reject`,
/// which makes Mastodon drop the follow).
pub async fn answer_follower(
    data: &HeraldState,
    channel: &Channel,
    by: &db::Actor,
    follower: i64,
    approve: bool,
) -> Result<(), ModerationError> {
    let entry = db::follower_entry(&data.db, channel.id, follower).await?;
    let changed = if approve {
        db::approve_follower(&data.db, channel.id, follower).await?
    } else {
        db::remove_follower_entry(&data.db, channel.id, follower).await?
    };
    if !changed {
        // Approving an approved follower: nothing to say.
        return Ok(());
    }
    let actor = actor_of(&entry)?;
    let channel_id = data.urls.channel(&channel.name);
    if let Some(follow) = stored_follow(&entry.follow_uri, &actor.uri, &channel_id) {
        send_answer(data, channel, follow, &actor, approve).await?;
    }
    let (action, event) = if approve {
        (
            db::AuditAction::FollowerApproved,
            db::EventKind::FollowerAdded,
        )
    } else {
        (
            db::AuditAction::FollowerRemoved,
            db::EventKind::FollowerRemoved,
        )
    };
    crate::people::audit(&data.db, channel, by, action, &entry.actor_uri).await;
    // A refused request was never a follower: nothing to tell.
    if approve || !entry.pending {
        let data_json =
            serde_json::json!({ "channel": channel.name.as_str(), "actor": entry.actor_uri });
        crate::delivery::webhooks::emit(&data.db, &data.queue, channel.id, event, data_json).await;
    }
    Ok(())
}

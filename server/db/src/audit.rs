//! Each channel's audit log: who created, edited, deleted, pinned, scheduled, granted or
//! revoked what, and when. Kept for the channel's owners; never federated.

use super::{entities::audit_entry, ChannelId, DbResult, User, UserId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

/// Who did something: the subject of an audit entry, and the author of a post.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A person, signed in to the console or with a token of their own.
    Person(User),
    /// A channel token (a bot, a script, a Mastodon app), by its id.
    Token(Uuid),
    /// The `herald` command line, run by the operator.
    CommandLine,
    /// Herald itself (the scheduler).
    Herald,
    /// A feed source, posting its entries.
    Feed(super::SourceId),
}

impl Actor {
    /// How the audit log names this actor.
    pub fn label(&self) -> String {
        match self {
            Actor::Person(user) => format!("{} <{}>", user.display_name, user.email),
            Actor::Token(id) => format!("token {id}"),
            Actor::CommandLine => "command line".to_string(),
            Actor::Herald => "Herald".to_string(),
            Actor::Feed(id) => format!("feed source {}", id.0),
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::Person(user) => Some(user.id),
            _ => None,
        }
    }
}

/// What was done, as the audit log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    Created,
    Scheduled,
    Edited,
    Deleted,
    Pinned,
    Unpinned,
    Granted,
    Revoked,
    ProfileChanged,
    TokenIssued,
    TokenRevoked,
    FollowerApproved,
    FollowerRemoved,
    SourceAdded,
    SourceRemoved,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Created => "post.created",
            AuditAction::Scheduled => "post.scheduled",
            AuditAction::Edited => "post.edited",
            AuditAction::Deleted => "post.deleted",
            AuditAction::Pinned => "post.pinned",
            AuditAction::Unpinned => "post.unpinned",
            AuditAction::Granted => "role.granted",
            AuditAction::Revoked => "role.revoked",
            AuditAction::ProfileChanged => "profile.changed",
            AuditAction::TokenIssued => "token.issued",
            AuditAction::TokenRevoked => "token.revoked",
            AuditAction::FollowerApproved => "follower.approved",
            AuditAction::FollowerRemoved => "follower.removed",
            AuditAction::SourceAdded => "source.added",
            AuditAction::SourceRemoved => "source.removed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_user_id: Option<UserId>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub created_at: DateTime<Utc>,
}

pub async fn record_audit(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    actor: &Actor,
    action: AuditAction,
    target: &str,
) -> DbResult<()> {
    audit_entry::ActiveModel {
        channel_id: Set(channel.0),
        actor_user_id: Set(actor.user_id().map(|u| u.0)),
        actor: Set(actor.label()),
        action: Set(action.as_str().to_string()),
        target: Set(target.to_string()),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest `limit` entries of `channel`'s log, newest first.
pub async fn audit_log(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    limit: u64,
) -> DbResult<Vec<AuditEntry>> {
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::ChannelId.eq(channel.0))
        .order_by_desc(audit_entry::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| AuditEntry {
            id: m.id,
            actor_user_id: m.actor_user_id.map(UserId),
            actor: m.actor,
            action: m.action,
            target: m.target,
            created_at: m.created_at,
        })
        .collect())
}

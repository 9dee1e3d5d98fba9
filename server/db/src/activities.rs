//! Outbound activities: their JSON is stored once, and every delivery attempt reads it.

use super::{
    authority_of,
    entities::{activity, delivery},
    ChannelId, DbError, DbResult, DeliveryId, DeliveryState, PostId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait,
};
use url::Url;
use uuid::Uuid;

/// The kinds of activity Herald sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    Create,
    Accept,
    Update,
    Delete,
    Add,
    Remove,
    Reject,
    Move,
    /// A message to a webhook (not ActivityPub).
    Event,
    /// A channel's permission to quote a post (FEP-044f), served at its id.
    QuoteAuthorization,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Create => "Create",
            ActivityKind::Accept => "Accept",
            ActivityKind::Update => "Update",
            ActivityKind::Delete => "Delete",
            ActivityKind::Add => "Add",
            ActivityKind::Remove => "Remove",
            ActivityKind::Reject => "Reject",
            ActivityKind::Move => "Move",
            ActivityKind::Event => "Event",
            ActivityKind::QuoteAuthorization => "QuoteAuthorization",
        }
    }
}

impl std::fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The form of an outbound activity; `payload` is its complete JSON.
pub struct NewActivity {
    pub id: Uuid,
    pub channel_id: ChannelId,
    pub kind: ActivityKind,
    pub post_id: Option<PostId>,
    pub payload: String,
}

#[derive(Clone, Debug)]
pub struct Activity {
    pub id: Uuid,
    pub channel_id: ChannelId,
    pub kind: String,
    pub post_id: Option<PostId>,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<activity::Model> for Activity {
    type Error = DbError;

    fn try_from(m: activity::Model) -> DbResult<Activity> {
        Ok(Activity {
            id: Uuid::parse_str(&m.id).map_err(|e| DbError::Corrupt(e.to_string()))?,
            channel_id: ChannelId(m.channel_id),
            kind: m.kind,
            post_id: m.post_id.as_deref().and_then(PostId::parse),
            payload: m.payload,
            created_at: m.created_at,
        })
    }
}

pub async fn activity_by_id(db: &impl ConnectionTrait, id: Uuid) -> DbResult<Activity> {
    activity::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// Stores an object that is served, not sent (a quote authorization).
pub async fn insert_activity(db: &impl ConnectionTrait, new: NewActivity) -> DbResult<()> {
    activity::ActiveModel {
        id: Set(new.id.to_string()),
        channel_id: Set(new.channel_id.0),
        kind: Set(new.kind.to_string()),
        post_id: Set(new.post_id.map(|p| p.to_string())),
        payload: Set(new.payload),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Stores an activity addressed to one inbox (an `Accept` to a follower) together with its
/// pending delivery, in one transaction.
pub async fn insert_activity_for_inbox(
    db: &DatabaseConnection,
    new: NewActivity,
    inbox: &Url,
) -> DbResult<DeliveryId> {
    let txn = db.begin().await?;
    let now = Utc::now();
    activity::ActiveModel {
        id: Set(new.id.to_string()),
        channel_id: Set(new.channel_id.0),
        kind: Set(new.kind.to_string()),
        post_id: Set(new.post_id.map(|p| p.to_string())),
        payload: Set(new.payload),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let delivery = delivery::ActiveModel {
        activity_id: Set(new.id.to_string()),
        inbox: Set(inbox.to_string()),
        authority: Set(authority_of(inbox)),
        state: Set(DeliveryState::Pending.as_str().to_string()),
        attempts: Set(0),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(DeliveryId(delivery.id))
}

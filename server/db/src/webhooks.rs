//! Webhooks: where a channel's events go, and the events themselves. Each event sent to a
//! webhook is an activity of kind `Event` (its id is the message's `webhook-id`, the same
//! on every retry) with one delivery to the webhook's URL, so the delivery engine queues,
//! limits, retries and dead-letters it as it does activities.

use super::{
    authority_of,
    entities::{activity, delivery, webhook},
    ChannelId, DbError, DbResult, Delivery, DeliveryState, QueuedDelivery,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::fmt;
use url::Url;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(pub i64);

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a channel's webhooks may be told of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    FollowerAdded,
    FollowerRemoved,
    FollowRequest,
    Reply,
    Mention,
    Like,
    Boost,
    Report,
    PostPublished,
    DeliveryFailed,
    SourceFailed,
}

impl EventKind {
    pub const ALL: [EventKind; 11] = [
        EventKind::FollowerAdded,
        EventKind::FollowerRemoved,
        EventKind::FollowRequest,
        EventKind::Reply,
        EventKind::Mention,
        EventKind::Like,
        EventKind::Boost,
        EventKind::Report,
        EventKind::PostPublished,
        EventKind::DeliveryFailed,
        EventKind::SourceFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::FollowerAdded => "follower.added",
            EventKind::FollowerRemoved => "follower.removed",
            EventKind::FollowRequest => "follow_request",
            EventKind::Reply => "reply",
            EventKind::Mention => "mention",
            EventKind::Like => "like",
            EventKind::Boost => "boost",
            EventKind::Report => "report",
            EventKind::PostPublished => "post.published",
            EventKind::DeliveryFailed => "delivery.failed",
            EventKind::SourceFailed => "source.failed",
        }
    }

    pub fn parse(raw: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[derive(Clone)]
pub struct Webhook {
    pub id: WebhookId,
    pub channel_id: ChannelId,
    pub url: String,
    pub events: Vec<EventKind>,
    /// `whsec_` and the base64 of the key: signs every message.
    pub secret: String,
    pub description: Option<String>,
    /// Set when its URL answered 410 Gone: nothing more is sent.
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl From<webhook::Model> for Webhook {
    fn from(m: webhook::Model) -> Webhook {
        Webhook {
            id: WebhookId(m.id),
            channel_id: ChannelId(m.channel_id),
            url: m.url,
            events: m
                .events
                .split_whitespace()
                .filter_map(EventKind::parse)
                .collect(),
            secret: m.secret,
            description: m.description,
            disabled_at: m.disabled_at,
            created_at: m.created_at,
        }
    }
}

pub struct NewWebhook {
    pub channel_id: ChannelId,
    pub url: String,
    pub events: Vec<EventKind>,
    pub secret: String,
    pub description: Option<String>,
}

pub async fn create_webhook(db: &impl ConnectionTrait, new: NewWebhook) -> DbResult<Webhook> {
    let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
    Ok(webhook::ActiveModel {
        channel_id: Set(new.channel_id.0),
        url: Set(new.url),
        events: Set(events.join(" ")),
        secret: Set(new.secret),
        description: Set(new.description),
        disabled_at: Set(None),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?
    .into())
}

/// A channel's webhooks, oldest first.
pub async fn webhooks_of(db: &impl ConnectionTrait, channel: ChannelId) -> DbResult<Vec<Webhook>> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::ChannelId.eq(channel.0))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Webhook::from)
        .collect())
}

/// Every webhook of the instance (for the doctor).
pub async fn all_webhooks(db: &impl ConnectionTrait) -> DbResult<Vec<Webhook>> {
    Ok(webhook::Entity::find()
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Webhook::from)
        .collect())
}

/// A webhook by id (any channel's: for the worker, which has the delivery's id only).
pub async fn webhook_by_id(db: &impl ConnectionTrait, id: WebhookId) -> DbResult<Webhook> {
    Ok(webhook::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
}

/// Deletes `channel`'s webhook `id`; its queued messages are then dropped unsent.
pub async fn delete_webhook(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    id: WebhookId,
) -> DbResult<()> {
    let deleted = webhook::Entity::delete_many()
        .filter(webhook::Column::Id.eq(id.0))
        .filter(webhook::Column::ChannelId.eq(channel.0))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Stops a webhook whose URL is gone (410).
pub async fn disable_webhook(db: &impl ConnectionTrait, id: WebhookId) -> DbResult<()> {
    webhook::Entity::update_many()
        .col_expr(webhook::Column::DisabledAt, Expr::value(super::now()))
        .filter(webhook::Column::Id.eq(id.0))
        .filter(webhook::Column::DisabledAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// One message for one webhook.
pub struct NewEvent {
    pub id: Uuid,
    pub webhook: WebhookId,
    pub url: String,
    /// The whole JSON body.
    pub payload: String,
}

/// Stores `events` of `channel` with their pending deliveries, all or nothing; returns the
/// deliveries to enqueue.
pub async fn insert_events<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    channel: ChannelId,
    events: Vec<NewEvent>,
) -> DbResult<Vec<QueuedDelivery>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut queued = Vec::with_capacity(events.len());
    for event in events {
        activity::ActiveModel {
            id: Set(event.id.to_string()),
            channel_id: Set(channel.0),
            kind: Set(super::ActivityKind::Event.to_string()),
            post_id: Set(None),
            payload: Set(event.payload),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let row = delivery::ActiveModel {
            activity_id: Set(event.id.to_string()),
            authority: Set(Url::parse(&event.url)
                .map(|u| authority_of(&u))
                .unwrap_or_default()),
            inbox: Set(event.url),
            state: Set(DeliveryState::Pending.as_str().to_string()),
            attempts: Set(0),
            last_status: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            webhook_id: Set(Some(event.webhook.0)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        queued.push((super::DeliveryId(row.id), 0));
    }
    txn.commit().await?;
    Ok(queued)
}

/// A message sent (or being sent) to a webhook, with its delivery's outcome.
#[derive(Clone, Debug)]
pub struct WebhookMessage {
    pub id: Uuid,
    pub event: String,
    pub created_at: DateTime<Utc>,
    pub delivery: Delivery,
}

/// The newest `limit` messages of webhook `id`, newest first.
pub async fn webhook_messages(
    db: &impl ConnectionTrait,
    id: WebhookId,
    limit: u64,
) -> DbResult<Vec<WebhookMessage>> {
    let rows = delivery::Entity::find()
        .filter(delivery::Column::WebhookId.eq(id.0))
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let delivery = Delivery::try_from(row)?;
        let Some(stored) = activity::Entity::find_by_id(delivery.activity_id.to_string())
            .one(db)
            .await?
        else {
            continue;
        };
        let event = serde_json::from_str::<serde_json::Value>(&stored.payload)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_string))
            .unwrap_or_default();
        out.push(WebhookMessage {
            id: delivery.activity_id,
            event,
            created_at: stored.created_at,
            delivery,
        });
    }
    Ok(out)
}

/// How many webhook messages of `channel` (or of all channels) are dead (failed) since
/// `since`: for the doctor.
pub async fn dead_webhook_messages(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> DbResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(delivery::Entity::find()
        .filter(delivery::Column::WebhookId.is_not_null())
        .filter(delivery::Column::State.eq(DeliveryState::Failed.as_str()))
        .filter(delivery::Column::UpdatedAt.gte(since))
        .count(db)
        .await?)
}

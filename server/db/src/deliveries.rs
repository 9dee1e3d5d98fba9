//! Deliveries: one per activity and inbox, created by a fan-out's expansion (or with an
//! activity addressed to one inbox, see `activities`) and updated with the outcome of
//! every attempt. The database is the source of truth; Redis only carries ids and attempt
//! counts. Putting lost or parked work back is `recovery`; the reports are
//! `delivery_reports`.

use super::{
    authority_of,
    entities::{activity, channel, delivery},
    Activity, Channel, DbError, DbResult, DeliveryState, WebhookId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use url::Url;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryId(pub i64);

/// A delivery to put in the queue, with the attempts it has had: a queue entry whose
/// count no longer matches the record is a stale duplicate and is skipped.
pub type QueuedDelivery = (DeliveryId, u32);

/// Reads `(id, attempts)` rows as deliveries to enqueue.
pub(super) fn queued(rows: Vec<(i64, i32)>) -> Vec<QueuedDelivery> {
    rows.into_iter()
        .map(|(id, attempts)| (DeliveryId(id), u32::try_from(attempts).unwrap_or_default()))
        .collect()
}

#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: DeliveryId,
    pub activity_id: Uuid,
    pub inbox: String,
    pub authority: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// When a retrying delivery is due again.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The webhook it goes to (signed the Standard Webhooks way); `None`: an inbox.
    pub webhook_id: Option<WebhookId>,
}

impl TryFrom<delivery::Model> for Delivery {
    type Error = DbError;

    fn try_from(m: delivery::Model) -> DbResult<Delivery> {
        Ok(Delivery {
            id: DeliveryId(m.id),
            activity_id: Uuid::parse_str(&m.activity_id).unwrap_or_default(),
            inbox: m.inbox,
            authority: m.authority,
            state: DeliveryState::from_stored(&m.state)?,
            attempts: u32::try_from(m.attempts).unwrap_or_default(),
            last_status: m.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: m.last_error,
            next_attempt_at: m.next_attempt_at,
            webhook_id: m.webhook_id.map(WebhookId),
        })
    }
}

/// Everything a worker needs to send one delivery: the record, the activity's JSON and
/// the channel that signs it.
pub struct DeliveryWork {
    pub delivery: Delivery,
    pub activity: Activity,
    pub channel: Channel,
}

/// How [`insert_deliveries`] finds the rows it made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxList {
    /// A page of `follower_inbox_page`, in the database's order: read back by index range.
    SortedPage,
    /// Any list (mentioned servers): read back by `IN`.
    Unsorted,
}

/// Creates the deliveries of `activity` to `inboxes` (those that exist already are kept as
/// they are) and returns the ids of those still waiting to be sent, to enqueue.
pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    activity: Uuid,
    inboxes: &[String],
    list: InboxList,
) -> DbResult<Vec<QueuedDelivery>> {
    if inboxes.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let models = inboxes.iter().map(|inbox| delivery::ActiveModel {
        activity_id: Set(activity.to_string()),
        inbox: Set(inbox.clone()),
        authority: Set(Url::parse(inbox)
            .map(|u| authority_of(&u))
            .unwrap_or_default()),
        state: Set(DeliveryState::Pending.as_str().to_string()),
        attempts: Set(0),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    delivery::Entity::insert_many(models)
        .on_conflict(
            OnConflict::columns([delivery::Column::ActivityId, delivery::Column::Inbox])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(db)
        .await?;
    // `inboxes` is one page of a fan-out, in the database's order: its deliveries are the
    // range from its first to its last inbox, read on the (activity_id, inbox) index.
    let (Some(first), Some(last)) = (inboxes.first(), inboxes.last()) else {
        return Ok(Vec::new());
    };
    let mut query = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::Attempts)
        .filter(delivery::Column::ActivityId.eq(activity.to_string()))
        .filter(delivery::Column::State.eq(DeliveryState::Pending.as_str()));
    query = match list {
        InboxList::SortedPage => query
            .filter(delivery::Column::Inbox.gte(first.as_str()))
            .filter(delivery::Column::Inbox.lte(last.as_str())),
        InboxList::Unsorted => query.filter(delivery::Column::Inbox.is_in(inboxes.iter().cloned())),
    };
    Ok(queued(query.into_tuple::<(i64, i32)>().all(db).await?))
}

pub async fn delivery_by_id(db: &impl ConnectionTrait, id: DeliveryId) -> DbResult<Delivery> {
    delivery::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// Many deliveries by id, in one query (a worker loads a whole batch of jobs at once).
pub async fn deliveries_by_ids(
    db: &impl ConnectionTrait,
    ids: &[DeliveryId],
) -> DbResult<Vec<Delivery>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?
        .into_iter()
        .map(Delivery::try_from)
        .collect()
}

/// Records many successful deliveries that got the same `status`, in one statement: each
/// row's attempts go up by one. The common outcome, written in batches.
pub async fn record_delivered(
    db: &impl ConnectionTrait,
    ids: &[DeliveryId],
    status: u16,
) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::State,
            Expr::value(DeliveryState::Delivered.as_str()),
        )
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::LastStatus, Expr::value(i32::from(status)))
        .col_expr(
            delivery::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .exec(db)
        .await?;
    Ok(())
}

/// Loads a delivery with its activity and signing channel.
pub async fn delivery_work(db: &impl ConnectionTrait, id: DeliveryId) -> DbResult<DeliveryWork> {
    let delivery = delivery_by_id(db, id).await?;
    let activity: Activity = activity::Entity::find_by_id(delivery.activity_id.to_string())
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()?;
    let channel: Channel = channel::Entity::find_by_id(activity.channel_id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()?;
    Ok(DeliveryWork {
        delivery,
        activity,
        channel,
    })
}

/// The outcome of one attempt, as recorded.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub state: DeliveryState,
    pub attempts: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// When a retrying delivery is due again.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Records the outcome of one attempt in one statement.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    id: DeliveryId,
    record: AttemptRecord,
) -> DbResult<()> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(record.state.as_str()))
        .col_expr(
            delivery::Column::Attempts,
            Expr::value(i32::try_from(record.attempts).unwrap_or(i32::MAX)),
        )
        .col_expr(
            delivery::Column::LastStatus,
            Expr::value(record.status.map(i32::from)),
        )
        .col_expr(delivery::Column::LastError, Expr::value(record.error))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(record.next_attempt_at),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

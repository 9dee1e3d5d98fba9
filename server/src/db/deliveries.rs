//! The queue's records: fan-outs (one per broadcast activity) and deliveries (one per
//! activity and inbox). The database is the source of truth; Redis only carries ids.

use super::{
    authority_of,
    entities::{activity, channel, delivery, fanout},
    Activity, Channel, DbError, DbResult,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeMap;
use url::Url;
use uuid::Uuid;

pub const FANOUT_PENDING: &str = "pending";
pub const FANOUT_DONE: &str = "done";

pub const DELIVERY_PENDING: &str = "pending";
pub const DELIVERY_DELIVERED: &str = "delivered";
pub const DELIVERY_RETRYING: &str = "retrying";
pub const DELIVERY_FAILED: &str = "failed";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FanoutId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryId(pub i64);

#[derive(Clone, Debug)]
pub struct Fanout {
    pub id: FanoutId,
    pub activity_id: Uuid,
    pub state: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<fanout::Model> for Fanout {
    type Error = DbError;

    fn try_from(m: fanout::Model) -> DbResult<Fanout> {
        Ok(Fanout {
            id: FanoutId(m.id),
            activity_id: Uuid::parse_str(&m.activity_id)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
            state: m.state,
            created_at: m.created_at,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: DeliveryId,
    pub activity_id: Uuid,
    pub inbox: String,
    pub authority: String,
    pub state: String,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

impl From<delivery::Model> for Delivery {
    fn from(m: delivery::Model) -> Delivery {
        Delivery {
            id: DeliveryId(m.id),
            activity_id: Uuid::parse_str(&m.activity_id).unwrap_or_default(),
            inbox: m.inbox,
            authority: m.authority,
            state: m.state,
            attempts: u32::try_from(m.attempts).unwrap_or_default(),
            last_status: m.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: m.last_error,
        }
    }
}

/// Everything a worker needs to send one delivery: the record, the activity's JSON and
/// the channel that signs it.
pub struct DeliveryWork {
    pub delivery: Delivery,
    pub activity: Activity,
    pub channel: Channel,
}

pub async fn fanout_by_id(db: &impl ConnectionTrait, id: FanoutId) -> DbResult<Fanout> {
    fanout::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// Fan-outs still pending that were created before `older_than`: the sweeper re-enqueues
/// them in case the process died between commit and enqueue.
pub async fn stale_pending_fanouts(
    db: &impl ConnectionTrait,
    older_than: DateTime<Utc>,
    limit: u64,
) -> DbResult<Vec<FanoutId>> {
    Ok(fanout::Entity::find()
        .select_only()
        .column(fanout::Column::Id)
        .filter(fanout::Column::State.eq(FANOUT_PENDING))
        .filter(fanout::Column::CreatedAt.lt(older_than))
        .order_by_asc(fanout::Column::Id)
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .map(FanoutId)
        .collect())
}

/// Deliveries still pending whose record has not changed since `older_than`: the
/// sweeper re-enqueues them in case their stream entry was lost.
pub async fn stale_pending_deliveries(
    db: &impl ConnectionTrait,
    older_than: DateTime<Utc>,
    limit: u64,
) -> DbResult<Vec<DeliveryId>> {
    Ok(delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::State.eq(DELIVERY_PENDING))
        .filter(delivery::Column::UpdatedAt.lt(older_than))
        .order_by_asc(delivery::Column::Id)
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .map(DeliveryId)
        .collect())
}

/// Marks pending deliveries as just enqueued, so the sweeper leaves them alone for a while.
pub async fn touch_deliveries(db: &impl ConnectionTrait, ids: &[DeliveryId]) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn finish_fanout(db: &impl ConnectionTrait, id: FanoutId) -> DbResult<()> {
    fanout::Entity::update_many()
        .col_expr(fanout::Column::State, Expr::value(FANOUT_DONE))
        .col_expr(fanout::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(fanout::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Creates the deliveries of `activity` to `inboxes` (those that exist already are kept as
/// they are) and returns the ids of those still waiting to be sent, to enqueue.
pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    activity: Uuid,
    inboxes: &[String],
) -> DbResult<Vec<DeliveryId>> {
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
        state: Set(DELIVERY_PENDING.to_string()),
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
    Ok(delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::ActivityId.eq(activity.to_string()))
        .filter(delivery::Column::Inbox.is_in(inboxes.iter().cloned()))
        .filter(delivery::Column::State.eq(DELIVERY_PENDING))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .map(DeliveryId)
        .collect())
}

pub async fn delivery_by_id(db: &impl ConnectionTrait, id: DeliveryId) -> DbResult<Delivery> {
    Ok(delivery::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
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

/// Records the outcome of one attempt: the new state, the attempt count, and the remote
/// status and error (cleared on success).
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    id: DeliveryId,
    state: &str,
    attempts: u32,
    status: Option<u16>,
    error: Option<String>,
) -> DbResult<()> {
    let model = delivery::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?;
    let mut active = model.into_active_model();
    active.state = Set(state.to_string());
    active.attempts = Set(i32::try_from(attempts).unwrap_or(i32::MAX));
    active.last_status = Set(status.map(i32::from));
    active.last_error = Set(error);
    active.updated_at = Set(Utc::now());
    active.update(db).await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct StateCount {
    state: String,
    count: i64,
}

/// How many deliveries of `activity` are in each state.
pub async fn delivery_counts(
    db: &impl ConnectionTrait,
    activity: Uuid,
) -> DbResult<BTreeMap<String, u64>> {
    let rows = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::State)
        .column_as(delivery::Column::Id.count(), "count")
        .filter(delivery::Column::ActivityId.eq(activity.to_string()))
        .group_by(delivery::Column::State)
        .into_model::<StateCount>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.state, u64::try_from(r.count).unwrap_or_default()))
        .collect())
}

/// The deliveries of `activity` that failed or are retrying, for the status report.
pub async fn troubled_deliveries(
    db: &impl ConnectionTrait,
    activity: Uuid,
    limit: u64,
) -> DbResult<Vec<Delivery>> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::ActivityId.eq(activity.to_string()))
        .filter(delivery::Column::State.is_in([DELIVERY_FAILED, DELIVERY_RETRYING]))
        .order_by_asc(delivery::Column::Authority)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Delivery::from)
        .collect())
}

/// The fan-out of `activity`.
pub async fn fanout_for_activity(db: &impl ConnectionTrait, activity: Uuid) -> DbResult<Fanout> {
    fanout::Entity::find()
        .filter(fanout::Column::ActivityId.eq(activity.to_string()))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

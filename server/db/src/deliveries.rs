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
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
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
/// Waiting for an unreachable server to come back; not retried until then.
pub const DELIVERY_PARKED: &str = "parked";

/// Every delivery state, in the order reports show them.
pub const DELIVERY_STATES: [&str; 5] = [
    DELIVERY_PENDING,
    DELIVERY_DELIVERED,
    DELIVERY_RETRYING,
    DELIVERY_FAILED,
    DELIVERY_PARKED,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FanoutId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryId(pub i64);

/// A delivery to put in the queue, with the attempts it has had: a queue entry whose
/// count no longer matches the record is a stale duplicate and is skipped.
pub type QueuedDelivery = (DeliveryId, u32);

fn queued(rows: Vec<(i64, i32)>) -> Vec<QueuedDelivery> {
    rows.into_iter()
        .map(|(id, attempts)| (DeliveryId(id), u32::try_from(attempts).unwrap_or_default()))
        .collect()
}

#[derive(Clone, Debug)]
pub struct Fanout {
    pub id: FanoutId,
    pub activity_id: Uuid,
    pub state: String,
    pub created_at: DateTime<Utc>,
    /// Inboxes beyond the followers' (mentioned actors' servers).
    pub extra_inboxes: Vec<String>,
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
            extra_inboxes: super::policy::from_json(m.extra_inboxes.as_deref()),
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
    /// When a retrying delivery is due again.
    pub next_attempt_at: Option<DateTime<Utc>>,
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
            next_attempt_at: m.next_attempt_at,
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
    Ok(stale_pending_fanouts_query(older_than, limit)
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
) -> DbResult<Vec<QueuedDelivery>> {
    Ok(queued(
        stale_pending_deliveries_query(older_than, limit)
            .into_tuple::<(i64, i32)>()
            .all(db)
            .await?,
    ))
}

/// Marks pending deliveries as just enqueued, so the sweeper leaves them alone for a while.
pub async fn touch_deliveries(db: &impl ConnectionTrait, ids: &[QueuedDelivery]) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.is_in(ids.iter().map(|(id, _)| id.0)))
        .filter(delivery::Column::State.eq(DELIVERY_PENDING))
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
        .filter(delivery::Column::State.eq(DELIVERY_PENDING));
    query = match list {
        InboxList::SortedPage => query
            .filter(delivery::Column::Inbox.gte(first.as_str()))
            .filter(delivery::Column::Inbox.lte(last.as_str())),
        InboxList::Unsorted => query.filter(delivery::Column::Inbox.is_in(inboxes.iter().cloned())),
    };
    Ok(queued(query.into_tuple::<(i64, i32)>().all(db).await?))
}

pub async fn delivery_by_id(db: &impl ConnectionTrait, id: DeliveryId) -> DbResult<Delivery> {
    Ok(delivery::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
}

/// Many deliveries by id, in one query (a worker loads a whole batch of jobs at once).
pub async fn deliveries_by_ids(
    db: &impl ConnectionTrait,
    ids: &[DeliveryId],
) -> DbResult<Vec<Delivery>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?
        .into_iter()
        .map(Delivery::from)
        .collect())
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
        .col_expr(delivery::Column::State, Expr::value(DELIVERY_DELIVERED))
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
    pub state: &'static str,
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
        .col_expr(delivery::Column::State, Expr::value(record.state))
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

/// Moves deliveries in state `from` (optionally to one server) back to pending and
/// returns them, to enqueue: a revived server's parked deliveries (which keep their
/// attempts), or dead letters an operator retries (`restart`: attempts begin again).
pub async fn requeue_deliveries(
    db: &impl ConnectionTrait,
    from: &str,
    authority: Option<&str>,
    limit: u64,
    restart: bool,
) -> DbResult<Vec<QueuedDelivery>> {
    let mut query = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::Attempts)
        .filter(delivery::Column::State.eq(from));
    if let Some(authority) = authority {
        query = query.filter(delivery::Column::Authority.eq(authority));
    }
    let rows = queued(
        query
            .order_by_asc(delivery::Column::Id)
            .limit(limit)
            .into_tuple::<(i64, i32)>()
            .all(db)
            .await?,
    );
    if rows.is_empty() {
        return Ok(rows);
    }
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(DELIVERY_PENDING))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(Utc::now()));
    if restart {
        update = update
            .col_expr(delivery::Column::Attempts, Expr::value(0))
            .col_expr(
                delivery::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                delivery::Column::LastStatus,
                Expr::value(Option::<i32>::None),
            );
    }
    update
        .filter(delivery::Column::Id.is_in(rows.iter().map(|(id, _)| id.0)))
        .filter(delivery::Column::State.eq(from))
        .exec(db)
        .await?;
    Ok(if restart {
        rows.into_iter().map(|(id, _)| (id, 0)).collect()
    } else {
        rows
    })
}

/// One parked delivery to `authority`, to probe the server with.
pub async fn parked_delivery(
    db: &impl ConnectionTrait,
    authority: &str,
) -> DbResult<Option<QueuedDelivery>> {
    Ok(queued(
        delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .column(delivery::Column::Attempts)
            .filter(delivery::Column::Authority.eq(authority))
            .filter(delivery::Column::State.eq(DELIVERY_PARKED))
            .order_by_desc(delivery::Column::Id)
            .into_tuple::<(i64, i32)>()
            .one(db)
            .await?
            .into_iter()
            .collect(),
    )
    .pop())
}

/// Deletes dead letters (failed deliveries), optionally to one server; returns how many.
pub async fn drop_failed_deliveries(
    db: &impl ConnectionTrait,
    authority: Option<&str>,
) -> DbResult<u64> {
    let mut query =
        delivery::Entity::delete_many().filter(delivery::Column::State.eq(DELIVERY_FAILED));
    if let Some(authority) = authority {
        query = query.filter(delivery::Column::Authority.eq(authority));
    }
    Ok(query.exec(db).await?.rows_affected)
}

/// Retrying deliveries overdue by more than `grace` at `now`: their retry was lost from
/// Redis (the sweeper re-enqueues them).
pub async fn overdue_retries(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    limit: u64,
) -> DbResult<Vec<QueuedDelivery>> {
    Ok(queued(
        overdue_retries_query(now - grace, limit)
            .into_tuple::<(i64, i32)>()
            .all(db)
            .await?,
    ))
}

#[derive(FromQueryResult)]
struct StateCount {
    state: String,
    count: i64,
}

/// How many deliveries (of `activity`, or of all) are in each state; every state is
/// present, with zero where none is.
pub async fn delivery_counts(
    db: &impl ConnectionTrait,
    activity: Option<Uuid>,
) -> DbResult<BTreeMap<String, u64>> {
    let mut query = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::State)
        .column_as(delivery::Column::Id.count(), "count");
    if let Some(activity) = activity {
        query = query.filter(delivery::Column::ActivityId.eq(activity.to_string()));
    }
    let rows = query
        .group_by(delivery::Column::State)
        .into_model::<StateCount>()
        .all(db)
        .await?;
    let mut counts: BTreeMap<String, u64> =
        DELIVERY_STATES.iter().map(|s| (s.to_string(), 0)).collect();
    for row in rows {
        counts.insert(row.state, u64::try_from(row.count).unwrap_or_default());
    }
    Ok(counts)
}

/// How many deliveries are in each state but `delivered` (the queue's backlog and its
/// dead letters), every such state present. Reads only those rows, through the state
/// index: delivered rows, by far the most, are not counted.
pub async fn backlog_counts(db: &impl ConnectionTrait) -> DbResult<BTreeMap<String, u64>> {
    let open = open_states();
    let rows = backlog_counts_query()
        .into_model::<StateCount>()
        .all(db)
        .await?;
    let mut counts: BTreeMap<String, u64> = open.iter().map(|s| (s.to_string(), 0)).collect();
    for row in rows {
        counts.insert(row.state, u64::try_from(row.count).unwrap_or_default());
    }
    Ok(counts)
}

/// The deliveries of `activity` that failed, are retrying or are parked, for the report.
pub async fn troubled_deliveries(
    db: &impl ConnectionTrait,
    activity: Uuid,
    limit: u64,
) -> DbResult<Vec<Delivery>> {
    Ok(troubled_deliveries_query(activity, limit)
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

/// Sets the due time of retrying deliveries (the sweeper re-enqueued them).
pub async fn reschedule_retries(
    db: &impl ConnectionTrait,
    ids: &[QueuedDelivery],
    due: DateTime<Utc>,
) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(Some(due)))
        .filter(delivery::Column::Id.is_in(ids.iter().map(|(id, _)| id.0)))
        .exec(db)
        .await?;
    Ok(())
}

// The hot queries' builders, shared with `plans` (which checks their indexes).

pub(super) fn stale_pending_fanouts_query(
    older_than: DateTime<Utc>,
    limit: u64,
) -> Select<fanout::Entity> {
    fanout::Entity::find()
        .select_only()
        .column(fanout::Column::Id)
        .filter(fanout::Column::State.eq(FANOUT_PENDING))
        .filter(fanout::Column::CreatedAt.lt(older_than))
        .order_by_asc(fanout::Column::Id)
        .limit(limit)
}

pub(super) fn stale_pending_deliveries_query(
    older_than: DateTime<Utc>,
    limit: u64,
) -> Select<delivery::Entity> {
    ids_in_state_before(
        DELIVERY_PENDING,
        delivery::Column::UpdatedAt,
        older_than,
        limit,
    )
}

pub(super) fn overdue_retries_query(
    due_before: DateTime<Utc>,
    limit: u64,
) -> Select<delivery::Entity> {
    ids_in_state_before(
        DELIVERY_RETRYING,
        delivery::Column::NextAttemptAt,
        due_before,
        limit,
    )
}

/// Ids and attempts of deliveries in `state` whose `time` is before `before`, oldest id
/// first.
fn ids_in_state_before(
    state: &str,
    time: delivery::Column,
    before: DateTime<Utc>,
    limit: u64,
) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::Attempts)
        .filter(delivery::Column::State.eq(state))
        .filter(time.lt(before))
        .order_by_asc(delivery::Column::Id)
        .limit(limit)
}

/// Every delivery state but `delivered`.
fn open_states() -> Vec<&'static str> {
    DELIVERY_STATES
        .iter()
        .copied()
        .filter(|s| *s != DELIVERY_DELIVERED)
        .collect()
}

pub(super) fn backlog_counts_query() -> Select<delivery::Entity> {
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::State)
        .column_as(delivery::Column::Id.count(), "count")
        .filter(delivery::Column::State.is_in(open_states()))
        .group_by(delivery::Column::State)
}

pub(super) fn troubled_deliveries_query(activity: Uuid, limit: u64) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(delivery::Column::ActivityId.eq(activity.to_string()))
        .filter(delivery::Column::State.is_in([
            DELIVERY_FAILED,
            DELIVERY_RETRYING,
            DELIVERY_PARKED,
        ]))
        .order_by_asc(delivery::Column::Authority)
        .limit(limit)
}

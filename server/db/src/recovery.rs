//! Putting deliveries back in the queue, or out of it for good: the sweeper's lost work
//! (pending deliveries whose stream entry never reached Redis, retries lost from its retry
//! set), a revived server's parked deliveries, and an operator's dead letters to retry or
//! delete. Each query returns `(id, attempts)` pairs for the caller to enqueue.

use super::{deliveries::queued, entities::delivery, DbResult, DeliveryState, QueuedDelivery};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

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
        .filter(delivery::Column::State.eq(DeliveryState::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves deliveries in state `from` (optionally to one server) back to pending and
/// returns them, to enqueue: a revived server's parked deliveries (which keep their
/// attempts), or dead letters an operator retries (`restart`: attempts begin again).
pub async fn requeue_deliveries(
    db: &impl ConnectionTrait,
    from: DeliveryState,
    authority: Option<&str>,
    limit: u64,
    restart: bool,
) -> DbResult<Vec<QueuedDelivery>> {
    let mut query = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::Attempts)
        .filter(delivery::Column::State.eq(from.as_str()));
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
        .col_expr(
            delivery::Column::State,
            Expr::value(DeliveryState::Pending.as_str()),
        )
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
        .filter(delivery::Column::State.eq(from.as_str()))
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
            .filter(delivery::Column::State.eq(DeliveryState::Parked.as_str()))
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
    let mut query = delivery::Entity::delete_many()
        .filter(delivery::Column::State.eq(DeliveryState::Failed.as_str()));
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

// The sweeper's queries, shared with `plans` (which checks their indexes).

pub(super) fn stale_pending_deliveries_query(
    older_than: DateTime<Utc>,
    limit: u64,
) -> Select<delivery::Entity> {
    ids_in_state_before(
        DeliveryState::Pending,
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
        DeliveryState::Retrying,
        delivery::Column::NextAttemptAt,
        due_before,
        limit,
    )
}

/// Ids and attempts of deliveries in `state` whose `time` is before `before`, oldest id
/// first.
fn ids_in_state_before(
    state: DeliveryState,
    time: delivery::Column,
    before: DateTime<Utc>,
    limit: u64,
) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::Attempts)
        .filter(delivery::Column::State.eq(state.as_str()))
        .filter(time.lt(before))
        .order_by_asc(delivery::Column::Id)
        .limit(limit)
}

//! What the delivery reports read: deliveries counted by state (a post's delivery status,
//! `herald deliveries status`, the backlog gauges of `/metrics`) and the deliveries of an
//! activity that are in trouble.

use super::{entities::delivery, DbResult, Delivery, DeliveryState};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use std::collections::BTreeMap;
use uuid::Uuid;

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
    let mut counts: BTreeMap<String, u64> = DeliveryState::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for row in rows {
        counts.insert(row.state, u64::try_from(row.count).unwrap_or_default());
    }
    Ok(counts)
}

/// How many deliveries are in each state but `delivered` (the queue's backlog and its
/// dead letters), every such state present. Reads only those rows, through the state
/// index: delivered rows, by far the most, are not counted.
pub async fn backlog_counts(db: &impl ConnectionTrait) -> DbResult<BTreeMap<String, u64>> {
    let rows = backlog_counts_query()
        .into_model::<StateCount>()
        .all(db)
        .await?;
    let mut counts: BTreeMap<String, u64> =
        open_states().map(|s| (s.as_str().to_string(), 0)).collect();
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
    troubled_deliveries_query(activity, limit)
        .all(db)
        .await?
        .into_iter()
        .map(Delivery::try_from)
        .collect()
}

/// Every delivery state but `delivered`: the backlog and its dead letters.
fn open_states() -> impl Iterator<Item = DeliveryState> {
    DeliveryState::ALL
        .iter()
        .copied()
        .filter(|s| *s != DeliveryState::Delivered)
}

// The reports' queries, shared with `plans` (which checks their indexes).

pub(super) fn backlog_counts_query() -> Select<delivery::Entity> {
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::State)
        .column_as(delivery::Column::Id.count(), "count")
        .filter(delivery::Column::State.is_in(open_states().map(DeliveryState::as_str)))
        .group_by(delivery::Column::State)
}

pub(super) fn troubled_deliveries_query(activity: Uuid, limit: u64) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(delivery::Column::ActivityId.eq(activity.to_string()))
        .filter(
            delivery::Column::State.is_in(
                [
                    DeliveryState::Failed,
                    DeliveryState::Retrying,
                    DeliveryState::Parked,
                ]
                .map(DeliveryState::as_str),
            ),
        )
        .order_by_asc(delivery::Column::Authority)
        .limit(limit)
}

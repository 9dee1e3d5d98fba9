//! Fan-outs: one per broadcast activity, created pending with its post (see `posts`) and
//! marked done once a worker has expanded it into one delivery per inbox. The sweeper finds
//! pending fan-outs that never reached Redis; the delivery report shows a post's fan-out.

use super::{entities::fanout, DbError, DbResult, FanoutState};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FanoutId(pub i64);

#[derive(Clone, Debug)]
pub struct Fanout {
    pub id: FanoutId,
    pub activity_id: Uuid,
    pub state: FanoutState,
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
            state: FanoutState::from_stored(&m.state)?,
            created_at: m.created_at,
            extra_inboxes: super::policy::from_json(m.extra_inboxes.as_deref()),
        })
    }
}

pub async fn fanout_by_id(db: &impl ConnectionTrait, id: FanoutId) -> DbResult<Fanout> {
    fanout::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
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

/// Marks a fan-out expanded: its deliveries exist, and a repeated job leaves it alone.
pub async fn finish_fanout(db: &impl ConnectionTrait, id: FanoutId) -> DbResult<()> {
    fanout::Entity::update_many()
        .col_expr(
            fanout::Column::State,
            Expr::value(FanoutState::Done.as_str()),
        )
        .col_expr(fanout::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(fanout::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The sweeper's query for lost fan-outs, shared with `plans` (which checks its index).
pub(super) fn stale_pending_fanouts_query(
    older_than: DateTime<Utc>,
    limit: u64,
) -> Select<fanout::Entity> {
    fanout::Entity::find()
        .select_only()
        .column(fanout::Column::Id)
        .filter(fanout::Column::State.eq(FanoutState::Pending.as_str()))
        .filter(fanout::Column::CreatedAt.lt(older_than))
        .order_by_asc(fanout::Column::Id)
        .limit(limit)
}

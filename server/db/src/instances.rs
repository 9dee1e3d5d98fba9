//! Remote servers' health: consecutive failures, and whether a server is unreachable (its
//! deliveries parked until a probe or an inbound request shows it is back).

use super::{entities::instance, DbResult};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

pub const HOST_OK: &str = "ok";
pub const HOST_UNREACHABLE: &str = "unreachable";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Host, and port when not the default.
    pub authority: String,
    pub unreachable: bool,
    pub consecutive_failures: u32,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub next_probe_at: Option<DateTime<Utc>>,
}

impl From<instance::Model> for Instance {
    fn from(m: instance::Model) -> Instance {
        Instance {
            unreachable: m.state == HOST_UNREACHABLE,
            authority: m.authority,
            consecutive_failures: u32::try_from(m.consecutive_failures).unwrap_or_default(),
            failing_since: m.failing_since,
            last_failure_at: m.last_failure_at,
            last_error: m.last_error,
            next_probe_at: m.next_probe_at,
        }
    }
}

/// When a failing server counts as unreachable.
#[derive(Clone, Copy, Debug)]
pub struct HealthPolicy {
    /// At least this many failures in a row …
    pub min_failures: u32,
    /// … spanning at least this long.
    pub failing_for: Duration,
    /// How long after being marked (or after a failed probe) the next probe is due.
    pub probe_interval: Duration,
}

pub async fn instance_by_authority(
    db: &impl ConnectionTrait,
    authority: &str,
) -> DbResult<Option<Instance>> {
    Ok(instance::Entity::find_by_id(authority.to_string())
        .one(db)
        .await?
        .map(Instance::from))
}

/// Records a failed attempt to reach `authority` at `now`, marking the server unreachable
/// when `policy` says so. Returns the server's state afterwards.
pub async fn record_host_failure(
    db: &DatabaseConnection,
    authority: &str,
    error: &str,
    now: DateTime<Utc>,
    policy: HealthPolicy,
) -> DbResult<Instance> {
    let txn = db.begin().await?;
    let existing = instance::Entity::find_by_id(authority.to_string())
        .one(&txn)
        .await?;
    let model = match existing {
        None => {
            instance::ActiveModel {
                authority: Set(authority.to_string()),
                state: Set(HOST_OK.to_string()),
                consecutive_failures: Set(1),
                failing_since: Set(Some(now)),
                last_failure_at: Set(Some(now)),
                last_error: Set(Some(error.to_string())),
                next_probe_at: Set(None),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
        Some(model) => {
            let failures = model.consecutive_failures.saturating_add(1);
            let since = model.failing_since.unwrap_or(now);
            let was_unreachable = model.state == HOST_UNREACHABLE;
            let mut active = model.into_active_model();
            active.consecutive_failures = Set(failures);
            active.failing_since = Set(Some(since));
            active.last_failure_at = Set(Some(now));
            active.last_error = Set(Some(error.to_string()));
            active.updated_at = Set(now);
            let threshold = u32::try_from(failures).unwrap_or_default() >= policy.min_failures
                && now - since >= policy.failing_for;
            if was_unreachable || threshold {
                active.state = Set(HOST_UNREACHABLE.to_string());
                active.next_probe_at = Set(Some(now + policy.probe_interval));
            }
            active.update(&txn).await?
        }
    };
    txn.commit().await?;
    Ok(model.into())
}

/// Records that `authority` answered: its failures are forgotten and, if it was
/// unreachable, it is reachable again. Returns true when it was unreachable.
pub async fn record_host_success(db: &impl ConnectionTrait, authority: &str) -> DbResult<bool> {
    let was_unreachable = instance::Entity::find()
        .filter(instance::Column::Authority.eq(authority))
        .filter(instance::Column::State.eq(HOST_UNREACHABLE))
        .count(db)
        .await?
        > 0;
    instance::Entity::update_many()
        .col_expr(instance::Column::State, Expr::value(HOST_OK))
        .col_expr(instance::Column::ConsecutiveFailures, Expr::value(0))
        .col_expr(
            instance::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            instance::Column::NextProbeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(instance::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(instance::Column::Authority.eq(authority))
        .filter(
            Condition::any()
                .add(instance::Column::ConsecutiveFailures.gt(0))
                .add(instance::Column::State.ne(HOST_OK)),
        )
        .exec(db)
        .await?;
    Ok(was_unreachable)
}

/// Servers with failures on record (failing or unreachable).
pub async fn troubled_instances(db: &impl ConnectionTrait) -> DbResult<Vec<Instance>> {
    Ok(instance::Entity::find()
        .filter(
            Condition::any()
                .add(instance::Column::ConsecutiveFailures.gt(0))
                .add(instance::Column::State.eq(HOST_UNREACHABLE)),
        )
        .order_by_asc(instance::Column::Authority)
        .all(db)
        .await?
        .into_iter()
        .map(Instance::from)
        .collect())
}

/// Unreachable servers whose probe is due at `now`; their next probe is pushed back by
/// `interval` in the same call, so concurrent probers do not probe twice.
pub async fn take_due_probes(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    interval: Duration,
    limit: u64,
) -> DbResult<Vec<String>> {
    let due: Vec<String> = instance::Entity::find()
        .select_only()
        .column(instance::Column::Authority)
        .filter(instance::Column::State.eq(HOST_UNREACHABLE))
        .filter(instance::Column::NextProbeAt.lte(now))
        .order_by_asc(instance::Column::NextProbeAt)
        .limit(limit)
        .into_tuple::<String>()
        .all(db)
        .await?;
    if !due.is_empty() {
        instance::Entity::update_many()
            .col_expr(instance::Column::NextProbeAt, Expr::value(now + interval))
            .filter(instance::Column::Authority.is_in(due.iter().cloned()))
            .exec(db)
            .await?;
    }
    Ok(due)
}

//! The delivery worker: its shared state (connection pool, HTTP clients, caches of
//! prepared activities, server health and domain blocks), its settings, its clock, and the
//! slots its jobs run in.
//!
//! What a worker does is split by step: `jobs` reads entries from the streams and runs
//! each in a slot, `fanout` expands a fan-out into deliveries, `attempt` sends one delivery
//! and records its outcome, and `maintenance` sweeps the database for lost work. One worker
//! runs up to `delivery.concurrency` jobs at a time, at most `delivery.per_host` of them to
//! one server.

use super::{
    delivered::DeliveredWriter,
    error::DeliveryError,
    health::{HostHealth, MIN_FAILURES},
    queue::Queue,
    send::Preparer,
};
use crate::{
    config::Config,
    db::{self, DatabaseConnection, HealthPolicy},
    metrics::Metrics,
};
use chrono::{DateTime, Utc};
use std::{sync::Arc, time::Duration};
use tokio::sync::Semaphore;

/// How long a request may hold one of the worker's `concurrency` slots. A server that has
/// not answered by then moves to the slow lane (up to `SLOW_LANE_FACTOR × concurrency`
/// requests that only wait), so servers that hang cannot starve the live ones.
pub(super) const SLOW_AFTER: Duration = Duration::from_secs(1);
/// Slow-lane slots per regular slot: a slow request only waits, so it costs little.
pub(super) const SLOW_LANE_FACTOR: usize = 8;

/// The slot a job runs in: one of `concurrency`, or of the slow lane once its request is
/// slow. `None` when a caller runs jobs without a budget (`run_once`).
pub(super) struct Slot(pub(super) Option<tokio::sync::OwnedSemaphorePermit>);

impl Slot {
    /// Trades the regular slot for a slow-lane one, when the slow lane has room.
    pub(super) fn go_slow(&mut self, slow_lane: &Arc<Semaphore>) {
        if self.0.is_some() {
            if let Ok(slow) = slow_lane.clone().try_acquire_owned() {
                self.0 = Some(slow);
            }
        }
    }
}

/// Where a worker gets the time: the system clock, or a test's.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The worker's share of the `delivery` configuration.
pub(super) struct Settings {
    pub(super) concurrency: usize,
    pub(super) max_attempts: u32,
    /// Debug mode: inboxes on plain HTTP or private addresses are allowed (tests).
    pub(super) debug: bool,
    /// Entries unacknowledged for this long are claimed from the worker that took them:
    /// twice the request timeout and then some, longer than the slowest legitimate
    /// attempt (a request plus a few database writes), so a live job is not run twice.
    pub(super) claim_idle: Duration,
    /// How long in-flight jobs may take to finish at shutdown; the rest are claimed later.
    pub(super) shutdown_grace: Duration,
}

/// A delivery worker; clones share one connection pool, caches and settings.
#[derive(Clone)]
pub struct Worker(pub(super) Arc<WorkerInner>);

pub(super) struct WorkerInner {
    pub(super) db: DatabaseConnection,
    pub(super) queue: Queue,
    /// Keeps connections alive, for servers with several requests in a row.
    pub(super) pooled: reqwest::Client,
    /// Closes each connection after its request, for the rest.
    pub(super) one_shot: reqwest::Client,
    pub(super) preparer: Preparer,
    pub(super) health: HostHealth,
    /// Domain blocks: nothing is delivered to a blocked server.
    pub(super) blocks: db::BlockSnapshot,
    /// Writes successful deliveries in batches.
    pub(super) delivered: DeliveredWriter,
    pub(super) slow_lane: Arc<Semaphore>,
    pub(super) settings: Settings,
    /// This worker's consumer name in the streams' group: unique per process and worker.
    pub(super) name: String,
    pub(super) clock: Clock,
    pub(super) metrics: Metrics,
}

impl Worker {
    /// A worker counting what it does in `metrics`.
    pub fn new(
        config: &Config,
        db: DatabaseConnection,
        queue: Queue,
        metrics: Metrics,
    ) -> Result<Worker, DeliveryError> {
        Worker::with_clock(config, db, queue, metrics, Arc::new(Utc::now))
    }

    /// A worker that reads the time from `clock` (tests move it forward by days).
    pub fn with_clock(
        config: &Config,
        db: DatabaseConnection,
        queue: Queue,
        metrics: Metrics,
        clock: Clock,
    ) -> Result<Worker, DeliveryError> {
        let delivery = &config.delivery;
        let user_agent = super::user_agent(config);
        let pooled = herald_base::guard::http_client(config.debug, delivery.timeout, &user_agent)?;
        let one_shot =
            herald_base::guard::one_shot_client(config.debug, delivery.timeout, &user_agent)?;
        let policy = HealthPolicy {
            min_failures: MIN_FAILURES,
            failing_for: chrono::Duration::from_std(delivery.unreachable_after).unwrap_or_default(),
            probe_interval: chrono::Duration::from_std(delivery.probe_interval).unwrap_or_default(),
        };
        Ok(Worker(Arc::new(WorkerInner {
            queue,
            pooled,
            one_shot,
            preparer: Preparer::default(),
            health: HostHealth::new(delivery.per_host, policy),
            blocks: db::BlockSnapshot::default(),
            delivered: DeliveredWriter::new(db.clone()),
            slow_lane: Arc::new(Semaphore::new(delivery.concurrency * SLOW_LANE_FACTOR)),
            db,
            settings: Settings {
                concurrency: delivery.concurrency,
                max_attempts: delivery.max_attempts,
                debug: config.debug,
                claim_idle: delivery.timeout * 2 + Duration::from_secs(2),
                shutdown_grace: config.shutdown_timeout,
            },
            name: format!(
                "worker-{}-{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            ),
            clock,
            metrics,
        })))
    }

    /// The time by the worker's clock.
    pub(super) fn now(&self) -> DateTime<Utc> {
        (self.0.clock)()
    }

    /// The time by the worker's clock, in Unix milliseconds (the retry set's scores).
    pub(super) fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

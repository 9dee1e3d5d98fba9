//! Delivery workers: read jobs from the streams, expand fan-outs into deliveries, sign and
//! POST each delivery, record the outcome, and only then acknowledge the entry.
//!
//! One worker runs up to `delivery.concurrency` jobs at a time, at most `delivery.per_host`
//! of them to one server. Between reads it moves due retries into the stream, claims
//! entries a dead worker left (XAUTOCLAIM), and sweeps the database for work that never
//! reached Redis (see `maintenance`). [`Worker::run_once`] does one pass without waiting,
//! so tests drive the queue to empty instead of sleeping.

use super::{
    delivered::DeliveredWriter,
    health::{HealthError, HostHealth, MIN_FAILURES},
    outcome::{self, Outcome},
    queue::{Job, JobKind, Queue, QueueError},
    send::{self, PrepareError, Preparer},
};
use crate::{
    config::Config,
    db::{self, AttemptRecord, DatabaseConnection, DbError, DeliveryId, FanoutId, HealthPolicy},
    db::{DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_PARKED, DELIVERY_RETRYING},
    metrics::{DeliveryOutcome, Metrics},
};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;

/// Followers' inboxes read per database page during fan-out expansion.
const FANOUT_PAGE: u64 = 1000;
/// How long a blocking read waits for new jobs before doing maintenance again.
const READ_BLOCK: Duration = Duration::from_secs(1);
/// New jobs read at most per call.
const READ_BATCH: usize = 512;
/// How often entries held by dead workers are claimed (or every `claim_idle`, if shorter).
const CLAIM_EVERY: Duration = Duration::from_secs(30);
/// How often the database is swept for lost work and servers due for a probe.
pub(super) const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How long a delivery waits when its server already has `per_host` requests in flight.
const HOST_BUSY_DELAY: Duration = Duration::from_millis(250);

/// How long a request may hold one of the worker's `concurrency` slots. A server that has
/// not answered by then moves to the slow lane (up to `SLOW_LANE_FACTOR × concurrency`
/// requests that only wait), so servers that hang cannot starve the live ones.
const SLOW_AFTER: Duration = Duration::from_secs(1);
const SLOW_LANE_FACTOR: usize = 8;

/// The slot a job runs in: one of `concurrency`, or of the slow lane once its request is
/// slow. `None` when a caller runs jobs without a budget (`run_once`).
pub(super) struct Slot(Option<tokio::sync::OwnedSemaphorePermit>);

impl Slot {
    /// Trades the regular slot for a slow-lane one, when the slow lane has room.
    fn go_slow(&mut self, slow_lane: &Arc<Semaphore>) {
        if self.0.is_some() {
            if let Ok(slow) = slow_lane.clone().try_acquire_owned() {
                self.0 = Some(slow);
            }
        }
    }
}

/// A job's delivery row, loaded with its batch.
enum Preloaded {
    Row(db::Delivery),
    /// The batch query found no such delivery (its channel was deleted).
    Missing,
    /// Not loaded (a fan-out job, or the batch query failed): the job loads it.
    NotLoaded,
}

/// Where a worker gets the time: the system clock, or a test's.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Health(#[from] HealthError),
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

pub(super) struct Settings {
    concurrency: usize,
    max_attempts: u32,
    debug: bool,
    /// Entries unacknowledged for this long are claimed from the worker that took them:
    /// twice the request timeout and then some, longer than the slowest legitimate
    /// attempt (a request plus a few database writes), so a live job is not run twice.
    claim_idle: Duration,
    /// How long in-flight jobs may take to finish at shutdown; the rest are claimed later.
    shutdown_grace: Duration,
}

/// A delivery worker; clones share one connection pool, caches and settings.
#[derive(Clone)]
pub struct Worker(pub(super) Arc<WorkerInner>);

pub(super) struct WorkerInner {
    pub(super) db: DatabaseConnection,
    pub(super) queue: Queue,
    /// Keeps connections alive, for servers with several requests in a row.
    pooled: reqwest::Client,
    /// Closes each connection after its request, for the rest.
    one_shot: reqwest::Client,
    preparer: Preparer,
    pub(super) health: HostHealth,
    /// Domain blocks: nothing is delivered to a blocked server.
    blocks: db::BlockSnapshot,
    delivered: DeliveredWriter,
    slow_lane: Arc<Semaphore>,
    settings: Settings,
    name: String,
    clock: Clock,
    metrics: Metrics,
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

    pub(super) fn now(&self) -> DateTime<Utc> {
        (self.0.clock)()
    }

    fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Runs until `shutdown` turns true (or its sender is dropped), then lets in-flight
    /// jobs finish for a while; unfinished ones stay unacknowledged and are claimed later.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), DeliveryError> {
        let mut consumer = self.0.queue.consumer(&self.0.name, READ_BLOCK).await?;
        let concurrency = self.0.settings.concurrency;
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut last_claim = Instant::now();
        let mut last_sweep: Option<Instant> = None;
        tracing::info!(worker = %self.0.name, concurrency, "delivery worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            if let Err(e) = self.0.queue.move_due_retries(self.now_millis()).await {
                tracing::warn!(error = %e, "could not move due retries");
            }
            let mut jobs = Vec::new();
            if last_claim.elapsed() >= CLAIM_EVERY.min(self.0.settings.claim_idle) {
                last_claim = Instant::now();
                match consumer.claim_stale(self.0.settings.claim_idle, 100).await {
                    Ok(claimed) => jobs.extend(claimed),
                    Err(e) => tracing::warn!(error = %e, "could not claim stale jobs"),
                }
            }
            if last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
                last_sweep = Some(Instant::now());
                if let Err(e) = self.sweep().await {
                    tracing::warn!(error = %crate::error_chain(&e), "sweep failed");
                }
            }
            let first = tokio::select! {
                permit = permits.clone().acquire_owned() => permit,
                _ = shutdown.changed() => break,
            };
            let Ok(first) = first else { break };
            let free = permits.available_permits() + 1;
            let read = tokio::select! {
                read = consumer.read(free.min(READ_BATCH), Some(READ_BLOCK)) => read,
                _ = shutdown.changed() => break,
            };
            match read {
                Ok(read) => jobs.extend(read),
                Err(e) => {
                    tracing::warn!(error = %e, "could not read jobs; retrying in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            let mut first = Some(first);
            for (job, preloaded) in self.preload(jobs).await {
                let permit = match first.take() {
                    Some(permit) => permit,
                    None => match permits.clone().acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                };
                let worker = self.clone();
                tokio::spawn(async move {
                    let mut slot = Slot(Some(permit));
                    worker.process(job, preloaded, &mut slot).await;
                    drop(slot);
                });
            }
        }
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        let slow = u32::try_from(concurrency * SLOW_LANE_FACTOR).unwrap_or(u32::MAX);
        let drained = async {
            let _regular = permits.acquire_many(all).await;
            let _slow = self.0.slow_lane.acquire_many(slow).await;
        };
        if tokio::time::timeout(self.0.settings.shutdown_grace, drained)
            .await
            .is_err()
        {
            tracing::warn!("shutdown: unfinished deliveries will be claimed by another worker");
        }
        tracing::info!(worker = %self.0.name, "delivery worker stopped");
        Ok(())
    }

    /// One pass without waiting: move due retries, claim stale entries, read what is
    /// queued, and handle all of it. Returns how many jobs were handled.
    pub async fn run_once(&self) -> Result<usize, DeliveryError> {
        self.0.queue.move_due_retries(self.now_millis()).await?;
        let mut consumer = self.0.queue.consumer(&self.0.name, Duration::ZERO).await?;
        let mut jobs = consumer
            .claim_stale(self.0.settings.claim_idle, 100)
            .await?;
        jobs.extend(consumer.read(10_000, None).await?);
        let handled = jobs.len();
        futures::stream::iter(self.preload(jobs).await)
            .for_each_concurrent(self.0.settings.concurrency, |(job, preloaded)| async move {
                self.process(job, preloaded, &mut Slot(None)).await
            })
            .await;
        Ok(handled)
    }

    /// Runs passes until one finds nothing to do; returns the jobs handled in all.
    pub async fn drain(&self) -> Result<usize, DeliveryError> {
        let mut total = 0;
        loop {
            let handled = self.run_once().await?;
            if handled == 0 {
                return Ok(total);
            }
            total += handled;
        }
    }

    /// Loads the delivery rows of a batch of jobs in one query.
    async fn preload(&self, jobs: Vec<Job>) -> Vec<(Job, Preloaded)> {
        let ids: Vec<DeliveryId> = jobs
            .iter()
            .filter_map(|job| match job.kind {
                Some(JobKind::Deliver { id, .. }) => Some(id),
                _ => None,
            })
            .collect();
        let rows = match db::deliveries_by_ids(&self.0.db, &ids).await {
            Ok(rows) => rows,
            // Each job loads its own row instead.
            Err(_) => {
                return jobs
                    .into_iter()
                    .map(|j| (j, Preloaded::NotLoaded))
                    .collect()
            }
        };
        let mut rows: std::collections::HashMap<DeliveryId, db::Delivery> =
            rows.into_iter().map(|d| (d.id, d)).collect();
        jobs.into_iter()
            .map(|job| {
                let preloaded = match job.kind {
                    Some(JobKind::Deliver { id, .. }) => match rows.remove(&id) {
                        Some(row) => Preloaded::Row(row),
                        None => Preloaded::Missing,
                    },
                    _ => Preloaded::NotLoaded,
                };
                (job, preloaded)
            })
            .collect()
    }

    /// Handles a job and acknowledges it once its result is recorded. A job that fails
    /// for a local reason (database down) stays unacknowledged and is claimed again.
    async fn process(&self, job: Job, preloaded: Preloaded, slot: &mut Slot) {
        let result = match job.kind {
            Some(JobKind::Fanout(id)) => self.expand_fanout(id).await.map(|()| false),
            Some(JobKind::Deliver {
                id,
                attempts,
                probe,
            }) => self.deliver(id, attempts, probe, preloaded, slot).await,
            None => {
                tracing::warn!(stream = job.stream, "dropping a malformed queue entry");
                Ok(false)
            }
        };
        match result {
            Ok(claimed) => {
                if let Err(e) = self.0.queue.ack(&job, claimed).await {
                    tracing::warn!(error = %e, "could not acknowledge a job; it will run again");
                }
            }
            Err(e) => {
                tracing::error!(error = %crate::error_chain(&e), "job failed; it will be retried");
            }
        }
    }

    /// Expands a fan-out into one delivery per distinct inbox, a page at a time, and
    /// enqueues them (what a fan-out job does; public for `herald bench expand`).
    pub async fn expand_fanout(&self, id: FanoutId) -> Result<(), DeliveryError> {
        let db = &self.0.db;
        let fanout = match db::fanout_by_id(db, id).await {
            Ok(fanout) => fanout,
            // The channel (and with it the fan-out) was deleted meanwhile.
            Err(DbError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if fanout.state == db::FANOUT_DONE {
            return Ok(());
        }
        let activity = db::activity_by_id(db, fanout.activity_id).await?;
        let mut after: Option<String> = None;
        let mut inboxes = 0;
        loop {
            let page =
                db::follower_inbox_page(db, activity.channel_id, after.as_deref(), FANOUT_PAGE)
                    .await?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            let queued =
                db::insert_deliveries(db, activity.id, &page, db::InboxList::SortedPage).await?;
            self.0.queue.enqueue_deliveries(&queued).await?;
            inboxes += page.len();
            if (page.len() as u64) < FANOUT_PAGE {
                break;
            }
            after = Some(last);
        }
        if !fanout.extra_inboxes.is_empty() {
            // Mentioned actors' servers; one that is also a follower's keeps its delivery.
            let queued = db::insert_deliveries(
                db,
                activity.id,
                &fanout.extra_inboxes,
                db::InboxList::Unsorted,
            )
            .await?;
            self.0.queue.enqueue_deliveries(&queued).await?;
            inboxes += fanout.extra_inboxes.len();
        }
        db::finish_fanout(db, id).await?;
        let lag = (self.now() - fanout.created_at)
            .to_std()
            .unwrap_or_default();
        self.0.metrics.fanout_lag(lag);
        tracing::debug!(activity = %activity.id, inboxes, "fan-out expanded");
        Ok(())
    }

    /// Sends one delivery (unless it is a stale duplicate, or its server is unreachable
    /// or busy) and records what came of it. True when this worker claimed the attempt.
    async fn deliver(
        &self,
        id: DeliveryId,
        queued_attempts: u32,
        probe: bool,
        preloaded: Preloaded,
        slot: &mut Slot,
    ) -> Result<bool, DeliveryError> {
        let db = &self.0.db;
        let delivery = match preloaded {
            Preloaded::Row(delivery) => delivery,
            Preloaded::Missing => return Ok(false),
            Preloaded::NotLoaded => match db::delivery_by_id(db, id).await {
                Ok(delivery) => delivery,
                Err(DbError::NotFound) => return Ok(false),
                Err(e) => return Err(e.into()),
            },
        };
        let state = delivery.state.as_str();
        let done = state == DELIVERY_DELIVERED || state == DELIVERY_FAILED;
        if done || (state == DELIVERY_PARKED && !probe) || delivery.attempts != queued_attempts {
            // A duplicate or outdated entry (at-least-once): nothing to do.
            return Ok(false);
        }
        let authority = delivery.authority.clone();
        let attempts = delivery.attempts;
        if !probe && self.0.health.is_unreachable(db, &authority).await? {
            self.0.metrics.delivery(DeliveryOutcome::Parked);
            return self
                .record(
                    id,
                    DELIVERY_PARKED,
                    attempts,
                    None,
                    Some("the server is unreachable".into()),
                    None,
                )
                .await
                .map(|()| false);
        }
        let Some(_host_slot) = self.0.health.try_permit(&authority) else {
            let due = self.now_millis() + i64::try_from(HOST_BUSY_DELAY.as_millis()).unwrap_or(0);
            self.0.queue.schedule_retry(id, attempts, due).await?;
            return Ok(false);
        };
        if !self
            .0
            .queue
            .claim_attempt(id, attempts + 1, self.0.settings.claim_idle)
            .await?
        {
            return Ok(false);
        }
        self.attempt(&delivery, slot).await.map(|()| true)
    }

    async fn attempt(&self, delivery: &db::Delivery, slot: &mut Slot) -> Result<(), DeliveryError> {
        let db = &self.0.db;
        let id = delivery.id;
        let authority = delivery.authority.as_str();
        let prepared = self.0.preparer.get(db, delivery.activity_id).await?;
        if self
            .0
            .blocks
            .is_blocked(db, authority, Some(prepared.channel_id))
            .await?
        {
            tracing::info!(server = %authority, "domain blocked: not delivered");
            self.0.metrics.delivery(DeliveryOutcome::Blocked);
            return self
                .record(
                    id,
                    DELIVERY_FAILED,
                    delivery.attempts,
                    None,
                    Some("the domain is blocked".into()),
                    None,
                )
                .await;
        }
        let attempt = delivery.attempts + 1;
        let span = tracing::info_span!("deliver", server = %authority, attempt);
        let client = if self
            .0
            .health
            .used_recently(authority, herald_base::guard::KEEP_ALIVE)
        {
            &self.0.pooled
        } else {
            &self.0.one_shot
        };
        let send = send::send(client, self.0.settings.debug, &prepared, &delivery.inbox)
            .instrument(span.clone());
        tokio::pin!(send);
        let started = Instant::now();
        let outcome = tokio::select! {
            outcome = &mut send => outcome,
            () = tokio::time::sleep(SLOW_AFTER) => {
                slot.go_slow(&self.0.slow_lane);
                send.await
            }
        };
        self.0.metrics.delivery_latency(started.elapsed());
        let metrics = &self.0.metrics;
        // Everything logged from here on is about this delivery (a span entered and held
        // across awaits would lend its fields to other tasks' lines).
        async {
            let answered = matches!(
                outcome,
                Outcome::Delivered(_)
                    | Outcome::Gone
                    | Outcome::Rejected {
                        status: Some(_),
                        ..
                    }
            );
            if answered {
                self.0.health.success(db, &self.0.queue, authority).await?;
            }
            match outcome {
                Outcome::Delivered(status) => {
                    tracing::debug!(status, "delivered");
                    metrics.delivery(DeliveryOutcome::Delivered);
                    self.0.delivered.record(id, status).await
                }
                Outcome::Gone => {
                    let removed =
                        db::remove_followers_with_inbox(db, prepared.channel_id, &delivery.inbox)
                            .await?;
                    tracing::info!(removed, "inbox is gone (410)");
                    metrics.delivery(DeliveryOutcome::Gone);
                    self.record(
                        id,
                        DELIVERY_FAILED,
                        attempt,
                        Some(410),
                        Some("410 Gone".into()),
                        None,
                    )
                    .await
                }
                Outcome::Rejected { status, reason } => {
                    tracing::info!(%reason, "delivery rejected");
                    metrics.delivery(DeliveryOutcome::Rejected);
                    self.record(id, DELIVERY_FAILED, attempt, status, Some(reason), None)
                        .await
                }
                Outcome::Retry {
                    status,
                    reason,
                    after,
                } => {
                    let now = self.now();
                    let server = self.0.health.failure(db, authority, &reason, now).await?;
                    if server.unreachable {
                        tracing::info!(%reason, "server unreachable: delivery parked");
                        metrics.delivery(DeliveryOutcome::Parked);
                        return self
                            .record(id, DELIVERY_PARKED, attempt, status, Some(reason), None)
                            .await;
                    }
                    if attempt >= self.0.settings.max_attempts {
                        tracing::info!(%reason, "giving up after the last attempt");
                        metrics.delivery(DeliveryOutcome::Dead);
                        let reason = format!("gave up after {attempt} attempts; last: {reason}");
                        return self
                            .record(id, DELIVERY_FAILED, attempt, status, Some(reason), None)
                            .await;
                    }
                    let wait =
                        after.unwrap_or_else(|| outcome::backoff(attempt, &mut rand::thread_rng()));
                    let due = now + chrono::Duration::from_std(wait).unwrap_or_default();
                    tracing::debug!(%reason, wait_secs = wait.as_secs(), "delivery will be retried");
                    metrics.delivery(DeliveryOutcome::Retrying);
                    self.record(
                        id,
                        DELIVERY_RETRYING,
                        attempt,
                        status,
                        Some(reason),
                        Some(due),
                    )
                    .await?;
                    self.0
                        .queue
                        .schedule_retry(id, attempt, due.timestamp_millis())
                        .await?;
                    Ok(())
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn record(
        &self,
        id: DeliveryId,
        state: &'static str,
        attempts: u32,
        status: Option<u16>,
        error: Option<String>,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> Result<(), DeliveryError> {
        db::record_attempt(
            &self.0.db,
            id,
            AttemptRecord {
                state,
                attempts,
                status,
                error,
                next_attempt_at,
            },
        )
        .await?;
        Ok(())
    }
}

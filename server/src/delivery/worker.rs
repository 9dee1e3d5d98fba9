//! Delivery workers: read jobs from the streams, expand fan-outs into deliveries, sign and
//! POST each delivery, record the outcome, and only then acknowledge the entry.
//!
//! One worker runs up to `delivery.concurrency` jobs at a time. Between reads it moves due
//! retries into the stream, claims entries a dead worker left (XAUTOCLAIM), and sweeps the
//! database for work that never reached Redis. [`Worker::run_once`] does one pass without
//! waiting, so tests drive the queue to empty instead of sleeping.

use super::{
    guard,
    outcome::{self, Outcome},
    queue::{Job, JobKind, Queue, QueueError},
    signing::{self, KeyCache, SignError},
};
use crate::{
    config::Config,
    db::{self, DbError, DeliveryId, DeliveryWork, FanoutId},
    db::{DatabaseConnection, DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_RETRYING},
};
use chrono::Utc;
use futures::StreamExt;
use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;
use url::Url;

/// Followers' inboxes read per database page during fan-out expansion.
const FANOUT_PAGE: u64 = 1000;
/// How long a blocking read waits for new jobs before doing maintenance again.
const READ_BLOCK: Duration = Duration::from_secs(1);
/// New jobs read at most per call.
const READ_BATCH: usize = 256;
/// How often entries held by dead workers are claimed.
const CLAIM_EVERY: Duration = Duration::from_secs(30);
/// How often the database is swept for work that never reached Redis.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Work committed this long ago and still pending is assumed lost on its way to Redis.
const SWEEP_AGE: chrono::Duration = chrono::Duration::minutes(2);
/// How long in-flight jobs may take to finish at shutdown; the rest are claimed later.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);
/// The most of a remote answer's body that is read (and then discarded).
const MAX_RESPONSE_BODY: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

struct Settings {
    concurrency: usize,
    max_attempts: u32,
    debug: bool,
    /// Entries unacknowledged for this long are claimed from the worker that took them:
    /// longer than the slowest legitimate attempt, so a live job is not run twice.
    claim_idle: Duration,
}

/// A delivery worker; clones share one connection pool, key cache and settings.
#[derive(Clone)]
pub struct Worker(Arc<WorkerInner>);

struct WorkerInner {
    db: DatabaseConnection,
    queue: Queue,
    client: reqwest::Client,
    keys: KeyCache,
    settings: Settings,
    name: String,
}

impl Worker {
    pub fn new(
        config: &Config,
        db: DatabaseConnection,
        queue: Queue,
    ) -> Result<Worker, DeliveryError> {
        let timeout = config.delivery.timeout;
        let client = guard::http_client(config.debug, timeout, &super::user_agent(config))?;
        Ok(Worker(Arc::new(WorkerInner {
            db,
            queue,
            client,
            keys: KeyCache::default(),
            settings: Settings {
                concurrency: config.delivery.concurrency,
                max_attempts: config.delivery.max_attempts,
                debug: config.debug,
                claim_idle: timeout * 3 + Duration::from_secs(30),
            },
            name: format!(
                "worker-{}-{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            ),
        })))
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
            if let Err(e) = self.0.queue.move_due_retries(now_millis()).await {
                tracing::warn!(error = %e, "could not move due retries");
            }
            let mut jobs = Vec::new();
            if last_claim.elapsed() >= CLAIM_EVERY {
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
            for job in jobs {
                let permit = match first.take() {
                    Some(permit) => permit,
                    None => match permits.clone().acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                };
                let worker = self.clone();
                tokio::spawn(async move {
                    worker.process(job).await;
                    drop(permit);
                });
            }
        }
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        if tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all))
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
        self.0.queue.move_due_retries(now_millis()).await?;
        let mut consumer = self.0.queue.consumer(&self.0.name, Duration::ZERO).await?;
        let mut jobs = consumer
            .claim_stale(self.0.settings.claim_idle, 100)
            .await?;
        jobs.extend(consumer.read(1000, None).await?);
        let handled = jobs.len();
        futures::stream::iter(jobs)
            .for_each_concurrent(self.0.settings.concurrency, |job| self.process(job))
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

    /// Re-enqueues fan-outs and deliveries committed a while ago but still pending: the
    /// process died between commit and enqueue, or Redis lost them. One process in a
    /// fleet sweeps at a time.
    pub async fn sweep(&self) -> Result<usize, DeliveryError> {
        let queue = &self.0.queue;
        if !queue
            .try_lock("sweep", SWEEP_EVERY - Duration::from_secs(5))
            .await?
        {
            return Ok(0);
        }
        let older_than = Utc::now() - SWEEP_AGE;
        let fanouts = db::stale_pending_fanouts(&self.0.db, older_than, 1000).await?;
        for id in &fanouts {
            queue.enqueue_fanout(*id).await?;
        }
        let deliveries = db::stale_pending_deliveries(&self.0.db, older_than, 10_000).await?;
        db::touch_deliveries(&self.0.db, &deliveries).await?;
        queue.enqueue_deliveries(&deliveries).await?;
        let swept = fanouts.len() + deliveries.len();
        if swept > 0 {
            tracing::info!(
                fanouts = fanouts.len(),
                deliveries = deliveries.len(),
                "re-enqueued lost work"
            );
        }
        Ok(swept)
    }

    /// Handles a job and acknowledges it once its result is recorded. A job that fails
    /// for a local reason (database down) stays unacknowledged and is claimed again.
    async fn process(&self, job: Job) {
        let result = match job.kind {
            Some(JobKind::Fanout(id)) => self.expand(id).await,
            Some(JobKind::Deliver { id, attempts }) => self.deliver(id, attempts).await,
            None => {
                tracing::warn!(stream = job.stream, "dropping a malformed queue entry");
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                if let Err(e) = self.0.queue.ack(&job).await {
                    tracing::warn!(error = %e, "could not acknowledge a job; it will run again");
                }
            }
            Err(e) => {
                tracing::error!(error = %crate::error_chain(&e), "job failed; it will be retried");
            }
        }
    }

    /// Expands a fan-out into one delivery per distinct inbox, a page at a time.
    async fn expand(&self, id: FanoutId) -> Result<(), DeliveryError> {
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
            let ids = db::insert_deliveries(db, activity.id, &page).await?;
            self.0.queue.enqueue_deliveries(&ids).await?;
            inboxes += page.len();
            if (page.len() as u64) < FANOUT_PAGE {
                break;
            }
            after = Some(last);
        }
        db::finish_fanout(db, id).await?;
        tracing::debug!(activity = %activity.id, inboxes, "fan-out expanded");
        Ok(())
    }

    /// Sends one delivery and records what came of it.
    async fn deliver(&self, id: DeliveryId, _queued_attempts: u32) -> Result<(), DeliveryError> {
        let db = &self.0.db;
        let work = match db::delivery_work(db, id).await {
            Ok(work) => work,
            Err(DbError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let state = work.delivery.state.as_str();
        if state == DELIVERY_DELIVERED || state == DELIVERY_FAILED {
            // A duplicate entry (at-least-once): the work is already done.
            return Ok(());
        }
        let attempt = work.delivery.attempts + 1;
        let span = tracing::info_span!("deliver", server = %work.delivery.authority, attempt);
        let outcome = self.send(&work).instrument(span.clone()).await;
        let _entered = span.enter();
        let max = self.0.settings.max_attempts;
        match outcome {
            Outcome::Delivered(status) => {
                tracing::debug!(status, "delivered");
                db::record_attempt(db, id, DELIVERY_DELIVERED, attempt, Some(status), None).await?;
            }
            Outcome::Gone => {
                let removed = db::remove_followers_with_inbox(
                    db,
                    work.activity.channel_id,
                    &work.delivery.inbox,
                )
                .await?;
                tracing::info!(removed, "inbox is gone (410)");
                db::record_attempt(
                    db,
                    id,
                    DELIVERY_FAILED,
                    attempt,
                    Some(410),
                    Some("410 Gone".into()),
                )
                .await?;
            }
            Outcome::Rejected { status, reason } => {
                tracing::info!(%reason, "delivery rejected");
                db::record_attempt(db, id, DELIVERY_FAILED, attempt, status, Some(reason)).await?;
            }
            Outcome::Retry {
                status,
                reason,
                after,
            } if attempt < max => {
                let wait =
                    after.unwrap_or_else(|| outcome::backoff(attempt, &mut rand::thread_rng()));
                tracing::debug!(%reason, wait_secs = wait.as_secs(), "delivery will be retried");
                db::record_attempt(db, id, DELIVERY_RETRYING, attempt, status, Some(reason))
                    .await?;
                let due = now_millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                self.0.queue.schedule_retry(id, attempt, due).await?;
            }
            Outcome::Retry { status, reason, .. } => {
                tracing::info!(%reason, "giving up after the last attempt");
                let reason = format!("gave up after {attempt} attempts; last: {reason}");
                db::record_attempt(db, id, DELIVERY_FAILED, attempt, status, Some(reason)).await?;
            }
        }
        Ok(())
    }

    /// One signed POST of the activity to the inbox.
    async fn send(&self, work: &DeliveryWork) -> Outcome {
        let url = match Url::parse(&work.delivery.inbox) {
            Ok(url) => url,
            Err(e) => {
                return Outcome::Rejected {
                    status: None,
                    reason: format!("invalid inbox URL: {e}"),
                }
            }
        };
        if let Err(refusal) = guard::check_url(&url, self.0.settings.debug) {
            return Outcome::Rejected {
                status: None,
                reason: format!("refused: {refusal}"),
            };
        }
        let request = match self.signed_request(work, &url) {
            Ok(request) => request,
            Err(e) => {
                return Outcome::Rejected {
                    status: None,
                    reason: format!("could not sign: {e}"),
                }
            }
        };
        match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| outcome::parse_retry_after(v, SystemTime::now()));
                // Read (a bounded part of) the body so the connection can be reused.
                let mut read = 0;
                while let Ok(Some(chunk)) = response.chunk().await {
                    read += chunk.len();
                    if read > MAX_RESPONSE_BODY {
                        break;
                    }
                }
                outcome::classify(status, retry_after)
            }
            Err(e) if guard::is_refusal(&e) => Outcome::Rejected {
                status: None,
                reason: "refused: the host has no public address".into(),
            },
            Err(e) => Outcome::Retry {
                status: None,
                reason: if e.is_timeout() {
                    "timed out".into()
                } else if e.is_connect() {
                    "could not connect".into()
                } else {
                    format!("network error: {e}")
                },
                after: None,
            },
        }
    }

    fn signed_request(
        &self,
        work: &DeliveryWork,
        url: &Url,
    ) -> Result<reqwest::RequestBuilder, DeliveryError> {
        let body = work.activity.payload.clone().into_bytes();
        let key = self.0.keys.get(&work.channel.private_key_pem)?;
        let key_id = format!(
            "{}#main-key",
            actor_of(&work.activity.payload).unwrap_or_default()
        );
        let host = db::authority_of(url);
        let date = httpdate::fmt_http_date(SystemTime::now());
        let digest = signing::digest_header(&body);
        let text = signing::signing_string("post", url, &host, &date, &digest);
        let signature = signing::signature_header(&key, &key_id, &text)?;
        Ok(self
            .0
            .client
            .post(url.clone())
            .header(reqwest::header::HOST, host)
            .header(reqwest::header::DATE, date)
            .header("Digest", digest)
            .header(reqwest::header::CONTENT_TYPE, super::ACTIVITY_CONTENT_TYPE)
            .header("Signature", signature)
            .body(body))
    }
}

/// The `actor` of an activity's JSON: the channel whose key signs it.
fn actor_of(payload: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ActorField {
        actor: String,
    }
    serde_json::from_str::<ActorField>(payload)
        .ok()
        .map(|a| a.actor)
}

fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

//! The worker's loop: read jobs from the streams, and run each in a slot until its result
//! is recorded, and only then acknowledge its entry.
//!
//! Between reads the loop moves due retries into the stream, claims entries a dead worker
//! left (XAUTOCLAIM), and sweeps the database for work that never reached Redis (see
//! `maintenance`). A batch of delivery jobs has its rows loaded in one query.
//! [`Worker::run_once`] does one pass without waiting, so tests drive the queue to empty
//! instead of sleeping.

use super::{
    error::DeliveryError,
    maintenance::SWEEP_EVERY,
    queue::{Job, JobKind},
    worker::{Slot, Worker, SLOW_LANE_FACTOR},
};
use crate::db::{self, DbError, DeliveryId};
use futures::StreamExt;
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{watch, Semaphore};

/// How long a blocking read waits for new jobs before doing maintenance again.
const READ_BLOCK: Duration = Duration::from_secs(1);
/// New jobs read at most per call.
const READ_BATCH: usize = 512;
/// How often entries held by dead workers are claimed (or every `claim_idle`, if shorter).
const CLAIM_EVERY: Duration = Duration::from_secs(30);

/// A job's delivery row, loaded with its batch.
enum Preloaded {
    /// The row, as the batch query read it.
    Row(db::Delivery),
    /// The batch query found no such delivery (its channel was deleted).
    Missing,
    /// Not loaded (a fan-out job, or the batch query failed): the job loads it.
    NotLoaded,
}

impl Worker {
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
        let mut rows: HashMap<DeliveryId, db::Delivery> =
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
            }) => match self.load_delivery(id, preloaded).await {
                Ok(Some(delivery)) => self.deliver(delivery, attempts, probe, slot).await,
                Ok(None) => Ok(false),
                Err(e) => Err(e),
            },
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

    /// The row of a delivery job: the one its batch loaded, or loaded now when the batch
    /// query failed. `None` when the delivery no longer exists (its channel was deleted):
    /// the entry is acknowledged with nothing to do.
    async fn load_delivery(
        &self,
        id: DeliveryId,
        preloaded: Preloaded,
    ) -> Result<Option<db::Delivery>, DeliveryError> {
        match preloaded {
            Preloaded::Row(delivery) => Ok(Some(delivery)),
            Preloaded::Missing => Ok(None),
            Preloaded::NotLoaded => match db::delivery_by_id(&self.0.db, id).await {
                Ok(delivery) => Ok(Some(delivery)),
                Err(DbError::NotFound) => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }
}

//! The sweeper: finds work the database holds but Redis lost (a crash between commit and
//! enqueue, a Redis restart without its data) and puts it back; and sends a probe to each
//! unreachable server whose probe is due. One process in a fleet sweeps at a time.

use super::{error::DeliveryError, worker::Worker};
use crate::db;
use std::time::Duration;

/// How often the database is swept for lost work and servers due for a probe.
pub(super) const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Work committed this long ago and still pending is assumed lost on its way to Redis.
const SWEEP_AGE: chrono::Duration = chrono::Duration::minutes(2);
/// A retry this much past its time is assumed lost from Redis's retry set.
const RETRY_GRACE: chrono::Duration = chrono::Duration::minutes(10);
/// Rows handled per kind in one sweep; the next sweep takes the rest.
const SWEEP_LIMIT: u64 = 10_000;

/// What one sweep put back into the queue.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub fanouts: usize,
    pub deliveries: usize,
    pub retries: usize,
    pub probes: usize,
}

impl SweepReport {
    pub fn total(&self) -> usize {
        self.fanouts + self.deliveries + self.retries + self.probes
    }
}

impl Worker {
    /// Sweeps unless another process swept within the last minute.
    pub async fn sweep(&self) -> Result<SweepReport, DeliveryError> {
        let lock = SWEEP_EVERY - Duration::from_secs(5);
        if !self.0.queue.try_lock("sweep", lock).await? {
            return Ok(SweepReport::default());
        }
        self.sweep_now().await
    }

    /// Sweeps now, whoever swept last.
    pub async fn sweep_now(&self) -> Result<SweepReport, DeliveryError> {
        let (db, queue) = (&self.0.db, &self.0.queue);
        let now = self.now();
        let mut report = SweepReport::default();

        let fanouts = db::stale_pending_fanouts(db, now - SWEEP_AGE, SWEEP_LIMIT).await?;
        for id in &fanouts {
            queue.enqueue_fanout(*id).await?;
        }
        report.fanouts = fanouts.len();

        let pending = db::stale_pending_deliveries(db, now - SWEEP_AGE, SWEEP_LIMIT).await?;
        db::touch_deliveries(db, &pending).await?;
        queue.enqueue_deliveries(&pending).await?;
        report.deliveries = pending.len();

        let overdue = db::overdue_retries(db, now, RETRY_GRACE, SWEEP_LIMIT).await?;
        db::reschedule_retries(db, &overdue, now).await?;
        queue.enqueue_deliveries(&overdue).await?;
        report.retries = overdue.len();

        let interval = self.0.health.policy.probe_interval;
        for authority in db::take_due_probes(db, now, interval, 1000).await? {
            if let Some((id, attempts)) = db::parked_delivery(db, &authority).await? {
                queue.enqueue_probe(id, attempts).await?;
                report.probes += 1;
            }
        }
        if report.total() > 0 {
            tracing::info!(?report, "sweep re-enqueued work");
        }
        Ok(report)
    }
}

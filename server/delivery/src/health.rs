//! Remote servers' health as the workers see it: which servers are failing or unreachable
//! (a snapshot of the `instances` table, refreshed every few seconds), and how many
//! requests are in flight to each server (a semaphore per server).

use super::{Queue, QueueError};
use crate::db::{self, DatabaseConnection, DbError, DeliveryState, HealthPolicy, Instance};
use chrono::{DateTime, Utc};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{OwnedSemaphorePermit, RwLock, Semaphore};

/// How stale the snapshot of troubled servers may get.
const SNAPSHOT_TTL: Duration = Duration::from_secs(5);
/// Failures in a row before a server can be marked unreachable (with `failing_for`).
pub const MIN_FAILURES: u32 = 3;
/// Per-server semaphores kept before idle ones are dropped.
const MAX_TRACKED_HOSTS: usize = 50_000;

/// A server Herald has had trouble with: true when unreachable, false when only failing.
type Troubled = HashMap<String, bool>;

pub struct HostHealth {
    snapshot: RwLock<(Option<Instant>, Troubled)>,
    permits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// When each server last had a request, to choose a kept-alive connection for servers
    /// that get several requests in a row.
    recent: Mutex<HashMap<String, Instant>>,
    per_host: usize,
    pub policy: HealthPolicy,
}

impl HostHealth {
    pub fn new(per_host: usize, policy: HealthPolicy) -> HostHealth {
        HostHealth {
            snapshot: RwLock::new((None, HashMap::new())),
            permits: Mutex::new(HashMap::new()),
            recent: Mutex::new(HashMap::new()),
            per_host,
            policy,
        }
    }

    async fn troubled(
        &self,
        db: &DatabaseConnection,
        authority: &str,
    ) -> Result<Option<bool>, DbError> {
        {
            let snapshot = self.snapshot.read().await;
            if snapshot.0.is_some_and(|t| t.elapsed() < SNAPSHOT_TTL) {
                return Ok(snapshot.1.get(authority).copied());
            }
        }
        let fresh: Troubled = db::troubled_instances(db)
            .await?
            .into_iter()
            .map(|i| (i.authority, i.unreachable))
            .collect();
        let answer = fresh.get(authority).copied();
        *self.snapshot.write().await = (Some(Instant::now()), fresh);
        Ok(answer)
    }

    /// True when `authority` is marked unreachable. The snapshot only says where to look:
    /// an unreachable mark is confirmed in the database, so a server revived by another
    /// process a moment ago is not parked again.
    pub async fn is_unreachable(
        &self,
        db: &DatabaseConnection,
        authority: &str,
    ) -> Result<bool, DbError> {
        if self.troubled(db, authority).await? != Some(true) {
            return Ok(false);
        }
        let unreachable = db::instance_by_authority(db, authority)
            .await?
            .is_some_and(|i| i.unreachable);
        if !unreachable {
            self.snapshot.write().await.1.remove(authority);
        }
        Ok(unreachable)
    }

    /// Records a failure to reach `authority`; returns its state afterwards.
    pub async fn failure(
        &self,
        db: &DatabaseConnection,
        authority: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<Instance, DbError> {
        let instance = db::record_host_failure(db, authority, error, now, self.policy).await?;
        self.snapshot
            .write()
            .await
            .1
            .insert(authority.to_string(), instance.unreachable);
        Ok(instance)
    }

    /// Records that `authority` answered. A server with failures on record is reset and,
    /// if it was unreachable, revived: its parked deliveries go back into the queue.
    pub async fn success(
        &self,
        db: &DatabaseConnection,
        queue: &Queue,
        authority: &str,
    ) -> Result<(), HealthError> {
        if self.troubled(db, authority).await?.is_none() {
            return Ok(());
        }
        revive_server(db, queue, authority).await?;
        self.snapshot.write().await.1.remove(authority);
        Ok(())
    }

    /// Notes a request to `authority` now; true when it had one within `window` (so a
    /// kept-alive connection is likely to be used again).
    pub fn used_recently(&self, authority: &str, window: Duration) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        let now = Instant::now();
        if recent.len() >= MAX_TRACKED_HOSTS {
            recent.retain(|_, last| now.duration_since(*last) < window);
        }
        recent
            .insert(authority.to_string(), now)
            .is_some_and(|last| now.duration_since(last) < window)
    }

    /// A slot for one request to `authority`, or `None` when it already has `per_host` in
    /// flight (the caller defers the delivery a little).
    pub fn try_permit(&self, authority: &str) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let Ok(mut permits) = self.permits.lock() else {
                return None;
            };
            if permits.len() >= MAX_TRACKED_HOSTS {
                let full = self.per_host;
                permits.retain(|_, s| s.available_permits() < full);
            }
            permits
                .entry(authority.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        };
        semaphore.try_acquire_owned().ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Marks `authority` reachable again and re-queues its parked deliveries; returns how many.
/// Called when a delivery (or probe) succeeds, and when the server sends Herald anything.
pub async fn revive_server(
    db: &DatabaseConnection,
    queue: &Queue,
    authority: &str,
) -> Result<usize, HealthError> {
    if !db::record_host_success(db, authority).await? {
        return Ok(0);
    }
    let mut revived = 0;
    loop {
        let ids =
            db::requeue_deliveries(db, DeliveryState::Parked, Some(authority), 1000, false).await?;
        if ids.is_empty() {
            break;
        }
        queue.enqueue_deliveries(&ids).await?;
        revived += ids.len();
    }
    tracing::info!(server = authority, revived, "server is reachable again");
    Ok(revived)
}

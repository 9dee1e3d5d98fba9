//! The Redis side of the queue: two streams read by one consumer group, and a sorted set
//! of retries waiting for their time.
//!
//! Entries are small (an id and an attempt count); the payload lives in the database.
//! Delivery is at-least-once: an entry is acknowledged only after its work is recorded,
//! and entries a dead worker held are claimed by another (XAUTOCLAIM).

use crate::db::{DeliveryId, FanoutId, QueuedDelivery};
use redis::{
    aio::ConnectionManager,
    streams::{StreamAutoClaimOptions, StreamId, StreamReadOptions, StreamReadReply},
    AsyncCommands, Client, RedisError,
};
use std::time::Duration;

/// Fan-out jobs: expand a broadcast activity into one delivery per inbox.
pub const FANOUT_STREAM: &str = "herald:fanout";
/// Delivery jobs: sign and POST one activity to one inbox.
pub const DELIVERY_STREAM: &str = "herald:deliver";
/// Deliveries waiting to be retried, scored by due time (Unix milliseconds).
pub const RETRY_SET: &str = "herald:retry";
/// The consumer group every worker joins.
pub const GROUP: &str = "herald";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("Redis failed: {0}")]
    Redis(#[from] RedisError),
    #[error("could not start the private redis-server: {0}")]
    Spawn(String),
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// A job read from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    Fanout(FanoutId),
    /// `probe`: sent even though its server is marked unreachable, to see if it is back.
    Deliver {
        id: DeliveryId,
        attempts: u32,
        probe: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Job {
    pub stream: &'static str,
    pub entry_id: String,
    /// `None` when the entry was malformed: it is acknowledged and dropped.
    pub kind: Option<JobKind>,
}

impl Job {
    fn from_entry(stream: &str, entry: &StreamId) -> Option<Job> {
        let stream = match stream {
            FANOUT_STREAM => FANOUT_STREAM,
            DELIVERY_STREAM => DELIVERY_STREAM,
            _ => return None,
        };
        let id: Option<i64> = entry.get("id");
        let kind = match (stream, id) {
            (FANOUT_STREAM, Some(id)) => Some(JobKind::Fanout(FanoutId(id))),
            (DELIVERY_STREAM, Some(id)) => Some(JobKind::Deliver {
                id: DeliveryId(id),
                attempts: entry.get("attempts").unwrap_or(0),
                probe: entry.get::<i64>("probe").unwrap_or(0) == 1,
            }),
            _ => None,
        };
        Some(Job {
            stream,
            entry_id: entry.id.clone(),
            kind,
        })
    }
}

/// How long a request handler waits to enqueue before answering anyway.
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one Redis command may take before it counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The producer side, cheap to clone: enqueue jobs and schedule retries.
#[derive(Clone)]
pub struct Queue {
    client: Client,
    conn: ConnectionManager,
}

impl Queue {
    /// Connects to Redis at `url` and makes sure the streams and the group exist.
    pub async fn connect(url: &str) -> Result<Queue, QueueError> {
        let client = Client::open(url)?;
        let conn = manager(&client, COMMAND_TIMEOUT).await?;
        let queue = Queue { client, conn };
        queue.ensure_group().await?;
        Ok(queue)
    }

    async fn ensure_group(&self) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        for stream in [FANOUT_STREAM, DELIVERY_STREAM] {
            // "0": a group created after entries were added still reads them.
            let created: Result<(), RedisError> =
                conn.xgroup_create_mkstream(stream, GROUP, "0").await;
            match created {
                Ok(()) => {}
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Counts a hit on the fixed window `key` of length `window`: how many hits it has had
    /// and how long until it ends. The window starts at its first hit (`SET NX PX`, then
    /// `INCR`, which keeps the expiry: atomic, and fine on any Redis since 2.6).
    pub async fn count_hit(
        &self,
        key: &str,
        window: Duration,
    ) -> Result<(u64, Duration), QueueError> {
        let mut conn = self.conn.clone();
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let (count, ttl_ms): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(key)
            .arg(0)
            .arg("PX")
            .arg(window_ms)
            .arg("NX")
            .ignore()
            .incr(key, 1)
            .pttl(key)
            .query_async(&mut conn)
            .await?;
        let left = u64::try_from(ttl_ms).unwrap_or(window_ms);
        Ok((count, Duration::from_millis(left)))
    }

    /// The Redis server's clock (`TIME`), for `herald doctor`'s clock check.
    pub async fn server_time(&self) -> Result<chrono::DateTime<chrono::Utc>, QueueError> {
        let mut conn = self.conn.clone();
        let (secs, micros): (i64, i64) = redis::cmd("TIME").query_async(&mut conn).await?;
        Ok(
            chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
                + chrono::Duration::microseconds(micros),
        )
    }

    pub async fn ping(&self) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    /// Enqueues a fan-out. Bounded by `ENQUEUE_TIMEOUT`: request handlers call this after
    /// their commit, and a Redis that is down must not hold the answer up (the sweeper
    /// enqueues what this could not).
    pub async fn enqueue_fanout(&self, id: FanoutId) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let fields = [("id", id.0)];
        let add = conn.xadd::<_, _, _, _, String>(FANOUT_STREAM, "*", &fields);
        tokio::time::timeout(ENQUEUE_TIMEOUT, add)
            .await
            .map_err(|_| QueueError::Timeout(ENQUEUE_TIMEOUT))??;
        Ok(())
    }

    /// Enqueues one delivery; `attempts` is how many attempts it has had. Bounded like
    /// [`Queue::enqueue_fanout`].
    pub async fn enqueue_delivery(&self, id: DeliveryId, attempts: u32) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let fields = [("id", id.0), ("attempts", i64::from(attempts))];
        let add = conn.xadd::<_, _, _, _, String>(DELIVERY_STREAM, "*", &fields);
        tokio::time::timeout(ENQUEUE_TIMEOUT, add)
            .await
            .map_err(|_| QueueError::Timeout(ENQUEUE_TIMEOUT))??;
        Ok(())
    }

    /// Enqueues a parked delivery as a probe of its unreachable server.
    pub async fn enqueue_probe(&self, id: DeliveryId, attempts: u32) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let _: String = conn
            .xadd(
                DELIVERY_STREAM,
                "*",
                &[
                    ("id", id.0),
                    ("attempts", i64::from(attempts)),
                    ("probe", 1),
                ],
            )
            .await?;
        Ok(())
    }

    /// Enqueues many deliveries in one round trip.
    pub async fn enqueue_deliveries(
        &self,
        deliveries: &[QueuedDelivery],
    ) -> Result<(), QueueError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (id, attempts) in deliveries {
            pipe.xadd(
                DELIVERY_STREAM,
                "*",
                &[("id", id.0), ("attempts", i64::from(*attempts))],
            )
            .ignore();
        }
        let mut conn = self.conn.clone();
        let () = pipe.query_async(&mut conn).await?;
        Ok(())
    }

    /// Holds a delivery back until `due` (Unix milliseconds): a retry after a failure, or
    /// a delivery deferred because its server already has its fill of requests in flight.
    pub async fn schedule_retry(
        &self,
        id: DeliveryId,
        attempts: u32,
        due_millis: i64,
    ) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let member = format!("{}:{attempts}", id.0);
        let _: i64 = conn.zadd(RETRY_SET, member, due_millis).await?;
        Ok(())
    }

    /// Moves retries that are due into the delivery stream; returns how many moved. Each
    /// member is removed before it is re-added, and only the worker whose ZREM removed it
    /// re-adds it, so concurrent movers never duplicate a retry.
    pub async fn move_due_retries(&self, now_millis: i64) -> Result<usize, QueueError> {
        let mut conn = self.conn.clone();
        let due: Vec<String> = conn
            .zrangebyscore_limit(RETRY_SET, "-inf", now_millis, 0, 500)
            .await?;
        let mut moved = 0;
        for member in due {
            let removed: i64 = conn.zrem(RETRY_SET, &member).await?;
            if removed == 0 {
                continue;
            }
            let parsed = member
                .split_once(':')
                .and_then(|(id, n)| Some((id.parse::<i64>().ok()?, n.parse::<u32>().ok()?)));
            if let Some((id, attempts)) = parsed {
                self.enqueue_delivery(DeliveryId(id), attempts).await?;
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Takes a short-lived lock (`SET NX PX`) so one process in a fleet runs a periodic
    /// task; true when this caller holds it.
    pub async fn try_lock(&self, name: &str, ttl: Duration) -> Result<bool, QueueError> {
        self.set_nx(&format!("herald:lock:{name}"), ttl).await
    }

    /// `SET key 1 NX PX ttl`: true when this caller set it.
    async fn set_nx(&self, key: &str, ttl: Duration) -> Result<bool, QueueError> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    /// Acknowledges a finished job and deletes its entry, so streams stay small.
    /// With `release`, also drops this worker's claim on the attempt the job made (in the
    /// same round trip), so a retry started later, even one numbered the same after an
    /// operator restarted a dead letter, can claim it.
    pub async fn ack(&self, job: &Job, release: bool) -> Result<(), QueueError> {
        let mut pipe = redis::pipe();
        pipe.xack(job.stream, GROUP, &[&job.entry_id])
            .ignore()
            .xdel(job.stream, &[&job.entry_id])
            .ignore();
        if let (true, Some(JobKind::Deliver { id, attempts, .. })) = (release, &job.kind) {
            pipe.del(claim_key(*id, attempts + 1)).ignore();
        }
        let mut conn = self.conn.clone();
        let () = pipe.query_async(&mut conn).await?;
        Ok(())
    }

    /// Claims attempt number `attempt` of delivery `id` for `ttl`: false when another
    /// worker already took that attempt (a duplicate entry), so at-least-once rarely means
    /// twice. Released with the job's acknowledgement; expires if the worker dies.
    pub async fn claim_attempt(
        &self,
        id: DeliveryId,
        attempt: u32,
        ttl: Duration,
    ) -> Result<bool, QueueError> {
        self.set_nx(&claim_key(id, attempt), ttl).await
    }

    /// A consumer with its own connection, for blocking reads that must not hold up the
    /// producer's commands.
    pub async fn consumer(&self, name: &str, block: Duration) -> Result<Consumer, QueueError> {
        let conn = manager(&self.client, block + COMMAND_TIMEOUT).await?;
        Ok(Consumer {
            conn,
            name: name.to_string(),
        })
    }
}

async fn manager(client: &Client, timeout: Duration) -> Result<ConnectionManager, RedisError> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(timeout))
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(3);
    ConnectionManager::new_with_config(client.clone(), config).await
}

/// One worker's reading side of the consumer group.
pub struct Consumer {
    conn: ConnectionManager,
    name: String,
}

impl Consumer {
    /// Reads up to `count` new jobs from both streams, waiting up to `block` for one
    /// (`None`: do not wait).
    pub async fn read(
        &mut self,
        count: usize,
        block: Option<Duration>,
    ) -> Result<Vec<Job>, QueueError> {
        let mut options = StreamReadOptions::default()
            .group(GROUP, &self.name)
            .count(count);
        if let Some(block) = block {
            options = options.block(usize::try_from(block.as_millis()).unwrap_or(usize::MAX));
        }
        let reply: Option<StreamReadReply> = self
            .conn
            .xread_options(&[FANOUT_STREAM, DELIVERY_STREAM], &[">", ">"], &options)
            .await?;
        Ok(reply
            .map(|reply| {
                reply
                    .keys
                    .iter()
                    .flat_map(|key| key.ids.iter().filter_map(|e| Job::from_entry(&key.key, e)))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Claims up to `count` entries of each stream that another consumer took more than
    /// `min_idle` ago and never acknowledged (it died or hangs).
    pub async fn claim_stale(
        &mut self,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<Job>, QueueError> {
        let mut jobs = Vec::new();
        for stream in [FANOUT_STREAM, DELIVERY_STREAM] {
            let reply: redis::streams::StreamAutoClaimReply = self
                .conn
                .xautoclaim_options(
                    stream,
                    GROUP,
                    &self.name,
                    u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX),
                    "0-0",
                    StreamAutoClaimOptions::default().count(count),
                )
                .await?;
            jobs.extend(
                reply
                    .claimed
                    .iter()
                    .filter_map(|e| Job::from_entry(stream, e)),
            );
        }
        Ok(jobs)
    }
}

fn claim_key(id: DeliveryId, attempt: u32) -> String {
    format!("herald:sending:{}:{attempt}", id.0)
}

/// Queue sizes, for operators.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// Entries in the fan-out and delivery streams not yet acknowledged or read.
    pub fanout_length: u64,
    pub delivery_length: u64,
    /// Entries read by a worker and not acknowledged yet (in flight, or held by a dead worker).
    pub in_flight: u64,
    /// Deliveries waiting for their retry time.
    pub retry_waiting: u64,
}

impl Queue {
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let mut conn = self.conn.clone();
        let fanout_length: u64 = conn.xlen(FANOUT_STREAM).await?;
        let delivery_length: u64 = conn.xlen(DELIVERY_STREAM).await?;
        let mut in_flight = 0;
        for stream in [FANOUT_STREAM, DELIVERY_STREAM] {
            let reply: redis::streams::StreamPendingReply = conn.xpending(stream, GROUP).await?;
            in_flight += reply.count() as u64;
        }
        let retry_waiting: u64 = conn.zcard(RETRY_SET).await?;
        Ok(QueueStats {
            fanout_length,
            delivery_length,
            in_flight,
            retry_waiting,
        })
    }
}

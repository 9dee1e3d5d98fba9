//! Delivery: the Redis queue and its workers. Fan-out expansion, signing, sending,
//! retries with backoff, and the outcome of every attempt recorded in the database.
//!
//! Calls `db` only. Entry points enqueue through [`Queue`]; `herald serve` and
//! `herald worker` run [`Worker`]s. Delivery signs and POSTs itself rather than through
//! activitypub_federation, whose sender reports most 4xx answers (410 included) as success
//! and signs with a slow RSA implementation.

mod attempt;
mod delivered;
mod error;
mod fanout;
mod health;
mod jobs;
pub mod limits;
mod maintenance;
pub mod outcome;
mod queue;
mod redis_server;
mod send;
pub mod signing;
pub mod webhooks;
mod worker;

pub use error::DeliveryError;
pub use health::{revive_server, HealthError};
pub use maintenance::SweepReport;
pub use queue::{
    Job, JobKind, Queue, QueueError, QueueStats, DELIVERY_STREAM, FANOUT_STREAM, RETRY_SET,
};
pub use redis_server::ManagedRedis;
pub use worker::{Clock, Worker};

/// The media type of every delivered activity.
pub const ACTIVITY_CONTENT_TYPE: &str = "application/activity+json";

use herald_base::{config, error_chain, guard, metrics, user_agent};
use herald_db as db;

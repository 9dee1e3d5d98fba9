//! The delivery layer's error: what can stop a job, a worker or a sweep. A job that fails
//! with one of these stays unacknowledged and is claimed again, so every variant is a
//! local or passing problem (Redis, the database, a signing key), never a remote server's
//! answer: those are outcomes, recorded on the delivery (see `outcome`).
//!
//! Its own module so that every part of the crate can name it without depending on the
//! worker (the batched writer in `delivered` returns it, and the worker uses that writer).

use super::{health::HealthError, queue::QueueError, send::PrepareError};
use crate::db::DbError;

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

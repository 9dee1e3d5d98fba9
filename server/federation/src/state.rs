//! The application state shared by the entry points: configuration, database, queue, and
//! the instance actor's keys. Built once at start-up (see `app`), cloned cheaply into
//! every handler and worker; never a global, so two Heralds can run in one test process.

use crate::{
    config::Config,
    db::{self, DatabaseConnection},
    delivery::Queue,
    metrics::Metrics,
    Urls,
};
use std::{ops::Deref, sync::Arc};

#[derive(Clone)]
pub struct HeraldState(Arc<StateInner>);

pub struct StateInner {
    pub config: Config,
    pub db: DatabaseConnection,
    pub queue: Queue,
    pub urls: Urls,
    pub instance_keys: InstanceKeys,
    /// Domain blocks, for signed fetches (re-read every few seconds).
    pub blocks: db::BlockSnapshot,
    /// This process's metrics.
    pub metrics: Metrics,
}

/// The key pair of the instance actor, which signs Herald's own GET fetches.
#[derive(Clone)]
pub struct InstanceKeys {
    pub public_key_pem: String,
    pub private_key_pem: String,
}

impl HeraldState {
    pub fn new(inner: StateInner) -> Self {
        HeraldState(Arc::new(inner))
    }
}

impl Deref for HeraldState {
    type Target = StateInner;

    fn deref(&self) -> &StateInner {
        &self.0
    }
}

//! Successful deliveries are the common outcome: instead of one UPDATE each, a writer task
//! records them in batches (one statement per status code), and each job waits for its
//! batch to commit before its queue entry is acknowledged.

use super::error::DeliveryError;
use crate::db::{self, DatabaseConnection, DbError, DeliveryId};
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot};

/// Deliveries recorded at most per statement.
const BATCH: usize = 256;

type Request = (DeliveryId, u16, oneshot::Sender<Result<(), DbError>>);

pub struct DeliveredWriter {
    db: DatabaseConnection,
    /// `None` outside a tokio runtime: then each success is written on its own.
    tx: Option<mpsc::UnboundedSender<Request>>,
}

impl DeliveredWriter {
    pub fn new(db: DatabaseConnection) -> DeliveredWriter {
        let tx = tokio::runtime::Handle::try_current().ok().map(|runtime| {
            let (tx, rx) = mpsc::unbounded_channel();
            runtime.spawn(write_batches(db.clone(), rx));
            tx
        });
        DeliveredWriter { db, tx }
    }

    /// Records that delivery `id` got `status`, once the batch holding it commits.
    pub async fn record(&self, id: DeliveryId, status: u16) -> Result<(), DeliveryError> {
        if let Some(tx) = &self.tx {
            let (done, wait) = oneshot::channel();
            if tx.send((id, status, done)).is_ok() {
                if let Ok(result) = wait.await {
                    return Ok(result?);
                }
            }
        }
        db::record_delivered(&self.db, &[id], status).await?;
        Ok(())
    }
}

async fn write_batches(db: DatabaseConnection, mut rx: mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let mut by_status: BTreeMap<u16, Vec<Request>> = BTreeMap::new();
        for request in batch {
            by_status.entry(request.1).or_default().push(request);
        }
        for (status, requests) in by_status {
            let ids: Vec<DeliveryId> = requests.iter().map(|r| r.0).collect();
            let result = db::record_delivered(&db, &ids, status).await;
            for (_, _, done) in requests {
                let _ = done.send(match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(DbError::Corrupt(format!("batch write failed: {e}"))),
                });
            }
        }
    }
}

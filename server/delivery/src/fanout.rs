//! A fan-out job: expand one broadcast activity into a delivery per distinct inbox (its
//! channel's followers' inboxes, a page at a time, and any mentioned actors' servers), put
//! them in the queue, and mark the fan-out done. A job for a fan-out already done does
//! nothing; one interrupted half-way runs again, keeping the deliveries already made and
//! re-enqueueing those still pending.

use super::{error::DeliveryError, worker::Worker};
use crate::db::{self, DbError, FanoutId, FanoutState};

/// Followers' inboxes read per database page during fan-out expansion.
const FANOUT_PAGE: u64 = 1000;

impl Worker {
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
        // Done: a repeated job. Held: not released yet (its release enqueues it again).
        if fanout.state != FanoutState::Pending {
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
}

//! A delivery job: decide whether this entry should be sent at all, then make one attempt
//! and record what came of it.
//!
//! Before an attempt, `Worker::deliver` skips an outdated entry, parks the delivery when
//! its server is unreachable, postpones it while the server has `per_host` requests in
//! flight, and claims the attempt so no other worker makes it too. The attempt itself
//! (`Worker::attempt`) is four steps: prepare the activity (refusing a blocked server),
//! send the signed request, note the server's health, and record the outcome: delivered,
//! gone (410: the followers on that inbox are removed), rejected for good, or retried
//! with backoff (parked instead once the server is unreachable, failed after the last
//! attempt).

use super::{
    error::DeliveryError,
    outcome::{self, Outcome},
    send::{self, Prepared},
    worker::{Slot, Worker, SLOW_AFTER},
};
use crate::{
    db::{self, AttemptRecord, ChannelId, DeliveryId, DeliveryState},
    metrics::DeliveryOutcome,
};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tracing::Instrument;

/// How long a delivery waits when its server already has `per_host` requests in flight.
const HOST_BUSY_DELAY: Duration = Duration::from_millis(250);

impl Worker {
    /// Sends one delivery (unless it is a stale duplicate, or its server is unreachable
    /// or busy) and records what came of it. True when this worker claimed the attempt.
    pub(super) async fn deliver(
        &self,
        delivery: db::Delivery,
        queued_attempts: u32,
        probe: bool,
        slot: &mut Slot,
    ) -> Result<bool, DeliveryError> {
        if is_outdated(&delivery, queued_attempts, probe) {
            return Ok(false);
        }
        if !probe && self.park_if_unreachable(&delivery).await? {
            return Ok(false);
        }
        let Some(_host_slot) = self.0.health.try_permit(&delivery.authority) else {
            self.postpone_while_busy(&delivery).await?;
            return Ok(false);
        };
        if !self
            .0
            .queue
            .claim_attempt(
                delivery.id,
                delivery.attempts + 1,
                self.0.settings.claim_idle,
            )
            .await?
        {
            return Ok(false);
        }
        self.attempt(&delivery, slot).await.map(|()| true)
    }

    /// Parks the delivery, without an attempt, when its server is marked unreachable (a
    /// probe, or the server's next message, brings it back). True when it was parked.
    async fn park_if_unreachable(&self, delivery: &db::Delivery) -> Result<bool, DeliveryError> {
        if !self
            .0
            .health
            .is_unreachable(&self.0.db, &delivery.authority)
            .await?
        {
            return Ok(false);
        }
        self.count(delivery, DeliveryOutcome::Parked);
        let reason = "the server is unreachable";
        let parked = settled(DeliveryState::Parked, delivery.attempts, None, reason);
        self.record(delivery.id, parked).await?;
        Ok(true)
    }

    /// Puts the delivery back in the retry set for a moment: its server already has
    /// `per_host` requests in flight. Its attempts do not change.
    async fn postpone_while_busy(&self, delivery: &db::Delivery) -> Result<(), DeliveryError> {
        let due = self.now_millis() + i64::try_from(HOST_BUSY_DELAY.as_millis()).unwrap_or(0);
        self.0
            .queue
            .schedule_retry(delivery.id, delivery.attempts, due)
            .await?;
        Ok(())
    }

    /// One claimed attempt: prepare, send, note the server's health, record the outcome.
    async fn attempt(&self, delivery: &db::Delivery, slot: &mut Slot) -> Result<(), DeliveryError> {
        if let Some(webhook) = delivery.webhook_id {
            return self.attempt_webhook(delivery, webhook, slot).await;
        }
        let Some(prepared) = self.prepare(delivery).await? else {
            return Ok(());
        };
        let attempt = delivery.attempts + 1;
        let span = tracing::info_span!("deliver", server = %delivery.authority, attempt);
        let client = self.client_for(&delivery.authority);
        let send = send::send(client, self.0.settings.debug, &prepared, &delivery.inbox)
            .instrument(span.clone());
        let outcome = self.timed(send, slot).await;
        // Everything logged from here on is about this delivery (a span entered and held
        // across awaits would lend its fields to other tasks' lines).
        async {
            self.note_answer(delivery, &outcome).await?;
            self.record_outcome(delivery, prepared.channel_id, attempt, outcome)
                .await
        }
        .instrument(span)
        .await
    }

    /// The activity ready to sign for this inbox (its body, digest and key, computed once
    /// per activity), or `None` when the receiving server is blocked: then the delivery
    /// is recorded failed and nothing is sent.
    async fn prepare(
        &self,
        delivery: &db::Delivery,
    ) -> Result<Option<Arc<Prepared>>, DeliveryError> {
        let prepared = self
            .0
            .preparer
            .get(&self.0.db, delivery.activity_id)
            .await?;
        if self
            .refuse_if_blocked(delivery, prepared.channel_id)
            .await?
        {
            return Ok(None);
        }
        Ok(Some(prepared))
    }

    /// Records the delivery failed, without sending it, when its server is blocked (for
    /// every channel, or for the one that signs it). True when it was refused.
    async fn refuse_if_blocked(
        &self,
        delivery: &db::Delivery,
        channel: ChannelId,
    ) -> Result<bool, DeliveryError> {
        let authority = delivery.authority.as_str();
        if !self
            .0
            .blocks
            .is_blocked(&self.0.db, authority, Some(channel))
            .await?
        {
            return Ok(false);
        }
        tracing::info!(server = %authority, "domain blocked: not delivered");
        self.count(delivery, DeliveryOutcome::Blocked);
        let reason = "the domain is blocked";
        let failed = settled(DeliveryState::Failed, delivery.attempts, None, reason);
        self.record(delivery.id, failed).await?;
        Ok(true)
    }

    /// A message to a webhook: signed with its secret, the same queue, limits, retries
    /// and dead letters as an activity; a 410 disables the webhook.
    async fn attempt_webhook(
        &self,
        delivery: &db::Delivery,
        webhook: db::WebhookId,
        slot: &mut Slot,
    ) -> Result<(), DeliveryError> {
        let hook = match db::webhook_by_id(&self.0.db, webhook).await {
            Ok(hook) if hook.disabled_at.is_none() => hook,
            Ok(_) => return self.give_up(delivery, "the webhook is disabled").await,
            Err(db::DbError::NotFound) => {
                return self.give_up(delivery, "the webhook was deleted").await
            }
            Err(e) => return Err(e.into()),
        };
        if self.refuse_if_blocked(delivery, hook.channel_id).await? {
            return Ok(());
        }
        let message = db::activity_by_id(&self.0.db, delivery.activity_id).await?;
        let attempt = delivery.attempts + 1;
        let span = tracing::info_span!("webhook", server = %delivery.authority, attempt);
        let client = self.client_for(&delivery.authority);
        let body = bytes::Bytes::from(message.payload.into_bytes());
        let send = crate::webhooks::send(
            client,
            self.0.settings.debug,
            &hook.url,
            message.id,
            &hook.secret,
            body,
        )
        .instrument(span.clone());
        let outcome = self.timed(send, slot).await;
        async {
            self.note_answer(delivery, &outcome).await?;
            self.record_outcome(delivery, hook.channel_id, attempt, outcome)
                .await
        }
        .instrument(span)
        .await
    }

    /// Records a delivery failed without an attempt.
    async fn give_up(&self, delivery: &db::Delivery, reason: &str) -> Result<(), DeliveryError> {
        let failed = settled(DeliveryState::Failed, delivery.attempts, None, reason);
        self.record(delivery.id, failed).await
    }

    /// Awaits a request and times its answer. A request still unanswered after
    /// `SLOW_AFTER` trades its slot for a slow-lane one, so servers that hang do not hold
    /// the slots of those that answer.
    async fn timed(
        &self,
        send: impl std::future::Future<Output = Outcome>,
        slot: &mut Slot,
    ) -> Outcome {
        tokio::pin!(send);
        let started = Instant::now();
        let outcome = tokio::select! {
            outcome = &mut send => outcome,
            () = tokio::time::sleep(SLOW_AFTER) => {
                slot.go_slow(&self.0.slow_lane);
                send.await
            }
        };
        self.0.metrics.delivery_latency(started.elapsed());
        outcome
    }

    /// The kept-alive client for a server that had a request within `KEEP_ALIVE` (it is
    /// likely to get more soon), else the one that closes each connection after its
    /// request: most servers in a fan-out get one request, and idle connections to
    /// thousands of them would cost memory and buy nothing. Notes this request's time.
    fn client_for(&self, authority: &str) -> &reqwest::Client {
        if self
            .0
            .health
            .used_recently(authority, herald_base::guard::KEEP_ALIVE)
        {
            &self.0.pooled
        } else {
            &self.0.one_shot
        }
    }

    /// A final answer proves the server reachable: its failures are reset and, if it was
    /// unreachable, its parked deliveries go back into the queue.
    async fn note_answer(
        &self,
        delivery: &db::Delivery,
        outcome: &Outcome,
    ) -> Result<(), DeliveryError> {
        if server_answered(outcome) {
            self.0
                .health
                .success(&self.0.db, &self.0.queue, &delivery.authority)
                .await?;
        }
        Ok(())
    }

    /// Records what the attempt's answer means for the delivery (see `outcome`).
    async fn record_outcome(
        &self,
        delivery: &db::Delivery,
        channel: ChannelId,
        attempt: u32,
        outcome: Outcome,
    ) -> Result<(), DeliveryError> {
        let id = delivery.id;
        match outcome {
            Outcome::Delivered(status) => {
                tracing::debug!(status, "delivered");
                self.count(delivery, DeliveryOutcome::Delivered);
                self.0.delivered.record(id, status).await
            }
            Outcome::Gone if delivery.webhook_id.is_some() => {
                if let Some(webhook) = delivery.webhook_id {
                    db::disable_webhook(&self.0.db, webhook).await?;
                }
                tracing::info!("webhook is gone (410): disabled");
                self.count(delivery, DeliveryOutcome::Gone);
                let failed = settled(
                    DeliveryState::Failed,
                    attempt,
                    Some(410),
                    "410 Gone: webhook disabled",
                );
                self.record(id, failed).await
            }
            Outcome::Gone => {
                let removed =
                    db::remove_followers_with_inbox(&self.0.db, channel, &delivery.inbox).await?;
                tracing::info!(removed, "inbox is gone (410)");
                self.count(delivery, DeliveryOutcome::Gone);
                let failed = settled(DeliveryState::Failed, attempt, Some(410), "410 Gone");
                self.record(id, failed).await
            }
            Outcome::Rejected { status, reason } => {
                tracing::info!(%reason, "delivery rejected");
                self.count(delivery, DeliveryOutcome::Rejected);
                self.tell_failed(delivery, channel, &reason).await;
                let failed = settled(DeliveryState::Failed, attempt, status, reason);
                self.record(id, failed).await
            }
            Outcome::Retry {
                status,
                reason,
                after,
            } => {
                self.retry_later(delivery, channel, attempt, status, reason, after)
                    .await
            }
        }
    }

    /// A failure worth retrying: counts against the server's health, then parks the
    /// delivery if that made the server unreachable, gives up after the last attempt, or
    /// schedules the next attempt after the server's `Retry-After` or the backoff.
    async fn retry_later(
        &self,
        delivery: &db::Delivery,
        channel: ChannelId,
        attempt: u32,
        status: Option<u16>,
        reason: String,
        after: Option<Duration>,
    ) -> Result<(), DeliveryError> {
        let id = delivery.id;
        let now = self.now();
        let server = self
            .0
            .health
            .failure(&self.0.db, &delivery.authority, &reason, now)
            .await?;
        if server.unreachable {
            tracing::info!(%reason, "server unreachable: delivery parked");
            self.count(delivery, DeliveryOutcome::Parked);
            let parked = settled(DeliveryState::Parked, attempt, status, reason);
            return self.record(id, parked).await;
        }
        if attempt >= self.0.settings.max_attempts {
            tracing::info!(%reason, "giving up after the last attempt");
            self.count(delivery, DeliveryOutcome::Dead);
            let reason = format!("gave up after {attempt} attempts; last: {reason}");
            self.tell_failed(delivery, channel, &reason).await;
            let failed = settled(DeliveryState::Failed, attempt, status, reason);
            return self.record(id, failed).await;
        }
        let wait = after.unwrap_or_else(|| outcome::backoff(attempt, &mut rand::thread_rng()));
        let due = now + chrono::Duration::from_std(wait).unwrap_or_default();
        tracing::debug!(%reason, wait_secs = wait.as_secs(), "delivery will be retried");
        self.count(delivery, DeliveryOutcome::Retrying);
        let retrying = AttemptRecord {
            state: DeliveryState::Retrying,
            attempts: attempt,
            status,
            error: Some(reason),
            next_attempt_at: Some(due),
        };
        self.record(id, retrying).await?;
        self.0
            .queue
            .schedule_retry(id, attempt, due.timestamp_millis())
            .await?;
        Ok(())
    }

    /// Tells the channel's webhooks (`delivery.failed`) that an activity will not reach a
    /// server: the server and why, and the post it was about; nothing of the inbox, which
    /// may be a reader's. Not for webhook messages themselves.
    async fn tell_failed(&self, delivery: &db::Delivery, channel: ChannelId, reason: &str) {
        if delivery.webhook_id.is_some() {
            return;
        }
        let activity = db::activity_by_id(&self.0.db, delivery.activity_id)
            .await
            .ok();
        let data = serde_json::json!({
            "activity_id": delivery.activity_id,
            "activity_type": activity.as_ref().map(|a| a.kind.clone()),
            "post_id": activity.and_then(|a| a.post_id).map(|p| p.to_string()),
            "server": delivery.authority,
            "reason": reason,
        });
        crate::webhooks::emit(
            &self.0.db,
            &self.0.queue,
            channel,
            db::EventKind::DeliveryFailed,
            data,
        )
        .await;
    }

    /// Counts what became of a delivery, or of a webhook message.
    fn count(&self, delivery: &db::Delivery, outcome: DeliveryOutcome) {
        if delivery.webhook_id.is_some() {
            self.0.metrics.webhook_message(outcome);
        } else {
            self.0.metrics.delivery(outcome);
        }
    }

    /// Writes an attempt's outcome (or a decision not to attempt) to the delivery's row.
    async fn record(&self, id: DeliveryId, record: AttemptRecord) -> Result<(), DeliveryError> {
        db::record_attempt(&self.0.db, id, record).await?;
        Ok(())
    }
}

/// The record of a delivery that will not be attempted again by itself (failed or
/// parked), with the reason.
fn settled(
    state: DeliveryState,
    attempts: u32,
    status: Option<u16>,
    reason: impl Into<String>,
) -> AttemptRecord {
    AttemptRecord {
        state,
        attempts,
        status,
        error: Some(reason.into()),
        next_attempt_at: None,
    }
}

/// Whether a queue entry is a duplicate or outdated (delivery is at-least-once): its
/// delivery is finished, or parked and the entry is no probe, or has had attempts since
/// the entry was queued. Such an entry is acknowledged with nothing to do.
fn is_outdated(delivery: &db::Delivery, queued_attempts: u32, probe: bool) -> bool {
    delivery.state.is_final()
        || (delivery.state == DeliveryState::Parked && !probe)
        || delivery.attempts != queued_attempts
}

/// Whether the server gave a final answer: a 2xx, a 410, or another refusal with a
/// status. A 5xx, a 429 or a network error is no such answer.
fn server_answered(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Delivered(_)
            | Outcome::Gone
            | Outcome::Rejected {
                status: Some(_),
                ..
            }
    )
}

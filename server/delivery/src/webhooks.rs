//! Webhooks, the sending side: events become messages (one per subscribed webhook, stored
//! with its delivery, then queued), and a message is POSTed signed the Standard Webhooks
//! way (<https://www.standardwebhooks.com/>): `webhook-id` (the message's id, the same on
//! every retry), `webhook-timestamp` (this attempt's, in seconds) and `webhook-signature`
//! (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the webhook's secret).
//!
//! Called by the inbox handlers, the post lifecycle, the feed poller and the worker itself
//! (`delivery.failed`); the worker sends messages like any delivery, with the same queue,
//! backoff, per-host limit, timeouts, SSRF guard and dead letters.

use crate::{
    db::{self, ChannelId, EventKind, NewEvent},
    outcome::Outcome,
    Queue,
};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// The prefix of a webhook secret, as Standard Webhooks writes them.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in a generated secret.
const SECRET_BYTES: usize = 32;

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> Option<String> {
    let mut key = [0u8; SECRET_BYTES];
    openssl::rand::rand_bytes(&mut key).ok()?;
    Some(format!("{SECRET_PREFIX}{}", BASE64.encode(key)))
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookSignError {
    #[error("the webhook secret is not `whsec_` and base64")]
    BadSecret,
    #[error("signing failed: {0}")]
    Sign(#[from] openssl::error::ErrorStack),
}

/// The `webhook-signature` value of a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret's key.
pub fn signature(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookSignError> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|k| BASE64.decode(k).ok())
        .ok_or(WebhookSignError::BadSecret)?;
    let key = PKey::hmac(&key)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    signer.update(id.as_bytes())?;
    signer.update(b".")?;
    signer.update(timestamp.to_string().as_bytes())?;
    signer.update(b".")?;
    signer.update(body)?;
    Ok(format!("v1,{}", BASE64.encode(signer.sign_to_vec()?)))
}

/// Tells `channel`'s webhooks that subscribed to `kind` about it: one message each
/// (`{"type", "timestamp", "data"}`), stored with its delivery and queued. Never fails the
/// caller: what happened has happened; a message that could not be stored is logged, one
/// stored but not queued is found by the sweep.
pub async fn emit(
    db: &db::DatabaseConnection,
    queue: &Queue,
    channel: ChannelId,
    kind: EventKind,
    data: Value,
) {
    let webhooks = match db::webhooks_of(db, channel).await {
        Ok(webhooks) => webhooks,
        Err(e) => {
            tracing::warn!(error = %crate::error_chain(&e), event = kind.as_str(), "could not read the webhooks");
            return;
        }
    };
    let timestamp = db::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let payload =
        json!({ "type": kind.as_str(), "timestamp": timestamp, "data": data }).to_string();
    let events: Vec<NewEvent> = webhooks
        .into_iter()
        .filter(|w| w.disabled_at.is_none() && w.events.contains(&kind))
        .map(|w| NewEvent {
            id: Uuid::now_v7(),
            webhook: w.id,
            url: w.url,
            payload: payload.clone(),
        })
        .collect();
    if events.is_empty() {
        return;
    }
    match db::insert_events(db, channel, events).await {
        Ok(queued) => {
            if let Err(e) = queue.enqueue_deliveries(&queued).await {
                tracing::warn!(error = %e, "could not enqueue webhook messages; the sweep will");
            }
        }
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), event = kind.as_str(), "could not store webhook messages")
        }
    }
}

/// POSTs a message to a webhook's `url`, signed for this attempt.
pub(crate) async fn send(
    client: &reqwest::Client,
    debug: bool,
    url: &str,
    id: Uuid,
    secret: &str,
    body: bytes::Bytes,
) -> Outcome {
    let url = match crate::send::checked_url(url, debug, "webhook") {
        Ok(url) => url,
        Err(refused) => return refused,
    };
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let id = id.to_string();
    let signature = match signature(secret, &id, timestamp, &body) {
        Ok(signature) => signature,
        Err(e) => {
            return Outcome::Rejected {
                status: None,
                reason: e.to_string(),
            }
        }
    };
    let request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body);
    crate::send::answer(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_the_specification_does() {
        let signed = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(signature("not-a-secret", "x", 1, b"").is_err());
        let fresh = new_secret().unwrap();
        assert!(fresh.starts_with(SECRET_PREFIX) && fresh.len() > 40);
    }
}

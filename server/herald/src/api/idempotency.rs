//! `Idempotency-Key` on POSTs: the same key and body within 24 hours get the first answer
//! back and create nothing; the same key with another body is refused (422).

use super::ApiError;
use crate::{db, db::Channel, state::HeraldState};
use actix_web::{body::to_bytes, http::StatusCode, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use std::future::Future;

/// The longest key accepted.
const MAX_KEY: usize = 255;

/// Runs `handler` once per key: a repeat replays the stored answer.
pub async fn once<F, Fut>(
    request: &HttpRequest,
    data: &HeraldState,
    channel: &Channel,
    body: &[u8],
    handler: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = request.headers().get("Idempotency-Key") else {
        return handler().await;
    };
    let key = key
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY)
        .ok_or_else(|| {
            ApiError::invalid(
                "idempotency_key_invalid",
                format!("Idempotency-Key must be 1 to {MAX_KEY} visible characters"),
            )
        })?
        .to_string();
    let hash: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(stored) = db::claim_key(&data.db, channel.id, &key, &hash).await? {
        if stored.request_hash != hash {
            return Err(ApiError::invalid(
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request body",
            ));
        }
        if stored.status == 0 {
            return Err(ApiError::IdempotencyInProgress);
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        return Ok(HttpResponse::build(status)
            .content_type("application/json")
            .insert_header(("Idempotent-Replayed", "true"))
            .body(stored.response));
    }
    match handler().await {
        Ok(response) if response.status().is_success() => {
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = to_bytes(response.into_body())
                .await
                .map_err(|e| ApiError::Internal(e.to_string().into()))?;
            db::finish_key(
                &data.db,
                channel.id,
                &key,
                status.as_u16(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
            .await?;
            let mut replay = HttpResponse::build(status);
            for (name, value) in &headers {
                replay.insert_header((name.clone(), value.clone()));
            }
            Ok(replay.body(bytes))
        }
        other => {
            // A refusal is not remembered: the corrected request may reuse the key.
            db::release_key(&data.db, channel.id, &key).await?;
            other
        }
    }
}

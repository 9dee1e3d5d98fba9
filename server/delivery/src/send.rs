//! One signed POST of an activity to an inbox, and the per-activity work done once for all
//! of its deliveries: the body, its digest, the signing key and key id.

use super::{
    guard,
    outcome::{self, Outcome},
    signing::{self, KeyCache, SignError},
    ACTIVITY_CONTENT_TYPE,
};
use crate::db::{self, DbError};
use bytes::Bytes;
use openssl::pkey::{PKey, Private};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::SystemTime,
};
use url::Url;
use uuid::Uuid;

/// The most of a remote answer's body that is read (and then discarded).
const MAX_RESPONSE_BODY: usize = 64 * 1024;
/// Activities kept prepared; a fan-out needs one, so a few hundred is plenty.
const PREPARED_MAX: usize = 256;

/// An activity ready to send to any number of inboxes.
pub struct Prepared {
    pub body: Bytes,
    pub digest: String,
    pub key: Arc<PKey<Private>>,
    pub key_id: String,
    pub channel_id: db::ChannelId,
}

/// Prepared activities by id, and parsed keys.
#[derive(Default)]
pub struct Preparer {
    prepared: Mutex<HashMap<Uuid, Arc<Prepared>>>,
    keys: KeyCache,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl Preparer {
    /// The prepared form of `activity`, loaded and computed on first use.
    pub async fn get(
        &self,
        db: &impl db::ConnectionTrait,
        activity: Uuid,
    ) -> Result<Arc<Prepared>, PrepareError> {
        if let Some(prepared) = self
            .prepared
            .lock()
            .ok()
            .and_then(|p| p.get(&activity).cloned())
        {
            return Ok(prepared);
        }
        let stored = db::activity_by_id(db, activity).await?;
        let channel = db::channel_by_id(db, stored.channel_id).await?;
        let body = Bytes::from(stored.payload.into_bytes());
        let prepared = Arc::new(Prepared {
            digest: signing::digest_header(&body),
            key: self.keys.get(&channel.private_key_pem)?,
            key_id: format!("{}#main-key", actor_of(&body).unwrap_or_default()),
            channel_id: channel.id,
            body,
        });
        if let Ok(mut cache) = self.prepared.lock() {
            if cache.len() >= PREPARED_MAX {
                cache.clear();
            }
            cache.insert(activity, prepared.clone());
        }
        Ok(prepared)
    }
}

/// The `actor` of an activity's JSON: the channel whose key signs it.
fn actor_of(payload: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ActorField {
        actor: String,
    }
    serde_json::from_slice::<ActorField>(payload)
        .ok()
        .map(|a| a.actor)
}

/// POSTs `prepared` to `inbox`, signed afresh (a new `Date`) for this attempt.
pub async fn send(
    client: &reqwest::Client,
    debug: bool,
    prepared: &Prepared,
    inbox: &str,
) -> Outcome {
    let url = match checked_url(inbox, debug, "inbox") {
        Ok(url) => url,
        Err(refused) => return refused,
    };
    let host = db::authority_of(&url);
    let date = httpdate::fmt_http_date(SystemTime::now());
    let text = signing::signing_string("post", &url, &host, &date, &prepared.digest);
    let signature = match signing::signature_header(&prepared.key, &prepared.key_id, &text) {
        Ok(signature) => signature,
        Err(e) => {
            return Outcome::Rejected {
                status: None,
                reason: format!("could not sign: {e}"),
            }
        }
    };
    let request = client
        .post(url)
        .header(reqwest::header::HOST, host)
        .header(reqwest::header::DATE, date)
        .header("Digest", prepared.digest.as_str())
        .header(reqwest::header::CONTENT_TYPE, ACTIVITY_CONTENT_TYPE)
        .header("Signature", signature)
        .body(prepared.body.clone());
    answer(request).await
}

/// `raw` as a URL that may be sent to (`what` names it in the refusal): parsed, and, outside
/// debug mode, https to a public address.
pub(crate) fn checked_url(raw: &str, debug: bool, what: &str) -> Result<Url, Outcome> {
    let url = Url::parse(raw).map_err(|e| Outcome::Rejected {
        status: None,
        reason: format!("invalid {what} URL: {e}"),
    })?;
    guard::check_url(&url, debug).map_err(|refusal| Outcome::Rejected {
        status: None,
        reason: format!("refused: {refusal}"),
    })?;
    Ok(url)
}

/// Sends `request` and says what its answer means (`outcome::classify`, with the server's
/// `Retry-After`), having read a bounded part of the body so the connection can be reused.
pub(crate) async fn answer(request: reqwest::RequestBuilder) -> Outcome {
    match request.send().await {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| outcome::parse_retry_after(v, SystemTime::now()));
            let mut read = 0;
            while let Ok(Some(chunk)) = response.chunk().await {
                read += chunk.len();
                if read > MAX_RESPONSE_BODY {
                    break;
                }
            }
            outcome::classify(status, retry_after)
        }
        Err(e) => network_failure(e),
    }
}

/// What a request that got no answer comes to: refused by the SSRF guard for good, or a
/// network failure worth retrying.
pub(crate) fn network_failure(e: reqwest::Error) -> Outcome {
    if guard::is_refusal(&e) {
        return Outcome::Rejected {
            status: None,
            reason: "refused: the host has no public address".into(),
        };
    }
    Outcome::Retry {
        status: None,
        reason: if e.is_timeout() {
            "timed out".into()
        } else if e.is_connect() {
            "could not connect".into()
        } else {
            // Without the URL: it may be a reader's inbox, or a webhook's secret path.
            format!("network error: {}", crate::error_chain(&e.without_url()))
        },
        after: None,
    }
}

//! WebSub (W3C Recommendation, 2018), the subscriber's side: a feed that names a hub and
//! its `self` URL is subscribed to (`hub.secret` set, so every push is signed), the hub's
//! verification of intent is answered with its challenge for the topic we asked for only,
//! and a push is taken only when its `X-Hub-Signature` (HMAC of the body under our secret)
//! matches.

use crate::{
    db::{self, DbError, Source, SourceId},
    secrets::{random_secret, same_secret},
    state::HeraldState,
};
use feed_rs::model::Feed;
use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};

/// The lease asked of hubs: ten days, renewed by a poll in its last day.
const LEASE_SECS: i64 = 10 * 86400;

/// The callback URL of a source.
fn callback(data: &HeraldState, source: SourceId) -> String {
    format!("{}/websub/{}", data.config.base_url(), source.0)
}

/// Subscribes to the hub `feed` names, unless a subscription is active or asked for and
/// not about to end. Failures are logged: the source is still polled.
pub(super) async fn ensure(
    data: &HeraldState,
    client: &reqwest::Client,
    source: &Source,
    feed: &Feed,
) {
    let Some((hub, topic)) = super::entry::websub_links(feed) else {
        return;
    };
    let now = db::now();
    let current = source.hub.as_deref() == Some(hub.as_str())
        && source.topic.as_deref() == Some(topic.as_str());
    let fresh = match source.websub_state.as_deref() {
        Some("active") => source
            .websub_until
            .is_some_and(|t| t > now + chrono::Duration::days(1)),
        Some("requested") => source
            .last_polled_at
            .is_some_and(|t| t > now - chrono::Duration::hours(1)),
        Some("denied") => true,
        _ => false,
    };
    if current && fresh {
        return;
    }
    let hub_checked = url::Url::parse(&hub)
        .ok()
        .is_some_and(|u| crate::guard::check_redirect(&u, 0, data.config.debug).is_ok());
    if !hub_checked {
        tracing::info!(
            source = source.id.0,
            "the feed names a WebSub hub that is refused"
        );
        return;
    }
    let Some(secret) = random_secret() else {
        return;
    };
    let form = [
        ("hub.mode", "subscribe".to_string()),
        ("hub.topic", topic.clone()),
        ("hub.callback", callback(data, source.id)),
        ("hub.secret", secret.clone()),
        ("hub.lease_seconds", LEASE_SECS.to_string()),
    ];
    // Stored first: the hub may verify before it answers.
    if let Err(e) = db::set_websub(
        &data.db,
        source.id,
        Some(hub.clone()),
        Some(topic),
        Some(secret),
        Some("requested"),
        None,
    )
    .await
    {
        tracing::warn!(error = %crate::error_chain(&e), "could not store a WebSub subscription");
        return;
    }
    match client.post(&hub).form(&form).send().await {
        Ok(answer) if answer.status().is_success() => {
            tracing::info!(source = source.id.0, %hub, "WebSub subscription requested");
        }
        Ok(answer) => tracing::info!(
            source = source.id.0,
            status = answer.status().as_u16(),
            "the WebSub hub refused the subscription"
        ),
        Err(e) => {
            tracing::info!(source = source.id.0, error = %crate::error_chain(&e), "the WebSub hub did not answer")
        }
    }
}

/// What a hub's verification request gets.
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyAnswer {
    /// 200 with this body (the hub's challenge).
    Challenge(String),
    /// 404: no such subscription was asked for.
    Unknown,
}

/// Answers a hub's verification of intent (`hub.mode` subscribe or unsubscribe, or the
/// hub's `denied`), for the topic this source asked for only.
pub async fn websub_verification(
    data: &HeraldState,
    source: SourceId,
    mode: &str,
    topic: &str,
    challenge: Option<&str>,
    lease_seconds: Option<i64>,
) -> Result<VerifyAnswer, DbError> {
    let found = match db::source_by_id(&data.db, source).await {
        Ok(found) => found,
        Err(DbError::NotFound) => return Ok(VerifyAnswer::Unknown),
        Err(e) => return Err(e),
    };
    if found.topic.as_deref() != Some(topic) {
        return Ok(VerifyAnswer::Unknown);
    }
    match (mode, challenge) {
        ("subscribe", Some(challenge))
            if matches!(found.websub_state.as_deref(), Some("requested" | "active")) =>
        {
            let lease = lease_seconds.unwrap_or(LEASE_SECS).clamp(60, 365 * 86400);
            db::set_websub(
                &data.db,
                source,
                found.hub,
                found.topic,
                found.websub_secret,
                Some("active"),
                Some(db::now() + chrono::Duration::seconds(lease)),
            )
            .await?;
            Ok(VerifyAnswer::Challenge(challenge.to_string()))
        }
        ("unsubscribe", Some(challenge)) => Ok(VerifyAnswer::Challenge(challenge.to_string())),
        // Only an answer to our request: a stranger cannot switch the subscription off.
        ("denied", _) if found.websub_state.as_deref() == Some("requested") => {
            db::set_websub(
                &data.db,
                source,
                found.hub,
                found.topic,
                None,
                Some("denied"),
                None,
            )
            .await?;
            Ok(VerifyAnswer::Challenge(String::new()))
        }
        _ => Ok(VerifyAnswer::Unknown),
    }
}

/// What a push comes to.
#[derive(Debug, PartialEq, Eq)]
pub enum WebsubAnswer {
    /// Signed with our secret: taken.
    Taken,
    /// Unsigned, signed wrongly, or for no subscription: ignored (WebSub §8).
    Ignored,
}

/// Whether a push of `body` with `X-Hub-Signature: METHOD=HEX` was signed with the
/// source's secret (sha1, sha256, sha384 or sha512).
pub fn verify_push(source: &Source, signature: Option<&str>, body: &[u8]) -> WebsubAnswer {
    let (Some(secret), Some(signature)) = (source.websub_secret.as_deref(), signature) else {
        return WebsubAnswer::Ignored;
    };
    let Some((method, hex)) = signature.split_once('=') else {
        return WebsubAnswer::Ignored;
    };
    let digest = match method {
        "sha1" => MessageDigest::sha1(),
        "sha256" => MessageDigest::sha256(),
        "sha384" => MessageDigest::sha384(),
        "sha512" => MessageDigest::sha512(),
        _ => return WebsubAnswer::Ignored,
    };
    let computed = PKey::hmac(secret.as_bytes())
        .and_then(|key| {
            let mut signer = Signer::new(digest, &key)?;
            signer.update(body)?;
            signer.sign_to_vec()
        })
        .map(|mac| mac.iter().map(|b| format!("{b:02x}")).collect::<String>());
    match computed {
        Ok(computed) if same_secret(&computed, &hex.to_ascii_lowercase()) => WebsubAnswer::Taken,
        _ => WebsubAnswer::Ignored,
    }
}

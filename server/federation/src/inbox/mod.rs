//! The inbox: every inbound activity is checked before anything is stored — body size
//! (413 by the route's limit), JSON (400), HTTP signature, body digest and date (401),
//! the activity's outline (400), domain blocks (403), the signing key (401, with one
//! refetch for rotated keys), replays (processed once) — then one handler per kind acts.

pub mod envelope;
mod keys;
pub mod signature;

use crate::{
    db::{self, Channel},
    delivery::revive_server,
    state::HeraldState,
    {activities, error::FederationError},
};
use activitypub_federation::config::Data;
use actix_web::{HttpRequest, HttpResponse};
use envelope::Envelope;
use signature::RequestParts;

/// The parts of `request` its signature may cover; the target URI is this instance's
/// public URL (the TLS proxy in front changes scheme and port).
pub(crate) fn request_parts(request: &HttpRequest, base: &url::Url) -> RequestParts {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut target = base.clone();
    target.set_path("");
    let target_uri = format!("{}{path_and_query}", target.as_str().trim_end_matches('/'));
    RequestParts {
        method: request.method().as_str().to_ascii_uppercase(),
        path_and_query,
        target_uri,
        headers: request
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    name.as_str().to_ascii_lowercase(),
                    value.to_str().ok()?.to_string(),
                ))
            })
            .collect(),
    }
}

/// What became of an inbound activity that was not refused.
#[derive(Clone, Copy)]
enum Handled {
    Processed,
    /// Seen before (a retry or a replay): acknowledged, not processed again.
    Replayed,
    /// A Delete of an actor Herald knows nothing of.
    NothingToDo,
}

/// Checks and handles one inbound activity; `channel` is set for a channel's own inbox.
/// Counted in the metrics by type and outcome.
pub async fn receive(
    request: &HttpRequest,
    body: &[u8],
    data: &Data<HeraldState>,
    channel: Option<&Channel>,
) -> Result<HttpResponse, FederationError> {
    let mut kind = None;
    let result = check_and_handle(request, body, data, channel, &mut kind).await;
    let outcome = match &result {
        Ok(Handled::Processed) => "processed",
        Ok(Handled::Replayed) => "replayed",
        Ok(Handled::NothingToDo) => "ignored",
        Err(e) => e.code(),
    };
    data.metrics.inbox_activity(kind.as_deref(), outcome);
    result.map(|_| HttpResponse::Accepted().finish())
}

async fn check_and_handle(
    request: &HttpRequest,
    body: &[u8],
    data: &Data<HeraldState>,
    channel: Option<&Channel>,
    kind: &mut Option<String>,
) -> Result<Handled, FederationError> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| FederationError::BadRequest(format!("the body is not JSON: {e}")))?;
    *kind = json
        .get("type")
        .and_then(|t| t.as_str().or_else(|| t.get(0)?.as_str()))
        .map(str::to_string);
    let parts = request_parts(request, data.urls.base());
    let signature = signature::parse(&parts)?;
    signature::check_digest(signature.scheme, &parts, body)?;
    signature::check_time(&signature, &parts, chrono::Utc::now().timestamp())?;
    let activity = Envelope::parse(json)?;
    // Outside debug mode, ids must be https on public hosts before anything is fetched.
    for url in [&activity.id, &activity.actor] {
        herald_base::guard::check_url(url, data.config.debug)
            .map_err(|refusal| FederationError::UrlRefused(refusal.to_string()))?;
    }
    if activity.actor.host_str() == data.urls.base().host_str()
        && db::authority_of(&activity.actor) == data.urls.authority()
    {
        return Err(FederationError::ActivityInvalid(
            "the activity claims a local actor".into(),
        ));
    }
    let host = activity.actor.host_str().unwrap_or_default().to_string();
    if db::is_blocked(&data.db, &host, channel.map(|c| c.id)).await? {
        return Err(FederationError::DomainBlocked);
    }
    // A deleted actor's document is gone: its Delete can only be checked with the key
    // Herald already has, and without one there is nothing of it here to delete.
    let deletes_itself = activity.kind == envelope::Kind::Delete
        && activity.object_id().as_ref() == Some(&activity.actor);
    let sender = match keys::verify_sender(data, &signature, &activity.actor, deletes_itself).await
    {
        Err(FederationError::NotFound) if deletes_itself => return Ok(Handled::NothingToDo),
        other => other?,
    };
    // Counted per server once its signature is proven, so nobody can use up another
    // server's allowance by naming it in a forged keyId.
    crate::delivery::limits::check(
        &data.queue,
        crate::delivery::limits::Scope::Inbox,
        &sender.authority,
        data.config.limits.inbox_per_minute,
    )
    .await
    .map_err(FederationError::RateLimited)?;
    if !db::record_received(&data.db, activity.id.as_str()).await? {
        tracing::debug!("a replayed activity was ignored");
        return Ok(Handled::Replayed);
    }
    if let Err(e) = activities::dispatch(data, &activity, &sender).await {
        db::forget_received(&data.db, activity.id.as_str()).await?;
        return Err(e);
    }
    // A server that sends a verified activity is up: if it was marked unreachable, its
    // parked deliveries go out again.
    if let Err(e) = revive_server(&data.db, &data.queue, &sender.authority).await {
        tracing::warn!(error = %crate::error_chain(&e), "could not revive a server");
    }
    Ok(Handled::Processed)
}

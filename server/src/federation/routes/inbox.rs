//! Inboxes: a channel's own and the shared one. Both verify the Digest and the HTTP
//! signature (via activitypub_federation) before anything is stored.

use super::actors::load_channel;
use crate::{
    delivery::revive_server,
    federation::{activities::InboxActivity, error::FederationError, objects::ApubRemoteActor},
    state::HeraldState,
};
use activitypub_federation::{
    actix_web::inbox::receive_activity, config::Data, error::Error as ProtocolError,
};
use actix_web::{web, HttpRequest, HttpResponse};

/// The server (authority) of an activity's `actor`, given as an IRI or inline.
fn sender_authority(json: &serde_json::Value) -> Option<String> {
    let actor = &json["actor"];
    let id = actor.as_str().or_else(|| actor["id"].as_str())?;
    url::Url::parse(id)
        .ok()
        .map(|url| crate::db::authority_of(&url))
}

pub async fn post_channel_inbox(
    name: web::Path<String>,
    request: HttpRequest,
    body: web::Bytes,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    load_channel(&data, &name).await?;
    receive(request, body, data).await
}

pub async fn post_shared_inbox(
    request: HttpRequest,
    body: web::Bytes,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    receive(request, body, data).await
}

async fn receive(
    request: HttpRequest,
    body: web::Bytes,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    // Malformed JSON is the sender's mistake whatever its signature: say so plainly.
    let json = serde_json::from_slice::<serde_json::Value>(&body)
        .map_err(|e| FederationError::BadRequest(format!("the body is not JSON: {e}")))?;
    let sender = sender_authority(&json);
    if !request.headers().contains_key("Signature") {
        return Err(FederationError::SignatureInvalid(
            "the request has no Signature header".into(),
        ));
    }
    match receive_activity::<InboxActivity, ApubRemoteActor, HeraldState>(request, body, &data)
        .await
    {
        Ok(_) => {
            // A server that sends a verified activity is up: if it was marked unreachable,
            // its parked deliveries go out again.
            if let Some(authority) = sender {
                if let Err(e) = revive_server(&data.db, &data.queue, &authority).await {
                    tracing::warn!(error = %crate::error_chain(&e), "could not revive a server");
                }
            }
            Ok(HttpResponse::Accepted().finish())
        }
        // The crate reports a signature it cannot check (missing headers, an expired
        // date, a malformed key) as `Other`; in the inbox that is a signature failure.
        Err(FederationError::Protocol(ProtocolError::Other(reason))) => {
            Err(FederationError::SignatureInvalid(reason))
        }
        Err(e) => Err(e),
    }
}

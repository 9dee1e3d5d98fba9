//! Inboxes: a channel's own and the shared one. Both verify the Digest and the HTTP
//! signature (via activitypub_federation) before anything is stored.

use super::actors::load_channel;
use crate::{
    federation::{activities::InboxActivity, error::FederationError, objects::ApubRemoteActor},
    state::HeraldState,
};
use activitypub_federation::{
    actix_web::inbox::receive_activity, config::Data, error::Error as ProtocolError,
};
use actix_web::{web, HttpRequest, HttpResponse};

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
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&body) {
        return Err(FederationError::BadRequest(format!(
            "the body is not JSON: {e}"
        )));
    }
    if !request.headers().contains_key("Signature") {
        return Err(FederationError::SignatureInvalid(
            "the request has no Signature header".into(),
        ));
    }
    match receive_activity::<InboxActivity, ApubRemoteActor, HeraldState>(request, body, &data)
        .await
    {
        Ok(_) => Ok(HttpResponse::Accepted().finish()),
        // The crate reports a signature it cannot check (missing headers, an expired
        // date, a malformed key) as `Other`; in the inbox that is a signature failure.
        Err(FederationError::Protocol(ProtocolError::Other(reason))) => {
            Err(FederationError::SignatureInvalid(reason))
        }
        Err(e) => Err(e),
    }
}

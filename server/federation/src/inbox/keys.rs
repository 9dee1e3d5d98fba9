//! Whose key signed a request, and whether it verifies: the activity's actor's own key, or
//! a key of the same server (a server signing for its users, a stand-alone key document
//! as GoToSocial serves at `ACTOR/main-key`). A key that fails is fetched again once, in
//! case the actor rotated it.

use super::signature::{self, Signature};
use crate::{
    db::{self, authority_of, RemoteActor},
    state::HeraldState,
    {error::FederationError, objects::ApubRemoteActor},
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use serde_json::Value;
use url::Url;

fn unverifiable(e: impl std::fmt::Display) -> FederationError {
    FederationError::ActorUnverifiable(e.to_string())
}

/// True when `key_id` names `actor`'s own key.
fn own_key(actor: &RemoteActor, key_id: &str) -> bool {
    match &actor.key_id {
        Some(id) => id == key_id,
        None => key_id.split('#').next() == Some(actor.uri.as_str()),
    }
}

/// The actor of an activity, fetched (or from the cache), when it signed the request.
pub async fn verify_sender(
    data: &Data<HeraldState>,
    signature: &Signature,
    actor: &Url,
    cached_only: bool,
) -> Result<RemoteActor, FederationError> {
    let sender = if cached_only {
        db::remote_actor_by_uri(&data.db, actor).await?
    } else {
        ObjectId::<ApubRemoteActor>::from(actor.clone())
            .dereference(data)
            .await
            .map_err(unverifiable)?
            .0
    };
    if own_key(&sender, &signature.key_id) {
        if signature::verify(signature, &sender.public_key_pem) {
            return Ok(sender);
        }
        if !cached_only {
            // Perhaps a new key: look once more (Mastodon does the same).
            let fresh = ObjectId::<ApubRemoteActor>::from(actor.clone())
                .dereference_forced(data)
                .await
                .map_err(unverifiable)?
                .0;
            if own_key(&fresh, &signature.key_id)
                && signature::verify(signature, &fresh.public_key_pem)
            {
                return Ok(fresh);
            }
        }
        return Err(FederationError::SignatureInvalid(
            "it does not verify with the actor's key".into(),
        ));
    }
    // Another key: it must be of the same server, and fetched to know whose it is.
    let key_url = Url::parse(&signature.key_id)
        .map_err(|_| FederationError::SignatureInvalid("the keyId is not a URL".into()))?;
    if authority_of(&key_url) != sender.authority {
        return Err(FederationError::SignatureInvalid(
            "the key belongs to another server than the activity's actor".into(),
        ));
    }
    if cached_only {
        return Err(FederationError::SignatureInvalid(
            "the key is not the actor's".into(),
        ));
    }
    let (pem, owner, owner_doc) = fetch_key(data, &key_url).await?;
    if owner.host_str() != sender.uri.host_str() {
        return Err(FederationError::SignatureInvalid(
            "the key's owner is on another server".into(),
        ));
    }
    if owner != sender.uri {
        // Not the actor's own key: only the server itself (its instance actor, an
        // Application or Service) may sign for its users; another user may not.
        let owner_doc = match owner_doc {
            Some(doc) => doc,
            None => fetch_document(data, &owner).await?,
        };
        let kind = owner_doc.get("type").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "Application" | "Service") {
            return Err(FederationError::SignatureInvalid(
                "the key belongs to another actor than the activity's".into(),
            ));
        }
    }
    if signature::verify(signature, &pem) {
        Ok(sender)
    } else {
        Err(FederationError::SignatureInvalid(
            "it does not verify with the key".into(),
        ))
    }
}

async fn fetch_document(data: &Data<HeraldState>, url: &Url) -> Result<Value, FederationError> {
    let mut document = url.clone();
    document.set_fragment(None);
    Ok(
        activitypub_federation::fetch::fetch_object_http::<HeraldState, Value>(
            &document,
            &data.reset_request_count(),
        )
        .await
        .map_err(unverifiable)?
        .object,
    )
}

/// Fetches a key: a stand-alone key document (`{id, owner, publicKeyPem}`), or an actor
/// document whose `publicKey` has that id. Returns the PEM, the owner, and the owner's
/// document when that was what was fetched.
async fn fetch_key(
    data: &Data<HeraldState>,
    key: &Url,
) -> Result<(String, Url, Option<Value>), FederationError> {
    let fetched = fetch_document(data, key).await?;
    let key_object = if fetched.get("publicKeyPem").is_some() {
        &fetched
    } else {
        fetched
            .get("publicKey")
            .filter(|k| k.get("id").and_then(Value::as_str) == Some(key.as_str()))
            .ok_or_else(|| FederationError::SignatureInvalid("the keyId names no key".into()))?
    };
    let pem = key_object
        .get("publicKeyPem")
        .and_then(Value::as_str)
        .ok_or_else(|| FederationError::SignatureInvalid("the key has no publicKeyPem".into()))?;
    let owner = key_object
        .get("owner")
        .and_then(Value::as_str)
        .and_then(|o| Url::parse(o).ok())
        .ok_or_else(|| FederationError::SignatureInvalid("the key has no owner".into()))?;
    let owner_doc = (fetched.get("id").and_then(Value::as_str) == Some(owner.as_str()))
        .then(|| fetched.clone());
    Ok((pem.to_string(), owner, owner_doc))
}

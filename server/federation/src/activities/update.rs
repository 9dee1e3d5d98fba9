//! `Update`: of the sender's actor (the cached copy is refreshed from it), or of a reply
//! (its stored text follows the edit).

use super::reply::{store_reply, POST_TYPES};
use crate::{
    db::{self, NewRemoteActor, RemoteActor},
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{type_of, Envelope},
        protocol::actor::RemoteActorDoc,
    },
};
use activitypub_federation::config::Data;

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let object = &activity.object;
    if activity.object_id().as_ref() == Some(&sender.uri) {
        // Signed by the actor itself: its new document can be taken as sent.
        let doc: RemoteActorDoc = serde_json::from_value(object.clone()).map_err(|e| {
            FederationError::ActivityInvalid(format!("the actor is unreadable: {e}"))
        })?;
        let key = doc.check()?.clone();
        let shared_inbox = doc.shared_inbox().cloned();
        db::upsert_remote_actor(
            &data.db,
            NewRemoteActor {
                uri: doc.id,
                inbox: doc.inbox,
                shared_inbox,
                public_key_pem: key.public_key_pem,
                key_id: Some(key.id),
                also_known_as: doc.also_known_as,
            },
        )
        .await?;
        return Ok(());
    }
    if type_of(object).is_some_and(|t| POST_TYPES.contains(&t)) {
        return store_reply(data, object, sender, false).await.map(|_| ());
    }
    Ok(())
}

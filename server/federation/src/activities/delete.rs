//! `Delete`: of the sender's actor (its follows, interactions and replies go), or of one of
//! its objects (a reply, an interaction).

use crate::{
    db::{self, RemoteActor},
    state::HeraldState,
    {error::FederationError, inbox::envelope::Envelope},
};
use activitypub_federation::config::Data;

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let Some(object) = activity.object_id() else {
        return Ok(());
    };
    if object == sender.uri {
        let removed = db::remove_actor_content(&data.db, sender.uri.as_str()).await?;
        // Its follows go with it (cascade).
        db::delete_remote_actor(&data.db, &sender.uri).await?;
        tracing::info!(server = %sender.authority, removed, "an actor was deleted");
        return Ok(());
    }
    if object.host_str() != sender.uri.host_str() {
        return Err(FederationError::Refused(
            "a Delete must be of the sender's own object".into(),
        ));
    }
    db::remove_reply(&data.db, object.as_str(), sender.uri.as_str()).await?;
    db::remove_interaction(&data.db, object.as_str(), &sender.authority).await?;
    Ok(())
}

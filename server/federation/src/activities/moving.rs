//! `Move`: a follower moved to another account. When the new account lists the old one in
//! `alsoKnownAs` (proof both are the same person), the new account takes the old one's
//! place among the channels' followers.

use crate::{
    db::{self, RemoteActor},
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{id_of, Envelope},
        objects::ApubRemoteActor,
    },
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    if activity.object_id().as_ref() != Some(&sender.uri) {
        return Err(FederationError::Refused(
            "only an actor can move itself".into(),
        ));
    }
    let target = activity
        .json
        .get("target")
        .and_then(id_of)
        .ok_or_else(|| FederationError::ActivityInvalid("Move without a target".into()))?;
    let new = ObjectId::<ApubRemoteActor>::from(target)
        .dereference_forced(data)
        .await
        .map_err(|e| FederationError::ActorUnverifiable(e.to_string()))?
        .0;
    if !new
        .also_known_as
        .iter()
        .any(|aka| aka == sender.uri.as_str())
    {
        return Err(FederationError::Refused(
            "the target does not list the moving actor in alsoKnownAs".into(),
        ));
    }
    let mut moved = 0;
    for channel in db::list_channels(&data.db).await? {
        if db::remove_follower(&data.db, channel.id, sender.id).await? {
            db::add_follower(&data.db, channel.id, &new, activity.id.as_str(), false).await?;
            moved += 1;
        }
    }
    tracing::info!(moved, "a follower moved");
    Ok(())
}

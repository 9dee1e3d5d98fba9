//! `Undo(Follow)`: the follower leaves. Undos of other activities are ignored.

use crate::{
    db,
    federation::{
        error::FederationError,
        objects::ApubRemoteActor,
        protocol::activities::{Undo, UndoObject},
    },
    state::HeraldState,
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};

/// Only the actor who followed can undo the follow.
pub async fn verify(undo: &Undo, _data: &Data<HeraldState>) -> Result<(), FederationError> {
    if let UndoObject::Follow(follow) = &undo.object {
        if follow.actor != undo.actor {
            return Err(FederationError::Refused(
                "an Undo can only undo the sender's own Follow".into(),
            ));
        }
    }
    Ok(())
}

pub async fn receive(undo: Undo, data: &Data<HeraldState>) -> Result<(), FederationError> {
    let actor = ObjectId::<ApubRemoteActor>::from(undo.actor.clone())
        .dereference(data)
        .await?
        .0;
    let removed = match &undo.object {
        UndoObject::Follow(follow) => match data.urls.parse_channel(&follow.object) {
            Some(name) => match db::channel_by_name(&data.db, name.as_str()).await {
                Ok(channel) => db::remove_follower(&data.db, channel.id, actor.id).await?,
                Err(db::DbError::NotFound) => false,
                Err(e) => return Err(e.into()),
            },
            None => false,
        },
        UndoObject::Iri(follow_id) => {
            db::remove_follow_by_uri(&data.db, actor.id, follow_id.as_str()).await?
        }
        UndoObject::Other(_) => false,
    };
    if removed {
        tracing::info!(server = %actor.authority, "follower left");
    }
    Ok(())
}

//! `Create(Note)`: a new post, sent to the channel's followers.

use crate::{
    db::{Channel, Media, Post},
    {
        objects::post::note_for,
        protocol::{activities::Create, context::object_context},
        Urls,
    },
};
use activitypub_federation::kinds::activity::CreateType;
use uuid::Uuid;

/// Builds the Create of `post` with the activity id `id`. Its addressing repeats the
/// Note's, as receivers expect.
pub fn build_create(
    urls: &Urls,
    channel: &Channel,
    post: &Post,
    media: &[Media],
    id: Uuid,
) -> Create {
    let note = note_for(urls, channel, post, media);
    Create {
        context: object_context(),
        id: urls.activity(id),
        kind: CreateType::Create,
        actor: urls.channel(&channel.name),
        published: note.published,
        to: note.to.clone(),
        cc: note.cc.clone(),
        object: note,
    }
}

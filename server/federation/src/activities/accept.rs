//! `Accept(Follow)`: the answer to a Follow, signed by the channel.

use crate::{
    db::Channel,
    {
        protocol::{activities::Accept, activities::Follow, context::object_context},
        Urls,
    },
};
use activitypub_federation::kinds::activity::AcceptType;
use uuid::Uuid;

/// Builds the Accept of `follow` with a fresh, stable id.
pub fn build_accept(urls: &Urls, channel: &Channel, follow: Follow) -> (Uuid, Accept) {
    let id = Uuid::now_v7();
    let accept = Accept {
        context: object_context(),
        id: urls.activity(id),
        kind: AcceptType::Accept,
        actor: urls.channel(&channel.name),
        object: follow,
    };
    (id, accept)
}

//! The activities that follow a post or a profile through its life: `Update` of a Note
//! (an edit) or of the actor (a profile change), `Delete` with a `Tombstone`, and `Add` /
//! `Remove` to the featured collection (pins). Each has a fresh, stable id.

use crate::{
    db::{Channel, Media, Post},
    {
        objects::post::{note_for, public},
        protocol::{
            activities::OwnActivity,
            actor::Actor,
            context::{actor_context, object_context},
        },
        Urls,
    },
};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

fn activity(urls: &Urls, channel: &Channel, kind: &str, object: Value, id: Uuid) -> OwnActivity {
    OwnActivity {
        context: object_context(),
        id: urls.activity(id),
        kind: kind.into(),
        actor: urls.channel(&channel.name),
        published: None,
        to: vec![public()],
        cc: vec![urls.followers(&channel.name)],
        object,
        target: None,
    }
}

/// `Update(Note)` of an edited post. The Note carries `updated`, which receivers require
/// to be later than the previous one to take it as an edit (Mastodon, PR #36190).
pub fn build_update_note(
    urls: &Urls,
    channel: &Channel,
    post: &Post,
    media: &[Media],
) -> (Uuid, OwnActivity) {
    let id = Uuid::now_v7();
    (id, build_update_note_as(urls, channel, post, media, id))
}

/// The `Update(Note)` of [`build_update_note`] under a given activity id (to rebuild a
/// stored one once its post's mentions are resolved).
pub fn build_update_note_as(
    urls: &Urls,
    channel: &Channel,
    post: &Post,
    media: &[Media],
    id: Uuid,
) -> OwnActivity {
    let note = note_for(urls, channel, post, media);
    let mut update = activity(urls, channel, "Update", json!(note), id);
    // Addressed like the Note, so the same servers get it.
    update.to = note.to;
    update.cc = note.cc;
    update.published = post.updated_at;
    update
}

/// `Move` of the channel to `target` (which lists the channel in `alsoKnownAs`):
/// followers' servers move their follows there.
pub fn build_move(urls: &Urls, channel: &Channel, target: &url::Url) -> (Uuid, OwnActivity) {
    let id = Uuid::now_v7();
    let actor = urls.channel(&channel.name);
    let mut moving = activity(urls, channel, "Move", json!(actor), id);
    moving.target = Some(target.clone());
    (id, moving)
}

/// `Delete` of the channel's actor: followers' servers drop the account and its posts.
pub fn build_delete_actor(urls: &Urls, channel: &Channel) -> (Uuid, OwnActivity) {
    let id = Uuid::now_v7();
    let actor = urls.channel(&channel.name);
    (id, activity(urls, channel, "Delete", json!(actor), id))
}

/// `Delete` of a post with a `Tombstone` (Mastodon matches the status by its id).
pub fn build_delete(
    urls: &Urls,
    channel: &Channel,
    post: &Post,
    deleted_at: DateTime<Utc>,
) -> (Uuid, OwnActivity) {
    let id = Uuid::now_v7();
    let tombstone = json!({
        "id": urls.post(post.id),
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": deleted_at,
    });
    let mut delete = activity(urls, channel, "Delete", tombstone, id);
    delete
        .cc
        .extend(post.mentions.iter().filter_map(|m| url::Url::parse(m).ok()));
    (id, delete)
}

/// `Add` (pin) or `Remove` (unpin) of a post to the featured collection, with the Note
/// embedded so receivers need not fetch it.
pub fn build_pin(
    urls: &Urls,
    channel: &Channel,
    post: &Post,
    media: &[Media],
    pinned: bool,
) -> (Uuid, OwnActivity) {
    let id = Uuid::now_v7();
    let note = note_for(urls, channel, post, media);
    let kind = if pinned { "Add" } else { "Remove" };
    let mut pin = activity(urls, channel, kind, json!(note), id);
    pin.target = Some(urls.featured(&channel.name));
    (id, pin)
}

/// `Update` of the channel's actor after a profile change; the object's id is the sender,
/// as Mastodon requires.
pub fn build_update_actor(urls: &Urls, channel: &Channel, actor: &Actor) -> (Uuid, OwnActivity) {
    let id = Uuid::now_v7();
    let mut object = json!(actor);
    if let Some(map) = object.as_object_mut() {
        map.remove("@context");
    }
    let mut update = activity(urls, channel, "Update", object, id);
    update.context = actor_context();
    update.published = Some(Utc::now());
    (id, update)
}

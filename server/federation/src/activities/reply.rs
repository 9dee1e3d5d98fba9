//! `Create` of a reply to a channel post: counted, its server remembered (the post's edits
//! reach it), and kept — sanitized — for the owner to read. Other Creates (posts that
//! merely mention the channel) are ignored.

use super::local_post;
use crate::{
    content,
    db::{self, NewInteraction, NewReply, RemoteActor, INTERACTION_REPLY},
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{id_of, type_of, Envelope},
    },
};
use activitypub_federation::config::Data;
use serde_json::Value;

/// Object types that are posts.
pub(super) const POST_TYPES: &[&str] = &["Note", "Article", "Question", "Page"];

pub async fn create(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let note = &activity.object;
    if !note.is_object() || !type_of(note).is_some_and(|t| POST_TYPES.contains(&t)) {
        return Ok(());
    }
    remember_quote(data, note, sender).await?;
    if !store_reply(data, note, sender, true).await? {
        tell_mentions(data, note, sender).await?;
    }
    Ok(())
}

/// A post (not a reply to ours) that mentions channels here: their webhooks hear of it
/// (`mention`), with its id, author and sanitized content. Nothing is stored.
async fn tell_mentions(
    data: &HeraldState,
    note: &Value,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let Some(tags) = note.get("tag").and_then(Value::as_array) else {
        return Ok(());
    };
    for tag in tags {
        if type_of(tag) != Some("Mention") {
            continue;
        }
        let Some(href) = tag.get("href").and_then(id_of) else {
            continue;
        };
        if let Some(channel) = super::local_channel(data, &href).await? {
            let event = serde_json::json!({
                "id": note.get("id"),
                "actor": sender.uri,
                "content": note.get("content").and_then(Value::as_str).map(content::sanitize_remote),
            });
            super::tell(data, channel.id, db::EventKind::Mention, event).await;
        }
    }
    Ok(())
}

/// The properties servers name a quoted post in: FEP-044f and Mastodon 4.5 (`quote`),
/// Misskey (`_misskey_quote`), Pleroma and Akkoma (`quoteUrl`), Fedibird (`quoteUri`).
const QUOTE_PROPERTIES: &[&str] = &["quote", "_misskey_quote", "quoteUrl", "quoteUri"];

/// A post quoting one of ours: its server is remembered, so our post's edits and deletion
/// reach the quote's readers too.
async fn remember_quote(
    data: &HeraldState,
    note: &Value,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let Some(quoted) = QUOTE_PROPERTIES
        .iter()
        .find_map(|property| note.get(*property).and_then(id_of))
    else {
        return Ok(());
    };
    if let Some(post) = local_post(data, &quoted).await? {
        db::add_reach(&data.db, post.id, sender.delivery_inbox().as_str()).await?;
    }
    Ok(())
}

/// Stores (or, on an edit, refreshes) a reply to one of our posts; false when `note` is
/// no reply to one.
pub(super) async fn store_reply(
    data: &HeraldState,
    note: &Value,
    sender: &RemoteActor,
    count_it: bool,
) -> Result<bool, FederationError> {
    let Some(in_reply_to) = note.get("inReplyTo").and_then(id_of) else {
        return Ok(false);
    };
    let Some(post) = local_post(data, &in_reply_to).await? else {
        return Ok(false);
    };
    let id = id_of(note)
        .ok_or_else(|| FederationError::ActivityInvalid("the reply has no id".into()))?;
    let author = note.get("attributedTo").and_then(|a| match a {
        Value::Array(items) => items.iter().find_map(id_of),
        other => id_of(other),
    });
    if author.as_ref() != Some(&sender.uri) || id.host_str() != sender.uri.host_str() {
        return Err(FederationError::Refused(
            "a reply must be the sender's own".into(),
        ));
    }
    let html = note
        .get("content")
        .and_then(Value::as_str)
        .map(content::sanitize_remote)
        .unwrap_or_default();
    let published = note
        .get("published")
        .and_then(Value::as_str)
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|p| p.with_timezone(&chrono::Utc));
    let new = db::upsert_reply(
        &data.db,
        NewReply {
            id: id.to_string(),
            post_id: post.id,
            channel_id: post.channel_id,
            actor_uri: sender.uri.to_string(),
            authority: sender.authority.clone(),
            content_html: html.clone(),
            published,
        },
    )
    .await?;
    if new && count_it {
        let event = serde_json::json!({
            "post_id": post.id.to_string(),
            "id": id,
            "actor": sender.uri,
            "content": html,
        });
        super::tell(data, post.channel_id, db::EventKind::Reply, event).await;
        db::add_interaction(
            &data.db,
            NewInteraction {
                id: id.to_string(),
                post_id: post.id,
                kind: INTERACTION_REPLY,
                authority: sender.authority.clone(),
                content: None,
            },
        )
        .await?;
    }
    db::add_reach(&data.db, post.id, sender.delivery_inbox().as_str()).await?;
    Ok(true)
}

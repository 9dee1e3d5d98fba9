//! Likes, emoji reactions (Pleroma's `EmojiReact`, Misskey's `Like` with
//! `_misskey_reaction`) and boosts (`Announce`) of channel posts: counted per post, and
//! the server remembered so the post's edits and deletion reach it too. No reader is kept.

use super::local_post;
use crate::{
    db::{
        self, NewInteraction, RemoteActor, INTERACTION_BOOST, INTERACTION_LIKE,
        INTERACTION_REACTION,
    },
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{Envelope, Kind},
    },
};
use activitypub_federation::config::Data;
use serde_json::Value;

async fn count(
    data: &HeraldState,
    activity: &Envelope,
    sender: &RemoteActor,
    kind: &'static str,
    content: Option<String>,
) -> Result<(), FederationError> {
    let Some(object) = activity.object_id() else {
        return Ok(());
    };
    let Some(post) = local_post(data, &object).await? else {
        // Not about one of our posts: nothing to count.
        return Ok(());
    };
    let new = db::add_interaction(
        &data.db,
        NewInteraction {
            id: activity.id.to_string(),
            post_id: post.id,
            kind,
            authority: sender.authority.clone(),
            content: content.clone(),
        },
    )
    .await?;
    db::add_reach(&data.db, post.id, sender.delivery_inbox().as_str()).await?;
    if new {
        // Counted per server, naming no one, as the counts are.
        let event_kind = if kind == INTERACTION_BOOST {
            db::EventKind::Boost
        } else {
            db::EventKind::Like
        };
        let event = serde_json::json!({
            "post_id": post.id.to_string(),
            "server": sender.authority,
            "reaction": content,
        });
        super::tell(data, post.channel_id, event_kind, event).await;
    }
    Ok(())
}

pub async fn like(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let reaction = activity
        .json
        .get("_misskey_reaction")
        .or_else(|| activity.json.get("content"))
        .and_then(Value::as_str)
        .map(|r| r.chars().take(64).collect::<String>());
    match (&activity.kind, reaction) {
        (Kind::Dislike, _) => Ok(()),
        (Kind::EmojiReact, reaction) | (Kind::Like, reaction @ Some(_)) => {
            count(data, activity, sender, INTERACTION_REACTION, reaction).await
        }
        _ => count(data, activity, sender, INTERACTION_LIKE, None).await,
    }
}

pub async fn announce(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    // An Announce of an activity (Lemmy's, WordPress's) is a relay of someone else's
    // words, not signed by them: it is not acted on.
    if activity
        .object_type()
        .is_some_and(|t| t != "Note" && t != "Article" && t != "Question")
    {
        return Ok(());
    }
    count(data, activity, sender, INTERACTION_BOOST, None).await
}

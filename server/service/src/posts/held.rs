//! Mentions resolved off the request path. A post that mentions accounts on other servers
//! is stored and answered at once, with its activity's fan-out held; [`release`] then
//! looks the mentions up by WebFinger (each within `MENTION_TIMEOUT`, so a hanging server
//! delays the post by that at most), rewrites the post's links and tags and the stored
//! activity, adds the mentioned servers' inboxes, and lets the fan-out go. Whichever of
//! the spawned task and the scheduler's sweep ([`release_stale`]) comes first releases it;
//! the other finds nothing to do.

use super::{
    body::{mention_inboxes, resolve_mentions, MENTION_TIMEOUT},
    PostError,
};
use crate::{
    db::{self, FanoutId, Release, ResolvedMentions},
    federation::activities::{create::build_create, lifecycle::build_update_note_as},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use chrono::{DateTime, Utc};

/// How long a fan-out stays held before the sweep releases it: the lookups' own limit
/// plus a margin for the task that normally releases it within that limit.
const SWEEP_AFTER: std::time::Duration = MENTION_TIMEOUT.saturating_mul(3);

/// Resolves the mentions of a held fan-out's post and releases the fan-out to the queue.
/// Returns whether this call released it (`false`: it was not held, or another process
/// released it first).
pub async fn release(data: &Data<HeraldState>, fanout: FanoutId) -> Result<bool, PostError> {
    let held = db::fanout_by_id(&data.db, fanout).await?;
    if held.state != db::FanoutState::Held {
        return Ok(false);
    }
    let activity = db::activity_by_id(&data.db, held.activity_id).await?;
    let Some(post_id) = activity.post_id else {
        // Only a post's activities are held; anything else goes out as stored.
        let release = Release {
            fanout,
            activity: activity.id,
            payload: activity.payload,
            extra_inboxes: held.extra_inboxes,
            mentions: None,
        };
        return finish(data, fanout, release).await;
    };
    let post = db::post_by_uuid(&data.db, post_id).await?;
    if post.deleted_at.is_some() {
        return Ok(db::cancel_held_fanout(&data.db, fanout).await?);
    }
    let channel = db::channel_by_id(&data.db, post.channel_id).await?;
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let resolved = resolve_mentions(data, &channel, &post).await;
    let payload = match activity.kind.as_str() {
        "Create" => serde_json::to_string(&build_create(
            &data.urls,
            &channel,
            &resolved,
            &media,
            activity.id,
        ))?,
        "Update" => serde_json::to_string(&build_update_note_as(
            &data.urls,
            &channel,
            &resolved,
            &media,
            activity.id,
        ))?,
        _ => activity.payload,
    };
    let mut extra_inboxes = held.extra_inboxes;
    for inbox in mention_inboxes(data, &resolved.mentions).await {
        if !extra_inboxes.contains(&inbox) {
            extra_inboxes.push(inbox);
        }
    }
    let release = Release {
        fanout,
        activity: activity.id,
        payload,
        extra_inboxes,
        mentions: Some(ResolvedMentions {
            post: post.id,
            source: post.source,
            content_html: resolved.content_html,
            tags: resolved.tags,
            mentions: resolved.mentions,
        }),
    };
    finish(data, fanout, release).await
}

/// Stores the release and, when it was this call's, enqueues the fan-out (if Redis is
/// away, the delivery sweeper enqueues it later: it is pending now).
async fn finish(data: &HeraldState, fanout: FanoutId, release: Release) -> Result<bool, PostError> {
    if !db::release_held_fanout(&data.db, release).await? {
        return Ok(false);
    }
    if let Err(err) = data.queue.enqueue_fanout(fanout).await {
        tracing::warn!(error = %crate::error_chain(&err), "could not enqueue a fan-out");
    }
    Ok(true)
}

/// Releases the fan-outs held for longer than their lookups may take: the process that
/// stored them stopped before it released them. Returns how many this call released.
pub async fn release_stale(
    data: &Data<HeraldState>,
    now: DateTime<Utc>,
) -> Result<usize, PostError> {
    let before = now - chrono::Duration::from_std(SWEEP_AFTER).unwrap_or_default();
    let mut released = 0;
    for fanout in db::held_fanouts_before(&data.db, before, 100).await? {
        if release(data, fanout).await? {
            released += 1;
        }
    }
    Ok(released)
}

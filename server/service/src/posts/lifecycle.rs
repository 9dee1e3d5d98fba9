//! Creating, previewing, editing, deleting, pinning and publishing posts.

use super::{
    body::{load_media, mention_inboxes, mentions_other_servers, prepare_body},
    held, PostError, PostInput,
};
use crate::{
    db::{
        self, ActivityKind, Actor, AuditAction, Broadcast, Channel, FanoutId, Media, NewActivity,
        NewPost, Post, PostId,
    },
    federation::{
        activities::{create::build_create, lifecycle},
        objects::post::note_for,
        protocol::note::Note,
    },
    state::HeraldState,
};
use activitypub_federation::config::Data;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

/// A post as stored, with its attachments.
#[derive(Clone, Debug)]
pub struct Published {
    pub post: Post,
    pub media: Vec<Media>,
}

/// What a post would look like, without publishing it.
#[derive(Clone, Debug)]
pub struct Preview {
    pub note: Note,
    pub html: String,
}

fn broadcast<T: Serialize>(
    id: Uuid,
    channel: &Channel,
    kind: ActivityKind,
    post: Option<PostId>,
    activity: &T,
    extra_inboxes: Vec<String>,
    held: bool,
) -> Result<Broadcast, PostError> {
    Ok(Broadcast {
        activity: NewActivity {
            id,
            channel_id: channel.id,
            kind,
            post_id: post,
            payload: serde_json::to_string(activity)?,
        },
        extra_inboxes,
        held,
    })
}

/// Adds the servers that liked, boosted or replied to `post` (as Mastodon sends edits and
/// deletions to them too, so boosted copies change as well).
async fn add_reach(
    data: &HeraldState,
    post: PostId,
    inboxes: &mut Vec<String>,
) -> Result<(), PostError> {
    for inbox in db::reach_inboxes(&data.db, post).await? {
        if !inboxes.contains(&inbox) {
            inboxes.push(inbox);
        }
    }
    Ok(())
}

/// Sends a committed fan-out on its way: to the queue (if Redis is away, the sweeper
/// enqueues it later), or, when it is held for its post's mentions, to a task that
/// resolves them and then releases it (if this process stops first, the scheduler's
/// sweep does).
async fn dispatch(data: &Data<HeraldState>, fanout: Option<FanoutId>, held: bool) {
    let Some(fanout) = fanout else {
        return;
    };
    if held {
        let data = data.reset_request_count();
        tokio::spawn(async move {
            if let Err(err) = held::release(&data, fanout).await {
                tracing::warn!(error = %crate::error_chain(&err), "could not release a held fan-out");
            }
        });
    } else if let Err(err) = data.queue.enqueue_fanout(fanout).await {
        tracing::warn!(error = %crate::error_chain(&err), "could not enqueue a fan-out");
    }
}

/// The signature a new post by `actor` carries: the person's name, when the channel signs
/// its posts.
fn signature_of(channel: &Channel, actor: &Actor) -> Option<String> {
    match actor {
        Actor::Person(user) if channel.sign_posts => Some(user.display_name.clone()),
        _ => None,
    }
}

/// Creates a post by `actor`: published now (its `Create` goes to followers and
/// mentioned servers), or stored for later when `scheduled_at` is set.
pub async fn create(
    data: &Data<HeraldState>,
    channel: &Channel,
    actor: &Actor,
    input: PostInput,
) -> Result<Published, PostError> {
    let now = db::now();
    let input = input.validate(data.config.posts.max_chars, now)?;
    let media = load_media(data, channel, &input.media).await?;
    if media.iter().any(|m| m.post_id.is_some()) {
        return Err(PostError::invalid(
            "media_invalid",
            "an attachment already belongs to another post",
        ));
    }
    let body = prepare_body(data, channel, &input, signature_of(channel, actor)).await;
    let new = NewPost {
        id: PostId::new(),
        channel_id: channel.id,
        body,
        created_at: now,
        scheduled_at: input.scheduled_at,
    };
    let held = new.scheduled_at.is_none() && mentions_other_servers(data, &input.text);
    let create = if new.scheduled_at.is_none() {
        let post = new.to_post();
        // A post's Create shares the post's UUID: one Create per post, found without a lookup.
        let activity = build_create(&data.urls, channel, &post, &media, post.id.0);
        let extra = mention_inboxes(data, &post.mentions).await;
        Some(broadcast(
            post.id.0,
            channel,
            ActivityKind::Create,
            Some(post.id),
            &activity,
            extra,
            held,
        )?)
    } else {
        None
    };
    let (post, fanout) = db::create_post(&data.db, new, create).await?;
    dispatch(data, fanout, held).await;
    let action = if post.published_at.is_some() {
        tell_published(data, channel, &post, actor).await;
        AuditAction::Created
    } else {
        AuditAction::Scheduled
    };
    audit(data, channel, actor, action, &post).await;
    Ok(Published { post, media })
}

/// Tells the channel's webhooks that `post` went out (`post.published`): now, at its
/// scheduled time, or from a feed.
async fn tell_published(data: &HeraldState, channel: &Channel, post: &Post, by: &Actor) {
    let event = serde_json::json!({
        "post_id": post.id.to_string(),
        "url": data.urls.post_page(&channel.name, post.id),
        "uri": data.urls.post(post.id),
        "published_at": post.published_at,
        "by": by.label(),
    });
    crate::delivery::webhooks::emit(
        &data.db,
        &data.queue,
        channel.id,
        db::EventKind::PostPublished,
        event,
    )
    .await;
}

/// Logs what `actor` did to `post` in the channel's audit log.
async fn audit(
    data: &HeraldState,
    channel: &Channel,
    actor: &Actor,
    action: AuditAction,
    post: &Post,
) {
    crate::people::audit(&data.db, channel, actor, action, &post.id.to_string()).await;
}

/// The Note and HTML that `input` by `actor` would make, without storing or sending
/// anything.
pub async fn preview(
    data: &Data<HeraldState>,
    channel: &Channel,
    actor: &Actor,
    input: PostInput,
) -> Result<Preview, PostError> {
    let now = db::now();
    let input = input.validate(data.config.posts.max_chars, now)?;
    let media = load_media(data, channel, &input.media).await?;
    let new = NewPost {
        id: PostId::new(),
        channel_id: channel.id,
        body: prepare_body(data, channel, &input, signature_of(channel, actor)).await,
        created_at: now,
        scheduled_at: None,
    };
    let post = new.to_post();
    let mut note = note_for(&data.urls, channel, &post, &media);
    note.context = Some(crate::federation::protocol::context::object_context());
    Ok(Preview {
        html: post.content_html,
        note,
    })
}

/// A channel's post, undeleted (410 when deleted).
pub(crate) async fn live_post(
    data: &HeraldState,
    channel: &Channel,
    id: PostId,
) -> Result<Post, PostError> {
    let post = db::post_by_id(&data.db, channel.id, id).await?;
    if post.deleted_at.is_some() {
        return Err(PostError::Gone);
    }
    Ok(post)
}

/// Edits a post. A published post's followers get an `Update` with `updated` later than
/// any before; an edit that changes nothing a reader sees sends nothing. A scheduled
/// post can change its time too.
pub async fn edit(
    data: &Data<HeraldState>,
    channel: &Channel,
    actor: &Actor,
    id: PostId,
    input: PostInput,
) -> Result<Published, PostError> {
    let post = live_post(data, channel, id).await?;
    let now = db::now();
    let mut input = input.validate(data.config.posts.max_chars, now)?;
    if post.published_at.is_some() {
        // A published post keeps its time.
        input.scheduled_at = None;
    } else if input.scheduled_at.is_none() {
        input.scheduled_at = post.scheduled_at;
    }
    let mut media = load_media(data, channel, &input.media).await?;
    if media
        .iter()
        .any(|m| m.post_id.is_some_and(|p| p != post.id))
    {
        return Err(PostError::invalid(
            "media_invalid",
            "an attachment already belongs to another post",
        ));
    }
    let media_text_changed = set_media_text(data, channel, &media, &input.media_text).await?;
    if media_text_changed {
        media = load_media(data, channel, &input.media).await?;
    }
    // A signed post keeps its author's signature, whoever edits it.
    let mut body = prepare_body(data, channel, &input, post.signature.clone()).await;
    // The same Markdown keeps its rendering, whose mentions of other servers' accounts
    // were resolved; new Markdown is rendered now and its mentions resolved later.
    let rerendered = body.source != post.source;
    if !rerendered {
        body.content_html = post.content_html.clone();
        body.tags = post.tags.clone();
        body.mentions = post.mentions.clone();
    }
    // Mastodon drops an Update whose `updated` is not later than the last one's.
    let updated_at = post
        .updated_at
        .map_or(now, |last| now.max(last + Duration::milliseconds(1)));
    let mut edited = post.clone();
    edited.source = body.source.clone();
    edited.content_html = body.content_html.clone();
    edited.summary = body.summary.clone();
    edited.language = body.language.clone();
    edited.sensitive = body.sensitive;
    edited.visibility = body.visibility;
    edited.tags = body.tags.clone();
    edited.mentions = body.mentions.clone();
    edited.policy = body.policy;
    let old_media = db::media_for_posts(&data.db, &[post.id]).await?;
    let visible_change = post.content_html != edited.content_html
        || post.summary != edited.summary
        || post.sensitive != edited.sensitive
        || post.language != edited.language
        || post.visibility != edited.visibility
        || post.policy != edited.policy
        || old_media.iter().map(|m| m.id).collect::<Vec<_>>() != input.media
        || media_text_changed;
    let held = rerendered && mentions_other_servers(data, &edited.source);
    let update = if post.published_at.is_some() && visible_change {
        edited.updated_at = Some(updated_at);
        let (activity_id, activity) =
            lifecycle::build_update_note(&data.urls, channel, &edited, &media);
        let mut extra = mention_inboxes(data, &edited.mentions).await;
        for inbox in mention_inboxes(data, &post.mentions).await {
            if !extra.contains(&inbox) {
                extra.push(inbox);
            }
        }
        add_reach(data, post.id, &mut extra).await?;
        Some(broadcast(
            activity_id,
            channel,
            ActivityKind::Update,
            Some(post.id),
            &activity,
            extra,
            held,
        )?)
    } else {
        None
    };
    let stored_at = if update.is_some() {
        updated_at
    } else {
        post.updated_at.unwrap_or(now)
    };
    let (post, fanout) =
        db::edit_post(&data.db, &post, body, stored_at, input.scheduled_at, update).await?;
    dispatch(data, fanout, held).await;
    audit(data, channel, actor, AuditAction::Edited, &post).await;
    Ok(Published { post, media })
}

/// Applies the new alt text and focal points of `changes` to the attachments in `media`
/// (others are not the edit's to change); true when any differed.
async fn set_media_text(
    data: &HeraldState,
    channel: &Channel,
    media: &[Media],
    changes: &[super::MediaText],
) -> Result<bool, PostError> {
    let mut changed = false;
    for change in changes {
        let Some(current) = media.iter().find(|m| m.id == change.id) else {
            continue;
        };
        if current.description != change.description || current.focus != change.focus {
            db::update_media_text(
                &data.db,
                channel.id,
                change.id,
                change.description.clone(),
                change.focus,
            )
            .await?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Deletes a post: followers (and mentioned servers) get a `Delete` with a `Tombstone`,
/// and the Note's id answers 410 from then on. A scheduled post is simply cancelled.
pub async fn delete(
    data: &Data<HeraldState>,
    channel: &Channel,
    actor: &Actor,
    id: PostId,
) -> Result<(), PostError> {
    let post = live_post(data, channel, id).await?;
    let delete = if post.published_at.is_some() {
        let (activity_id, activity) =
            lifecycle::build_delete(&data.urls, channel, &post, db::now());
        let mut extra = mention_inboxes(data, &post.mentions).await;
        add_reach(data, post.id, &mut extra).await?;
        Some(broadcast(
            activity_id,
            channel,
            ActivityKind::Delete,
            Some(post.id),
            &activity,
            extra,
            false,
        )?)
    } else {
        None
    };
    let fanout = db::delete_post(&data.db, &post, delete).await?;
    dispatch(data, fanout, false).await;
    audit(data, channel, actor, AuditAction::Deleted, &post).await;
    Ok(())
}

/// Pins or unpins a published post; followers get `Add` or `Remove` on the featured
/// collection (nothing when the post already was so).
pub async fn pin(
    data: &Data<HeraldState>,
    channel: &Channel,
    actor: &Actor,
    id: PostId,
    pinned: bool,
) -> Result<Published, PostError> {
    let post = live_post(data, channel, id).await?;
    if post.published_at.is_none() {
        return Err(PostError::invalid(
            "post_not_published",
            "a scheduled post can be pinned once it is published",
        ));
    }
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let (activity_id, activity) = lifecycle::build_pin(&data.urls, channel, &post, &media, pinned);
    let kind = if pinned {
        ActivityKind::Add
    } else {
        ActivityKind::Remove
    };
    let fanout = db::set_pinned(
        &data.db,
        &post,
        pinned,
        broadcast(
            activity_id,
            channel,
            kind,
            Some(post.id),
            &activity,
            Vec::new(),
            false,
        )?,
    )
    .await?;
    dispatch(data, fanout, false).await;
    let post = db::post_by_id(&data.db, channel.id, id).await?;
    let action = if pinned {
        AuditAction::Pinned
    } else {
        AuditAction::Unpinned
    };
    audit(data, channel, actor, action, &post).await;
    Ok(Published { post, media })
}

/// Publishes the scheduled posts that are due at `now`, each exactly once even with
/// several schedulers running; returns how many this call published. `published` is the
/// real publishing time, so receivers show the post in home timelines.
pub async fn publish_due(data: &Data<HeraldState>, now: DateTime<Utc>) -> Result<usize, PostError> {
    let mut published = 0;
    for post in db::due_scheduled_posts(&data.db, now, 100).await? {
        let channel = db::channel_by_id(&data.db, post.channel_id).await?;
        let media = db::media_for_posts(&data.db, &[post.id]).await?;
        let mut out = post.clone();
        out.published_at = Some(now);
        out.scheduled_at = None;
        let activity = build_create(&data.urls, &channel, &out, &media, post.id.0);
        let extra = mention_inboxes(data, &post.mentions).await;
        let held = mentions_other_servers(data, &post.source);
        let create = broadcast(
            post.id.0,
            &channel,
            ActivityKind::Create,
            Some(post.id),
            &activity,
            extra,
            held,
        )?;
        if let Some(fanout) = db::publish_scheduled(&data.db, post.id, now, create).await? {
            dispatch(data, Some(fanout), held).await;
            tell_published(data, &channel, &out, &Actor::Herald).await;
            published += 1;
        }
    }
    Ok(published)
}

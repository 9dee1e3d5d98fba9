//! The poller's work: claim a due source, fetch it conditionally, and post its new entries
//! (or edit the posts of entries that changed), then decide when to come back.

use super::{entry, fetch, parse, websub};
use crate::{
    db::{self, Actor, DbError, EventKind, PollRecord, Source},
    metrics::PollOutcome,
    posts::{self, PostInput},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use chrono::{DateTime, Utc};
use feed_rs::model::Feed;
use std::time::Duration;

/// How long a claimed poll may take before another process may take the source.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Sources one call polls at most (the next tick takes the rest).
const PER_CALL: usize = 20;
/// The longest wait after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(86400);

/// Polls the sources due at `now`, each claimed by this process alone; returns how many.
pub async fn poll_due(
    data: &Data<HeraldState>,
    client: &reqwest::Client,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let mut polled = 0;
    while polled < PER_CALL {
        let Some(source) = db::claim_due_source(&data.db, now, now + LEASE).await? else {
            break;
        };
        poll_one(data, client, &source).await?;
        polled += 1;
    }
    Ok(polled)
}

/// `now` plus `wait`, at most a day later (a server cannot ask to be left for a year).
fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    let wait =
        chrono::Duration::from_std(wait.min(MAX_BACKOFF)).unwrap_or(chrono::Duration::days(1));
    now.checked_add_signed(wait).unwrap_or(now)
}

async fn poll_one(
    data: &Data<HeraldState>,
    client: &reqwest::Client,
    source: &Source,
) -> Result<(), DbError> {
    let interval = Duration::from_secs(u64::from(source.interval_secs));
    let max_bytes = data.config.sources.max_bytes;
    let fetched = fetch::fetch(
        client,
        data.config.debug,
        &source.url,
        source.etag.as_deref(),
        source.last_modified.as_deref(),
        max_bytes,
    )
    .await;
    let now = db::now();
    let record = match fetched {
        fetch::Fetched::NotModified { max_age } => {
            data.metrics.source_poll(PollOutcome::Unchanged);
            PollRecord {
                validators: None,
                next_poll_at: later(now, interval.max(max_age.unwrap_or_default())),
                read: false,
                failures: 0,
                status: Some(304),
                error: None,
            }
        }
        fetch::Fetched::Throttled { wait, status } => {
            data.metrics.source_poll(PollOutcome::Throttled);
            PollRecord {
                validators: None,
                next_poll_at: later(now, interval.max(wait.unwrap_or(interval))),
                read: false,
                failures: source.failures,
                status: Some(status),
                error: Some(format!("HTTP {status}: asked to wait")),
            }
        }
        fetch::Fetched::Failed { status, reason } => failed(data, source, status, reason).await,
        fetch::Fetched::TooLarge { max } => {
            failed(
                data,
                source,
                Some(200),
                format!("the feed is larger than {max} bytes"),
            )
            .await
        }
        fetch::Fetched::Body {
            bytes,
            content_type,
            etag,
            last_modified,
            max_age,
        } => match parse(&bytes, &content_type) {
            Err(found) => failed(data, source, Some(200), found).await,
            Ok(feed) => {
                data.metrics.source_poll(PollOutcome::Fetched);
                take_feed(data, client, source, &feed).await?;
                websub::ensure(data, client, source, &feed).await;
                PollRecord {
                    validators: Some((etag, last_modified)),
                    next_poll_at: later(now, interval.max(max_age.unwrap_or_default())),
                    read: true,
                    failures: 0,
                    status: Some(200),
                    error: None,
                }
            }
        },
    };
    db::record_poll(&data.db, source.id, record).await?;
    Ok(())
}

/// The entry's image, fetched (within the upload limit) and kept as an attachment with
/// the feed's alt text; `None` (the post goes without) when there is none or it fails.
async fn image_of(
    data: &HeraldState,
    client: &reqwest::Client,
    channel: &db::Channel,
    item: &entry::Item,
) -> Option<db::MediaId> {
    let (url, alt) = item.image.as_ref()?;
    let max = data.config.posts.max_upload_bytes;
    let fetch::Fetched::Body { bytes, .. } =
        fetch::fetch(client, data.config.debug, url, None, None, max).await
    else {
        tracing::info!(%url, "a feed entry's image could not be fetched");
        return None;
    };
    match crate::media::store_image(data, channel, bytes, alt.clone(), (0.0, 0.0)).await {
        Ok(media) => Some(media.id),
        Err(e) => {
            tracing::info!(%url, error = %crate::error_chain(&e), "a feed entry's image was not taken");
            None
        }
    }
}

/// A failed poll: backed off (the interval doubled per failure in a row, at most a day);
/// the channel's webhooks hear of it after three in a row, and then daily at most.
async fn failed(
    data: &HeraldState,
    source: &Source,
    status: Option<u16>,
    reason: String,
) -> PollRecord {
    data.metrics.source_poll(PollOutcome::Failed);
    let failures = source.failures + 1;
    let interval = Duration::from_secs(u64::from(source.interval_secs));
    let backoff = interval
        .saturating_mul(1 << failures.min(8))
        .min(MAX_BACKOFF);
    tracing::info!(source = source.id.0, failures, %reason, "a feed source failed");
    if failures == 3 || (failures > 3 && failures % 24 == 0) {
        let event = serde_json::json!({
            "source_id": source.id.0,
            "url": source.url,
            "failures": failures,
            "status": status,
            "reason": reason,
        });
        crate::delivery::webhooks::emit(
            &data.db,
            &data.queue,
            source.channel_id,
            EventKind::SourceFailed,
            event,
        )
        .await;
    }
    PollRecord {
        validators: None,
        next_poll_at: later(db::now(), backoff),
        read: false,
        failures,
        status,
        error: Some(reason),
    }
}

/// Takes a feed's entries (from a poll or a WebSub push): new ones are posted (the newest
/// `initial_entries` on the first poll, at most `max_per_poll` after; the rest are passed
/// over), and entries whose `updated` moved edit their posts. Returns how many it posted.
pub async fn take_feed(
    data: &Data<HeraldState>,
    client: &reqwest::Client,
    source: &Source,
    feed: &Feed,
) -> Result<usize, DbError> {
    let channel = db::channel_by_id(&data.db, source.channel_id).await?;
    let actor = Actor::Feed(source.id);
    let language = feed.language.clone();
    let input = |item: &entry::Item| {
        let mut text = item.render(&source.template);
        let max = data.config.posts.max_chars;
        if text.chars().count() > max {
            text = text.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
        }
        PostInput {
            text,
            language: language.clone(),
            ..PostInput::default()
        }
    };
    let mut fresh = Vec::new();
    for item in entry::items(feed) {
        match db::seen_entry(&data.db, source.id, &item.key, item.link.as_deref()).await? {
            None => fresh.push(item),
            Some(seen) => {
                let moved =
                    matches!((item.updated, seen.updated), (Some(now), Some(then)) if now > then);
                if !moved {
                    continue;
                }
                if let Some(post) = seen.post_id {
                    match posts::edit(data, &channel, &actor, post, input(&item)).await {
                        Ok(_) | Err(posts::PostError::Gone | posts::PostError::NotFound) => {}
                        Err(e) => {
                            tracing::warn!(error = %crate::error_chain(&e), "could not edit a feed entry's post")
                        }
                    }
                }
                db::update_entry(&data.db, seen.id, None, item.updated).await?;
            }
        }
    }
    let cap = if source.polls == 0 {
        source.initial_entries
    } else {
        source.max_per_poll
    } as usize;
    let take = cap.min(fresh.len());
    for item in &fresh[take..] {
        db::record_entry(
            &data.db,
            source.id,
            &item.key,
            item.link.as_deref(),
            None,
            item.updated,
        )
        .await?;
    }
    let mut posted = 0;
    // Oldest first, so timelines read in the feed's order.
    for item in fresh[..take].iter().rev() {
        // Recorded before it is posted: a crash in between loses the post, never doubles it.
        let Some(entry) = db::record_entry(
            &data.db,
            source.id,
            &item.key,
            item.link.as_deref(),
            None,
            item.updated,
        )
        .await?
        else {
            continue;
        };
        let mut post_input = input(item);
        if let Some(image) = image_of(data, client, &channel, item).await {
            post_input.media = vec![image];
        }
        let post_input = match post_input.language.as_deref() {
            Some(lang) if !crate::posts::is_language_tag(lang) => PostInput {
                language: None,
                ..post_input
            },
            _ => post_input,
        };
        match posts::create(data, &channel, &actor, post_input).await {
            Ok(published) => {
                db::update_entry(&data.db, entry, Some(published.post.id), item.updated).await?;
                posted += 1;
            }
            Err(e) => {
                tracing::warn!(error = %crate::error_chain(&e), source = source.id.0, "could not post a feed entry")
            }
        }
    }
    data.metrics.entries_posted(posted as u64);
    Ok(posted)
}

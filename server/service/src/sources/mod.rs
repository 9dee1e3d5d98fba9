//! Feed sources: a channel that mirrors a blog, a release feed or a status page. A source
//! is added after one fetch shows it is a feed; a poller (beside the scheduler, each poll
//! claimed by one process) fetches each on its interval with conditional GETs, honours
//! `Cache-Control`, `Retry-After` and 429, backs off on errors, and posts each new entry
//! once through the post lifecycle: by the source's template, the newest
//! `initial_entries` on the first poll, at most `max_per_poll` per poll. An entry whose
//! `updated` moves on edits its post. Where the feed names a WebSub hub, the source
//! subscribes, and entries pushed by the hub are taken as a poll's.
//!
//! Called by entry points (`api`, `cli`, the poller in `app`, the WebSub callback); calls
//! `db`, `posts`, `delivery` (webhooks) and the guarded HTTP client.

mod entry;
mod fetch;
mod poll;
mod websub;

pub use entry::DEFAULT_TEMPLATE;
pub use poll::{poll_due, take_feed};
pub use websub::{verify_push, websub_verification, VerifyAnswer, WebsubAnswer};

use crate::{
    config::Config,
    db::{self, Actor, Channel, ConnectionTrait, NewSource, Source},
};
use std::time::Duration;

/// How long adding a source waits for its feed.
pub const ADD_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    UrlInvalid(String),
    #[error("{0}")]
    UrlRefused(String),
    /// The URL answered, but not with a feed: what was found.
    #[error("{0}")]
    NotAFeed(String),
    /// The URL could not be fetched.
    #[error("{0}")]
    Unreachable(String),
    #[error("the feed is larger than {0} bytes (sources.max_bytes)")]
    TooLarge(u64),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What the owner asks for when adding a source.
#[derive(Clone, Debug, Default)]
pub struct SourceInput {
    pub url: String,
    pub template: Option<String>,
    pub interval_secs: Option<u32>,
    pub initial_entries: Option<u32>,
    pub max_per_poll: Option<u32>,
}

/// The client that fetches feeds and talks to hubs: guarded (no private addresses outside
/// debug mode), following a few checked redirects.
pub fn client(config: &Config, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    crate::guard::fetch_client(config.debug, timeout, &herald_base::user_agent(config))
}

/// Adds a source to `channel` after one fetch shows the URL is a feed; its first poll is
/// due at once.
pub async fn add_source(
    db: &impl ConnectionTrait,
    config: &Config,
    channel: &Channel,
    by: &Actor,
    input: SourceInput,
) -> Result<Source, SourceError> {
    let url = url::Url::parse(input.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            SourceError::UrlInvalid(format!("`{}` is not an http(s) URL", input.url.trim()))
        })?;
    crate::guard::check_redirect(&url, 0, config.debug)
        .map_err(|refusal| SourceError::UrlRefused(format!("`{url}` is refused: {refusal}")))?;
    let defaults = config.sources;
    let interval = input
        .interval_secs
        .unwrap_or(defaults.interval.as_secs() as u32);
    if !(60..=7 * 86400).contains(&interval) {
        return Err(SourceError::Invalid(
            "`interval_secs` is 60 to 604800".into(),
        ));
    }
    let initial = input.initial_entries.unwrap_or(defaults.initial_entries);
    let per_poll = input.max_per_poll.unwrap_or(defaults.max_per_poll);
    if initial > 100 || !(1..=100).contains(&per_poll) {
        return Err(SourceError::Invalid(
            "`initial_entries` is 0 to 100 and `max_per_poll` 1 to 100".into(),
        ));
    }
    let template = input
        .template
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| DEFAULT_TEMPLATE.to_string());
    if template.chars().count() > 2000 {
        return Err(SourceError::Invalid(
            "`template` is limited to 2000 characters".into(),
        ));
    }
    let client = client(config, ADD_TIMEOUT)?;
    match fetch::fetch(
        &client,
        config.debug,
        url.as_str(),
        None,
        None,
        defaults.max_bytes,
    )
    .await
    {
        fetch::Fetched::Body {
            bytes,
            content_type,
            ..
        } => {
            if let Err(found) = parse(&bytes, &content_type) {
                return Err(SourceError::NotAFeed(found));
            }
        }
        fetch::Fetched::NotModified { .. } => {}
        fetch::Fetched::Throttled { status, .. } => {
            return Err(SourceError::Unreachable(format!(
                "{url} answered {status}: try again later"
            )))
        }
        fetch::Fetched::TooLarge { max } => return Err(SourceError::TooLarge(max)),
        fetch::Fetched::Failed { reason, .. } => {
            return Err(SourceError::Unreachable(format!("{url}: {reason}")))
        }
    }
    let source = db::create_source(
        db,
        NewSource {
            channel_id: channel.id,
            url: url.to_string(),
            template,
            interval_secs: interval,
            initial_entries: initial,
            max_per_poll: per_poll,
        },
    )
    .await?;
    crate::people::audit(db, channel, by, db::AuditAction::SourceAdded, &source.url).await;
    Ok(source)
}

/// Parses a feed, or says what was found instead.
fn parse(bytes: &[u8], content_type: &str) -> Result<feed_rs::model::Feed, String> {
    feed_rs::parser::parse(bytes).map_err(|e| {
        let start: String = String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            .chars()
            .filter(|c| !c.is_control())
            .take(60)
            .collect();
        let kind = if content_type.is_empty() {
            "no content type".to_string()
        } else {
            content_type.to_string()
        };
        format!("not an Atom, RSS or JSON feed ({e}): found {kind}, starting `{start}`")
    })
}

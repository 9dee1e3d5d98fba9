//! A post's body from the owner's input: validation, Markdown rendered with hashtag and
//! mention links, and the AS `tag` array. Mentions of this instance's channels are linked
//! at once; other servers' accounts are looked up by WebFinger later, off the request
//! path (`held`).

use super::PostError;
use crate::{
    content::{self, Links},
    db::{self, Channel, InteractionPolicy, Media, MediaId, Post, PostBody, Visibility},
    federation::objects::ApubRemoteActor,
    state::HeraldState,
};
use activitypub_federation::{config::Data, fetch::webfinger::webfinger_resolve_actor};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::{collections::HashMap, time::Duration};

/// Attachments per post: Mastodon keeps the first four.
pub const MAX_MEDIA: usize = 4;
/// The longest content warning, in characters.
pub const MAX_SUMMARY_CHARS: usize = 1_000;
/// How long resolving one mention may take before it stays plain text.
pub(crate) const MENTION_TIMEOUT: Duration = Duration::from_secs(5);

/// What the owner sends to create or edit a post.
#[derive(Clone, Debug, Default)]
pub struct PostInput {
    pub text: String,
    pub summary: Option<String>,
    pub language: Option<String>,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub media: Vec<MediaId>,
    pub policy: Option<InteractionPolicy>,
    /// New alt text and focal points of attachments, set with an edit (Mastodon apps'
    /// `media_attributes`); an attachment not listed keeps its own.
    pub media_text: Vec<MediaText>,
}

/// An attachment's alt text and focal point, as an edit sets them.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaText {
    pub id: MediaId,
    pub description: Option<String>,
    pub focus: (f64, f64),
}

/// A BCP 47 language tag, loosely: a 2–3 letter primary language and optional subtags.
pub(crate) fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

impl PostInput {
    /// Checks and normalizes the input: trimmed text within `max_chars`, a short content
    /// warning, a language tag, at most four distinct attachments, a future schedule.
    pub fn validate(
        mut self,
        max_chars: usize,
        now: DateTime<Utc>,
    ) -> Result<PostInput, PostError> {
        self.text = self.text.trim().to_string();
        if self.text.is_empty() {
            return Err(PostError::invalid("post_empty", "`text` must not be empty"));
        }
        if self.text.chars().count() > max_chars {
            return Err(PostError::invalid(
                "post_too_long",
                format!("`text` is limited to {max_chars} characters"),
            ));
        }
        self.summary = self
            .summary
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if self
            .summary
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_SUMMARY_CHARS)
        {
            return Err(PostError::invalid(
                "summary_too_long",
                format!("`summary` is limited to {MAX_SUMMARY_CHARS} characters"),
            ));
        }
        self.language = self
            .language
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty());
        if let Some(lang) = &self.language {
            if !valid_language(lang) {
                return Err(PostError::invalid(
                    "language_invalid",
                    format!("`{lang}` is not a language tag such as en or pt-BR"),
                ));
            }
        }
        if self.media.len() > MAX_MEDIA {
            return Err(PostError::invalid(
                "too_many_media",
                format!("a post has at most {MAX_MEDIA} attachments"),
            ));
        }
        let mut seen = self.media.clone();
        seen.sort_by_key(|m| m.0);
        seen.dedup();
        if seen.len() != self.media.len() {
            return Err(PostError::invalid(
                "media_invalid",
                "an attachment is listed twice",
            ));
        }
        if self.scheduled_at.is_some_and(|t| t <= now) {
            return Err(PostError::invalid(
                "schedule_in_past",
                "`scheduled_at` must be in the future",
            ));
        }
        Ok(self)
    }
}

/// Loads the attachments in order, each the channel's own.
pub(crate) async fn load_media(
    data: &HeraldState,
    channel: &Channel,
    ids: &[MediaId],
) -> Result<Vec<Media>, PostError> {
    let mut media = Vec::with_capacity(ids.len());
    for id in ids {
        match db::media_by_id(&data.db, channel.id, *id).await {
            Ok(m) => media.push(m),
            Err(db::DbError::NotFound) => {
                return Err(PostError::invalid(
                    "media_invalid",
                    format!("no uploaded media {id} in this channel"),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(media)
}

/// A mention that resolved: its actor and where its link points.
struct Mentioned {
    acct: String,
    actor: String,
    href: String,
}

/// The `user@domain` mentions in `text`, split into this instance's and other servers'.
fn mention_accts(data: &HeraldState, text: &str) -> (Vec<String>, Vec<String>) {
    let authority = data.urls.authority();
    content::mention_candidates(text)
        .into_iter()
        .partition(|acct| {
            acct.split_once('@')
                .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(&authority))
        })
}

/// Whether `text` mentions accounts on other servers: its activity's fan-out is then held
/// until they are resolved, off the request path.
pub(crate) fn mentions_other_servers(data: &HeraldState, text: &str) -> bool {
    !mention_accts(data, text).1.is_empty()
}

/// Resolves mentions of this instance's channels, from the database.
async fn local_mentions(data: &HeraldState, accts: Vec<String>) -> Vec<Mentioned> {
    let mut mentioned = Vec::new();
    for acct in accts {
        let Some((user, _)) = acct.split_once('@') else {
            continue;
        };
        if let Ok(channel) = db::channel_by_name(&data.db, user).await {
            mentioned.push(Mentioned {
                actor: data.urls.channel(&channel.name).to_string(),
                href: data.urls.profile_page(&channel.name).to_string(),
                acct,
            });
        }
    }
    mentioned
}

/// Resolves mentions of other servers' accounts by WebFinger and the actor document
/// (cached), all at once, each within [`MENTION_TIMEOUT`]. It waits on remote servers,
/// so only background work calls it, never a request.
async fn remote_mentions(data: &Data<HeraldState>, accts: Vec<String>) -> Vec<Mentioned> {
    let lookups = accts.into_iter().map(|acct| async move {
        let request = data.reset_request_count();
        let lookup = webfinger_resolve_actor::<HeraldState, ApubRemoteActor>(&acct, &request);
        match tokio::time::timeout(MENTION_TIMEOUT, lookup).await {
            Ok(Ok(actor)) => Some(Mentioned {
                actor: actor.0.uri.to_string(),
                href: actor.0.uri.to_string(),
                acct,
            }),
            _ => {
                tracing::debug!("a mention did not resolve; it stays plain text");
                None
            }
        }
    });
    futures::future::join_all(lookups)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// A body's HTML, `tag` array and mentioned actors: Markdown rendered with hashtag links
/// and links for the mentions in `mentioned` (the others stay plain text).
struct Rendering {
    html: String,
    tags: Vec<Value>,
    mentions: Vec<String>,
}

fn render_text(
    data: &HeraldState,
    channel: &Channel,
    text: &str,
    signature: Option<&str>,
    mentioned: &[Mentioned],
) -> Rendering {
    let hrefs: HashMap<String, String> = mentioned
        .iter()
        .map(|m| (m.acct.clone(), m.href.clone()))
        .collect();
    let hashtag_url = |tag: &str| data.urls.hashtag(&channel.name, tag).to_string();
    let rendered = content::render(
        text,
        &Links {
            hashtag_url: &hashtag_url,
            mentions: &hrefs,
        },
    );
    let mut tags: Vec<Value> = rendered
        .hashtags
        .iter()
        .map(|tag| {
            json!({
                "type": "Hashtag",
                "href": data.urls.hashtag(&channel.name, &tag.to_lowercase()),
                "name": format!("#{tag}"),
            })
        })
        .collect();
    let mut mentions = Vec::new();
    for acct in &rendered.mentions {
        if let Some(m) = mentioned.iter().find(|m| &m.acct == acct) {
            tags.push(json!({ "type": "Mention", "href": m.actor, "name": format!("@{acct}") }));
            mentions.push(m.actor.clone());
        }
    }
    let mut html = rendered.html;
    if let Some(name) = signature {
        html.push_str(&signature_html(name));
    }
    Rendering {
        html,
        tags,
        mentions,
    }
}

/// The signature line under a signed post: its author's name, as a paragraph of its own
/// (Mastodon keeps `<p>`), escaped.
pub(crate) fn signature_html(name: &str) -> String {
    format!("<p>— {}</p>", content::escape(name))
}

/// Renders `input` into a post body for `channel`, asking no other server: mentions of
/// this instance's channels become links now, other servers' once resolved
/// ([`resolve_mentions`]).
pub(crate) async fn prepare_body(
    data: &HeraldState,
    channel: &Channel,
    input: &PostInput,
    signature: Option<String>,
) -> PostBody {
    let (local, _) = mention_accts(data, &input.text);
    let mentioned = local_mentions(data, local).await;
    let rendering = render_text(data, channel, &input.text, signature.as_deref(), &mentioned);
    PostBody {
        source: input.text.clone(),
        content_html: rendering.html,
        summary: input.summary.clone(),
        language: input
            .language
            .clone()
            .or_else(|| channel.default_language.clone()),
        sensitive: input.sensitive || input.summary.is_some(),
        visibility: input.visibility,
        tags: rendering.tags,
        mentions: rendering.mentions,
        policy: input.policy,
        media: input.media.clone(),
        signature,
    }
}

/// `post` with every mention resolved, this instance's and other servers' (by WebFinger,
/// each within [`MENTION_TIMEOUT`]): its HTML, `tag` and `mentions` rewritten. Waits on
/// remote servers: for background work only.
pub(crate) async fn resolve_mentions(
    data: &Data<HeraldState>,
    channel: &Channel,
    post: &Post,
) -> Post {
    let (local, remote) = mention_accts(data, &post.source);
    let (mut mentioned, remote) =
        tokio::join!(local_mentions(data, local), remote_mentions(data, remote));
    mentioned.extend(remote);
    let rendering = render_text(
        data,
        channel,
        &post.source,
        post.signature.as_deref(),
        &mentioned,
    );
    let mut resolved = post.clone();
    resolved.content_html = rendering.html;
    resolved.tags = rendering.tags;
    resolved.mentions = rendering.mentions;
    resolved
}

/// The inboxes of the servers of mentioned remote actors (from the actor cache).
pub(crate) async fn mention_inboxes(data: &HeraldState, mentions: &[String]) -> Vec<String> {
    let mut inboxes = Vec::new();
    for mention in mentions {
        let Ok(uri) = url::Url::parse(mention) else {
            continue;
        };
        if data.urls.parse_channel(&uri).is_some() {
            continue;
        }
        if let Ok(actor) = db::remote_actor_by_uri(&data.db, &uri).await {
            let inbox = actor.delivery_inbox().to_string();
            if !inboxes.contains(&inbox) {
                inboxes.push(inbox);
            }
        }
    }
    inboxes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> PostInput {
        PostInput {
            text: text.into(),
            ..PostInput::default()
        }
    }

    fn code(result: Result<PostInput, PostError>) -> &'static str {
        match result {
            Err(PostError::Invalid { code, .. }) => code,
            Err(_) => "other",
            Ok(_) => "ok",
        }
    }

    #[test]
    fn inputs_are_validated() {
        let now = Utc::now();
        assert_eq!(code(input("hello").validate(100, now)), "ok");
        assert_eq!(code(input("  \n").validate(100, now)), "post_empty");
        assert_eq!(
            code(input(&"x".repeat(101)).validate(100, now)),
            "post_too_long"
        );
        let mut i = input("hi");
        i.language = Some("english language".into());
        assert_eq!(code(i.validate(100, now)), "language_invalid");
        let mut i = input("hi");
        i.summary = Some("w".repeat(MAX_SUMMARY_CHARS + 1));
        assert_eq!(code(i.validate(100, now)), "summary_too_long");
        let mut i = input("hi");
        i.media = (0..5).map(|_| MediaId(uuid::Uuid::now_v7())).collect();
        assert_eq!(code(i.validate(100, now)), "too_many_media");
        let mut i = input("hi");
        let id = MediaId(uuid::Uuid::now_v7());
        i.media = vec![id, id];
        assert_eq!(code(i.validate(100, now)), "media_invalid");
        let mut i = input("hi");
        i.scheduled_at = Some(now - chrono::Duration::seconds(1));
        assert_eq!(code(i.validate(100, now)), "schedule_in_past");
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "pt-BR", "zh-Hant-TW", "gsw"] {
            assert!(valid_language(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "en-", "1a"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }
}

//! A feed entry as Herald reads it (feed-rs parses Atom, RSS 0.9x/1.0/2.0 and JSON Feed),
//! and the post a source's template makes of it.

use crate::content;
use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed};

/// The template of a source that names none.
pub const DEFAULT_TEMPLATE: &str = "**{title}**\n\n{summary}\n\n{link}\n\n{hashtags}";
/// The most of a summary a post takes.
const SUMMARY_CHARS: usize = 500;

/// An entry, read.
#[derive(Clone, Debug)]
pub struct Item {
    /// Its id (`guid`, Atom `id`, JSON Feed `id`; feed-rs makes one from the content
    /// when the feed gives none).
    pub key: String,
    pub link: Option<String>,
    pub title: String,
    pub summary: String,
    pub content: String,
    pub tags: Vec<String>,
    /// When it was last changed (or published).
    pub updated: Option<DateTime<Utc>>,
    /// Its first image enclosure (RSS `enclosure`, Media RSS content), with the alt text
    /// the feed gives for it.
    pub image: Option<(String, Option<String>)>,
}

/// The text of a feed's text or HTML, as plain text.
fn plain(text: &str, html: bool) -> String {
    if html {
        content::strip_tags(&content::sanitize_remote(text))
    } else {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn truncated(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// A category as a hashtag (letters, digits and `_` only), if anything is left.
fn hashtag(term: &str) -> Option<String> {
    let tag: String = term
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit())).then_some(tag)
}

impl Item {
    pub fn of(entry: &Entry) -> Item {
        let link = entry
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or_else(|| entry.links.first())
            .map(|l| l.href.clone());
        let title = entry
            .title
            .as_ref()
            .map(|t| plain(&t.content, t.content_type.to_string().contains("html")))
            .unwrap_or_default();
        let summary = entry
            .summary
            .as_ref()
            .map(|t| plain(&t.content, t.content_type.to_string().contains("html")))
            .unwrap_or_default();
        let content = entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map(|body| plain(body, true))
            .unwrap_or_default();
        let mut tags: Vec<String> = Vec::new();
        for category in &entry.categories {
            if let Some(tag) = hashtag(&category.term) {
                if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                    tags.push(tag);
                }
            }
        }
        let image = entry.media.iter().find_map(|object| {
            let url = object.content.iter().find_map(|c| {
                let url = c.url.as_ref()?;
                let typed = c.content_type.as_ref().map(|t| t.to_string());
                let image = match typed.as_deref() {
                    Some(t) => t.starts_with("image/"),
                    None => [".jpg", ".jpeg", ".png", ".webp", ".gif"]
                        .iter()
                        .any(|ext| url.path().to_ascii_lowercase().ends_with(ext)),
                };
                image.then(|| url.to_string())
            })?;
            let alt = object
                .description
                .as_ref()
                .or(object.title.as_ref())
                .map(|t| plain(&t.content, t.content_type.to_string().contains("html")))
                .filter(|t| !t.is_empty());
            Some((url, alt))
        });
        Item {
            key: entry.id.clone(),
            link,
            title,
            summary,
            content,
            tags,
            updated: entry.updated.or(entry.published),
            image,
        }
    }

    /// The post's Markdown: the template with each placeholder filled, blank lines left
    /// by empty ones closed up.
    pub fn render(&self, template: &str) -> String {
        let summary = if self.summary.is_empty() {
            truncated(self.content.clone(), SUMMARY_CHARS)
        } else {
            truncated(self.summary.clone(), SUMMARY_CHARS)
        };
        let hashtags: Vec<String> = self.tags.iter().map(|t| format!("#{t}")).collect();
        let hashtags = hashtags.join(" ");
        let link = self.link.as_deref().unwrap_or_default();
        // One pass over the template: a title that reads `{content}` stays as it is.
        let mut text = String::with_capacity(template.len() + self.content.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open..];
            let filled = [
                ("{title}", self.title.as_str()),
                ("{summary}", summary.as_str()),
                ("{content}", self.content.as_str()),
                ("{link}", link),
                ("{hashtags}", hashtags.as_str()),
            ]
            .into_iter()
            .find(|(name, _)| after.starts_with(name));
            match filled {
                Some((name, value)) => {
                    text.push_str(value);
                    rest = &after[name.len()..];
                }
                None => {
                    text.push('{');
                    rest = &after[1..];
                }
            }
        }
        text.push_str(rest);
        let mut out = String::new();
        for line in text.lines() {
            let line = line.trim_end();
            // `****`: a bold title with nothing in it.
            if line.is_empty() || line == "****" {
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        out.trim().to_string()
    }
}

/// The entries of `feed`, newest first (those without a time last, in feed order).
pub fn items(feed: &Feed) -> Vec<Item> {
    let mut items: Vec<Item> = feed.entries.iter().map(Item::of).collect();
    items.sort_by_key(|item| std::cmp::Reverse(item.updated));
    items
}

/// The hub and the topic (`self`) a feed names for WebSub.
pub fn websub_links(feed: &Feed) -> Option<(String, String)> {
    let rel = |name: &str| {
        feed.links
            .iter()
            .find(|l| l.rel.as_deref() == Some(name))
            .map(|l| l.href.clone())
    };
    Some((rel("hub")?, rel("self")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item {
            key: "1".into(),
            link: Some("https://example.com/a".into()),
            title: "Release 2.0".into(),
            summary: String::new(),
            content: "Lots of things.".into(),
            tags: vec!["release".into(), "rust".into()],
            updated: None,
            image: None,
        }
    }

    #[test]
    fn templates_fill_and_close_up() {
        assert_eq!(
            item().render(DEFAULT_TEMPLATE),
            "**Release 2.0**\n\nLots of things.\n\nhttps://example.com/a\n\n#release #rust"
        );
        let mut bare = item();
        bare.title.clear();
        bare.content.clear();
        bare.tags.clear();
        assert_eq!(bare.render(DEFAULT_TEMPLATE), "https://example.com/a");
        assert_eq!(
            item().render("New: {title} {link}"),
            "New: Release 2.0 https://example.com/a"
        );
        assert_eq!(hashtag("Open Source!"), Some("OpenSource".into()));
        let mut tricky = item();
        tricky.title = "About {content} {x}".into();
        assert_eq!(
            tricky.render("{title}: {link}"),
            "About {content} {x}: https://example.com/a"
        );
        assert_eq!(hashtag("2024"), None);
    }
}

//! Feeds of a channel (and of one of its hashtags) for feed readers: Atom 1.0 (RFC 4287),
//! RSS 2.0 and JSON Feed 1.1. Public posts only, newest first, with their full HTML,
//! content warnings, media as enclosures, and the ids and dates the specifications ask
//! for (Atom: `id`, `title`, `updated`, `author`, a `self` link; RSS: RFC 822 dates, a
//! `guid`, `enclosure` with its length; JSON Feed: `id`, `date_published`, attachments).

use super::layout::{display_name, has_hashtag, load, not_found, server_error};
use crate::content::{escape, strip_tags};
use crate::{
    db::{self, Channel, Media, Post, Visibility},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::fmt::Write;

/// Posts in a feed.
const FEED_POSTS: u64 = 30;
/// Posts looked through for a hashtag's feed.
const HASHTAG_SCAN: u64 = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    fn parse(file: &str) -> Option<Format> {
        match file {
            "feed.atom" => Some(Format::Atom),
            "feed.rss" => Some(Format::Rss),
            "feed.json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The file name, and the media type the feed is served (and linked) as.
    pub fn file_and_type(self) -> (&'static str, &'static str) {
        match self {
            Format::Atom => ("feed.atom", "application/atom+xml"),
            Format::Rss => ("feed.rss", "application/rss+xml"),
            Format::Json => ("feed.json", "application/feed+json"),
        }
    }
}

/// `<link rel="alternate">` tags for a page's feeds (`base`: the channel's or hashtag's
/// page URL, without a trailing slash).
pub(super) fn alternate_links(base: &str, title: &str) -> maud::Markup {
    maud::html! {
        @for format in [Format::Atom, Format::Rss, Format::Json] {
            @let (file, media_type) = format.file_and_type();
            link rel="alternate" type=(media_type) title=(title) href=(format!("{base}/{file}"));
        }
    }
}

/// What a feed is of.
struct Feed<'a> {
    channel: &'a Channel,
    title: String,
    /// The page the feed mirrors.
    page: String,
    /// The feed's own URL.
    url: String,
    posts: Vec<Post>,
    media: Vec<Media>,
}

/// The first words of a post, as its title (feeds want one; posts have none).
fn title_of(post: &Post) -> String {
    if let Some(summary) = post.summary.as_ref().filter(|s| !s.is_empty()) {
        return summary.clone();
    }
    let text = strip_tags(&post.content_html);
    let words: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        format!("{}…", words.trim_end())
    } else if words.trim().is_empty() {
        "(media)".to_string()
    } else {
        words
    }
}

/// The HTML of an entry: the content warning first, then the post, then its images.
fn html_of(data: &HeraldState, post: &Post, media: &[&Media]) -> String {
    let mut html = String::new();
    if let Some(summary) = &post.summary {
        let _ = write!(html, "<p><strong>{}</strong></p>", escape(summary));
    }
    html.push_str(&post.content_html);
    for m in media {
        let _ = write!(
            html,
            "<p><img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\"></p>",
            escape(data.urls.media(&m.file_name).as_str()),
            escape(m.description.as_deref().unwrap_or("")),
            m.width,
            m.height
        );
    }
    html
}

fn date(post: &Post) -> DateTime<Utc> {
    post.published_at.unwrap_or(post.created_at)
}

fn updated(post: &Post) -> DateTime<Utc> {
    post.updated_at.unwrap_or_else(|| date(post))
}

impl Feed<'_> {
    fn media_of(&self, post: &Post) -> Vec<&Media> {
        self.media
            .iter()
            .filter(|m| m.post_id == Some(post.id))
            .collect()
    }

    fn updated(&self) -> DateTime<Utc> {
        self.posts
            .iter()
            .map(updated)
            .max()
            .unwrap_or(self.channel.created_at)
    }

    fn atom(&self, data: &HeraldState) -> String {
        let author = escape(&display_name(self.channel));
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <feed xmlns=\"http://www.w3.org/2005/Atom\">\
             <id>{}</id><title>{}</title><updated>{}</updated>\
             <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\
             <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\
             <author><name>{author}</name><uri>{}</uri></author>\
             <generator>Herald</generator>",
            escape(&self.url),
            escape(&self.title),
            self.updated().to_rfc3339(),
            escape(&self.page),
            escape(&self.url),
            escape(data.urls.channel(&self.channel.name).as_str()),
        );
        for post in &self.posts {
            let media = self.media_of(post);
            let page = data.urls.post_page(&self.channel.name, post.id);
            let _ = write!(
                xml,
                "<entry><id>{}</id><title>{}</title><published>{}</published><updated>{}</updated>\
                 <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
                escape(data.urls.post(post.id).as_str()),
                escape(&title_of(post)),
                date(post).to_rfc3339(),
                updated(post).to_rfc3339(),
                escape(page.as_str()),
            );
            for m in &media {
                let _ = write!(
                    xml,
                    "<link rel=\"enclosure\" type=\"{}\" length=\"{}\" href=\"{}\"/>",
                    escape(&m.media_type),
                    m.size,
                    escape(data.urls.media(&m.file_name).as_str())
                );
            }
            let lang = post
                .language
                .as_ref()
                .map(|l| format!(" xml:lang=\"{}\"", escape(l)))
                .unwrap_or_default();
            let _ = write!(
                xml,
                "<content type=\"html\"{lang}>{}</content></entry>",
                escape(&html_of(data, post, &media))
            );
        }
        xml.push_str("</feed>\n");
        xml
    }

    fn rss(&self, data: &HeraldState) -> String {
        let description = strip_tags(&crate::content::render_markdown(&self.channel.summary));
        let description = if description.is_empty() {
            self.title.clone()
        } else {
            description
        };
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>\
             <title>{}</title><link>{}</link><description>{}</description>\
             <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\
             <lastBuildDate>{}</lastBuildDate><generator>Herald</generator>",
            escape(&self.title),
            escape(&self.page),
            escape(&description),
            escape(&self.url),
            self.updated().to_rfc2822(),
        );
        for post in &self.posts {
            let media = self.media_of(post);
            let _ = write!(
                xml,
                "<item><title>{}</title><link>{}</link><guid isPermaLink=\"false\">{}</guid>\
                 <pubDate>{}</pubDate><description>{}</description>",
                escape(&title_of(post)),
                escape(data.urls.post_page(&self.channel.name, post.id).as_str()),
                escape(data.urls.post(post.id).as_str()),
                date(post).to_rfc2822(),
                escape(&html_of(data, post, &media)),
            );
            // RSS allows one enclosure per item.
            if let Some(m) = media.first() {
                let _ = write!(
                    xml,
                    "<enclosure url=\"{}\" length=\"{}\" type=\"{}\"/>",
                    escape(data.urls.media(&m.file_name).as_str()),
                    m.size,
                    escape(&m.media_type)
                );
            }
            xml.push_str("</item>");
        }
        xml.push_str("</channel></rss>\n");
        xml
    }

    fn json(&self, data: &HeraldState) -> serde_json::Value {
        let items: Vec<_> = self
            .posts
            .iter()
            .map(|post| {
                let media = self.media_of(post);
                let mut item = json!({
                    "id": data.urls.post(post.id).as_str(),
                    "url": data.urls.post_page(&self.channel.name, post.id).as_str(),
                    "title": title_of(post),
                    "content_html": html_of(data, post, &media),
                    "date_published": date(post).to_rfc3339(),
                    "date_modified": updated(post).to_rfc3339(),
                });
                if let Some(language) = &post.language {
                    item["language"] = json!(language);
                }
                if let Some(summary) = &post.summary {
                    item["summary"] = json!(summary);
                }
                if !media.is_empty() {
                    item["attachments"] = media
                        .iter()
                        .map(|m| {
                            json!({
                                "url": data.urls.media(&m.file_name).as_str(),
                                "mime_type": m.media_type,
                                "size_in_bytes": m.size,
                                "title": m.description,
                            })
                        })
                        .collect();
                }
                item
            })
            .collect();
        json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": self.title,
            "home_page_url": self.page,
            "feed_url": self.url,
            "authors": [{
                "name": display_name(self.channel),
                "url": data.urls.profile_page(&self.channel.name).as_str(),
            }],
            "items": items,
        })
    }
}

fn respond(data: &HeraldState, feed: &Feed<'_>, format: Format) -> HttpResponse {
    let (_, media_type) = format.file_and_type();
    let body = match format {
        Format::Atom => feed.atom(data),
        Format::Rss => feed.rss(data),
        Format::Json => feed.json(data).to_string(),
    };
    HttpResponse::Ok()
        .content_type(format!("{media_type}; charset=utf-8"))
        .insert_header(("Cache-Control", "public, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

/// Public posts only: quiet ones stay off feeds, as they stay off public timelines.
fn public(posts: Vec<Post>) -> Vec<Post> {
    posts
        .into_iter()
        .filter(|p| p.visibility == Visibility::Public)
        .collect()
}

async fn build<'a>(
    data: &HeraldState,
    channel: &'a Channel,
    tag: Option<&str>,
    format: Format,
) -> Result<Feed<'a>, db::DbError> {
    let (file, _) = format.file_and_type();
    let profile = data.urls.profile_page(&channel.name);
    let name = display_name(channel);
    let (posts, title, page) = match tag {
        None => (
            public(db::list_posts(&data.db, channel.id, None, FEED_POSTS).await?),
            name,
            profile.to_string(),
        ),
        Some(tag) => {
            let wanted = format!("#{tag}");
            let posts = public(db::list_posts(&data.db, channel.id, None, HASHTAG_SCAN).await?)
                .into_iter()
                .filter(|p| has_hashtag(p, &wanted))
                .take(FEED_POSTS as usize)
                .collect();
            (
                posts,
                format!("{name}: #{tag}"),
                data.urls.hashtag(&channel.name, tag).to_string(),
            )
        }
    };
    let ids: Vec<_> = posts.iter().map(|p: &Post| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    Ok(Feed {
        channel,
        title,
        url: format!("{}/{file}", page.trim_end_matches('/')),
        page,
        posts,
        media,
    })
}

/// `/@{name}/feed.atom`, `feed.rss`, `feed.json`.
pub async fn get_channel_feed(
    path: web::Path<(String, String)>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let (name, file) = path.into_inner();
    feed(&data, &name, None, &file).await
}

/// `/@{name}/tags/{tag}/feed.atom`, `feed.rss`, `feed.json`.
pub async fn get_hashtag_feed(
    path: web::Path<(String, String, String)>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let (name, tag, file) = path.into_inner();
    feed(&data, &name, Some(&tag.to_lowercase()), &file).await
}

async fn feed(data: &HeraldState, name: &str, tag: Option<&str>, file: &str) -> HttpResponse {
    let Some(format) = Format::parse(file) else {
        return not_found();
    };
    let channel = match load(data, name).await {
        Ok(Some(channel)) => channel,
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    };
    match build(data, &channel, tag, format).await {
        Ok(feed) => respond(data, &feed, format),
        Err(e) => server_error(e),
    }
}

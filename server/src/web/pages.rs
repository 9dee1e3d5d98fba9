//! The pages. Plain HTML with every value escaped; post bodies are the sanitized HTML
//! from `content`.

use super::CONTENT_SECURITY_POLICY;
use crate::{
    db::{self, Channel, ChannelName, DbError, Media, Post, PostId},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpResponse};
use std::fmt::Write;

/// Posts shown on a channel page.
const CHANNEL_PAGE_POSTS: u64 = 20;

pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn page(status: StatusCode, title: &str, head: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title>\
         <link rel=\"stylesheet\" href=\"{}\">\
         <link rel=\"icon\" type=\"image/svg+xml\" href=\"{}\">{head}\
         </head><body>{body}</body></html>",
        escape(title),
        super::STYLESHEET_PATH,
        super::ICON_PATH,
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Vary", "Accept"))
        .body(html)
}

pub(super) fn not_found() -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "",
        "<h1>Not found</h1><p>There is nothing here.</p>",
    )
}

/// Posts with their images, each shown with its alt text.
async fn posts_html(
    data: &HeraldState,
    channel: &Channel,
    posts: &[&Post],
) -> Result<String, DbError> {
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    let mut html = String::new();
    for post in posts {
        let own: Vec<&Media> = media
            .iter()
            .filter(|m| m.post_id == Some(post.id))
            .collect();
        html.push_str(&post_html(data, channel, post, &own));
    }
    Ok(html)
}

fn post_html(data: &HeraldState, channel: &Channel, post: &Post, media: &[&Media]) -> String {
    let url = data.urls.post_page(&channel.name, post.id);
    let time = post.published_at.unwrap_or(post.created_at);
    let lang = post
        .language
        .as_ref()
        .map(|l| format!(" lang=\"{}\"", escape(l)))
        .unwrap_or_default();
    let content = match &post.summary {
        Some(summary) => format!(
            "<details><summary>{}</summary>{}</details>",
            escape(summary),
            post.content_html
        ),
        None => post.content_html.clone(),
    };
    let mut images = String::new();
    for m in media {
        let alt = m.description.as_deref().unwrap_or("");
        let _ = write!(
            images,
            "<figure><img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\" loading=\"lazy\">{}</figure>",
            escape(data.urls.media(&m.file_name).as_str()),
            escape(alt),
            m.width,
            m.height,
            if alt.is_empty() { String::new() } else { format!("<figcaption>{}</figcaption>", escape(alt)) }
        );
    }
    let content = if post.sensitive && post.summary.is_none() && !images.is_empty() {
        format!("{content}<details><summary>Sensitive media</summary>{images}</details>")
    } else {
        format!("{content}{images}")
    };
    format!(
        "<article{lang}>{content}<p><a href=\"{}\"><time datetime=\"{}\">{}</time></a></p></article>",
        escape(url.as_str()),
        time.to_rfc3339(),
        time.format("%Y-%m-%d %H:%M UTC")
    )
}

/// The name a channel is shown by: its display name, or its handle's name.
pub(super) fn display_name(channel: &Channel) -> String {
    if channel.display_name.is_empty() {
        channel.name.to_string()
    } else {
        channel.display_name.clone()
    }
}

/// True when `post` carries hashtag `wanted` (`#tag`, lower case).
pub(super) fn has_hashtag(post: &Post, wanted: &str) -> bool {
    post.tags.iter().any(|t| {
        t["type"] == "Hashtag"
            && t["name"]
                .as_str()
                .is_some_and(|n| n.to_lowercase() == wanted)
    })
}

fn channel_header(data: &HeraldState, channel: &Channel) -> String {
    let handle = format!("@{}@{}", channel.name, data.urls.authority());
    let title = display_name(channel);
    let mut fields = String::new();
    if !channel.fields.is_empty() {
        fields.push_str("<dl>");
        for field in &channel.fields {
            let _ = write!(
                fields,
                "<dt>{}</dt><dd>{}</dd>",
                escape(&field.name),
                crate::content::render_field(&field.value)
            );
        }
        fields.push_str("</dl>");
    }
    format!(
        "<header class=\"channel\"><h1><a href=\"{}\">{}</a></h1><p><code>{}</code></p>{}{fields}</header>",
        escape(data.urls.profile_page(&channel.name).as_str()),
        escape(&title),
        escape(&handle),
        crate::content::render_markdown(&channel.summary)
    )
}

/// Link-preview tags (OpenGraph) and Mastodon's author attribution for a page.
fn preview_tags(
    data: &HeraldState,
    channel: &Channel,
    kind: &str,
    url: &str,
    description: &str,
    image: Option<&str>,
) -> String {
    let mut tags = format!(
        "<meta property=\"og:type\" content=\"{kind}\">\
         <meta property=\"og:site_name\" content=\"{}\">\
         <meta property=\"og:title\" content=\"{}\">\
         <meta property=\"og:url\" content=\"{}\">\
         <meta property=\"og:description\" content=\"{}\">\
         <meta name=\"description\" content=\"{}\">\
         <meta name=\"fediverse:creator\" content=\"@{}@{}\">",
        escape(&data.urls.authority()),
        escape(&display_name(channel)),
        escape(url),
        escape(description),
        escape(description),
        escape(channel.name.as_str()),
        escape(&data.urls.authority()),
    );
    if let Some(image) = image {
        let _ = write!(
            tags,
            "<meta property=\"og:image\" content=\"{}\">",
            escape(image)
        );
    }
    tags
}

/// The text of a snippet of HTML, shortened, for descriptions.
fn snippet(html: &str) -> String {
    let text = super::feeds::strip_tags(html);
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(199).collect::<String>().trim_end())
    } else {
        text
    }
}

fn alternate(actor: &url::Url) -> String {
    format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{}\">",
        escape(actor.as_str())
    )
}

pub(super) async fn load(data: &HeraldState, name: &str) -> Result<Option<Channel>, DbError> {
    let Ok(name) = ChannelName::parse(name) else {
        return Ok(None);
    };
    match db::channel_by_name(&data.db, name.as_str()).await {
        Ok(channel) => Ok(Some(channel)),
        Err(DbError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn server_error(e: DbError) -> HttpResponse {
    tracing::error!(error = %crate::error_chain(&e), "page failed");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "",
        "<h1>Something went wrong</h1>",
    )
}

pub async fn get_home(data: Data<HeraldState>) -> HttpResponse {
    let channels = match db::list_channels(&data.db).await {
        Ok(channels) => channels,
        Err(e) => return server_error(e),
    };
    let mut body = format!("<h1>{}</h1><ul>", escape(&data.urls.authority()));
    for channel in &channels {
        let _ = write!(
            body,
            "<li><a href=\"{}\">@{}</a></li>",
            escape(data.urls.profile_page(&channel.name).as_str()),
            escape(channel.name.as_str())
        );
    }
    body.push_str("</ul>");
    page(StatusCode::OK, &data.urls.authority(), "", &body)
}

#[derive(serde::Deserialize)]
pub struct ChannelPageQuery {
    /// Older posts than this one (the "Older posts" link).
    before: Option<String>,
}

/// The channel's page: banner, avatar, name, handle, summary, fields, counts, the follow
/// form, pinned posts (first page only), then its posts, twenty at a time.
pub async fn get_channel_page(
    name: web::Path<String>,
    query: web::Query<ChannelPageQuery>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let channel = match load(&data, &name).await {
        Ok(Some(channel)) => channel,
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    };
    let before = match query.before.as_deref() {
        None => None,
        Some(raw) => match PostId::parse(raw) {
            Some(id) => Some(id),
            None => return not_found(),
        },
    };
    match channel_page(&data, &channel, before).await {
        Ok(response) => response,
        Err(e) => server_error(e),
    }
}

async fn channel_page(
    data: &HeraldState,
    channel: &Channel,
    before: Option<PostId>,
) -> Result<HttpResponse, DbError> {
    let posts = db::list_posts(&data.db, channel.id, before, CHANNEL_PAGE_POSTS).await?;
    let pinned = if before.is_none() {
        db::pinned_posts(&data.db, channel.id).await?
    } else {
        Vec::new()
    };
    let images =
        crate::federation::objects::channel::ChannelImages::load(&data.db, channel).await?;
    let followers = db::count_followers(&data.db, channel.id).await?;
    let total = db::count_posts(&data.db, Some(channel.id)).await?;
    let avatar = images
        .avatar
        .as_ref()
        .map(|m| data.urls.media(&m.file_name).to_string());
    let mut body = String::new();
    if let Some(banner) = &images.header {
        let _ = write!(
            body,
            "<img class=\"banner\" src=\"{}\" alt=\"\">",
            escape(data.urls.media(&banner.file_name).as_str())
        );
    }
    if let Some(avatar) = &avatar {
        let _ = write!(
            body,
            "<img class=\"avatar\" src=\"{}\" alt=\"\">",
            escape(avatar)
        );
    }
    body.push_str(&channel_header(data, channel));
    let _ = write!(
        body,
        "<p class=\"stats\">{} · {}</p>",
        plural(followers, "follower", "followers"),
        plural(total, "post", "posts")
    );
    body.push_str(&super::follow::form(data, channel, None));
    if !pinned.is_empty() {
        body.push_str("<h2>Pinned</h2>");
        body.push_str(&posts_html(data, channel, &pinned.iter().collect::<Vec<_>>()).await?);
        body.push_str("<h2>Posts</h2>");
    }
    if posts.is_empty() {
        body.push_str("<p class=\"muted\">Nothing posted yet.</p>");
    }
    body.push_str(&posts_html(data, channel, &posts.iter().collect::<Vec<_>>()).await?);
    let profile = data.urls.profile_page(&channel.name);
    if posts.len() as u64 == CHANNEL_PAGE_POSTS {
        if let Some(last) = posts.last() {
            let _ = write!(
                body,
                "<nav class=\"pages\"><a rel=\"next\" href=\"{}?before={}\">Older posts</a></nav>",
                escape(profile.as_str()),
                last.id
            );
        }
    }
    let head = format!(
        "{}{}{}",
        alternate(&data.urls.channel(&channel.name)),
        super::feeds::alternate_links(profile.as_str(), &display_name(channel)),
        preview_tags(
            data,
            channel,
            "profile",
            profile.as_str(),
            &snippet(&crate::content::render_markdown(&channel.summary)),
            avatar.as_deref(),
        )
    );
    Ok(page(StatusCode::OK, &display_name(channel), &head, &body))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Posts looked through for a hashtag page.
const HASHTAG_SCAN: u64 = 500;

/// A channel's posts with one hashtag (the target of hashtag links in its posts).
pub async fn get_hashtag_page(
    path: web::Path<(String, String)>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let (name, tag) = path.into_inner();
    let channel = match load(&data, &name).await {
        Ok(Some(channel)) => channel,
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    };
    let tag = tag.to_lowercase();
    let wanted = format!("#{tag}");
    let posts = match db::list_posts(&data.db, channel.id, None, HASHTAG_SCAN).await {
        Ok(posts) => posts,
        Err(e) => return server_error(e),
    };
    let mut body = channel_header(&data, &channel);
    let _ = write!(body, "<h2>#{}</h2>", escape(&tag));
    let tagged: Vec<&Post> = posts.iter().filter(|p| has_hashtag(p, &wanted)).collect();
    match posts_html(&data, &channel, &tagged).await {
        Ok(html) => body.push_str(&html),
        Err(e) => return server_error(e),
    }
    let head = super::feeds::alternate_links(
        data.urls.hashtag(&channel.name, &tag).as_str(),
        &format!("{}: #{tag}", display_name(&channel)),
    );
    page(StatusCode::OK, &format!("#{tag}"), &head, &body)
}

pub async fn get_post_page(
    path: web::Path<(String, String)>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let (name, id) = path.into_inner();
    let channel = match load(&data, &name).await {
        Ok(Some(channel)) => channel,
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    };
    let Some(id) = PostId::parse(&id) else {
        return not_found();
    };
    let post = match db::post_by_id(&data.db, channel.id, id).await {
        Ok(post) => post,
        Err(DbError::NotFound) => return not_found(),
        Err(e) => return server_error(e),
    };
    post_page(&data, &channel, &post).await
}

/// The page of a post, at its ActivityPub id (`/posts/{id}`), for browsers.
pub async fn get_note_page(id: web::Path<String>, data: Data<HeraldState>) -> HttpResponse {
    let Some(id) = PostId::parse(&id) else {
        return not_found();
    };
    let post = match db::post_by_uuid(&data.db, id).await {
        Ok(post) => post,
        Err(DbError::NotFound) => return not_found(),
        Err(e) => return server_error(e),
    };
    match db::channel_by_id(&data.db, post.channel_id).await {
        Ok(channel) => post_page(&data, &channel, &post).await,
        Err(DbError::NotFound) => not_found(),
        Err(e) => server_error(e),
    }
}

async fn post_page(data: &HeraldState, channel: &Channel, post: &Post) -> HttpResponse {
    if post.deleted_at.is_some() {
        return page(
            StatusCode::GONE,
            "Deleted",
            "",
            "<h1>This post was deleted</h1>",
        );
    }
    if post.published_at.is_none() {
        return not_found();
    }
    let media = match db::media_for_posts(&data.db, &[post.id]).await {
        Ok(media) => media,
        Err(e) => return server_error(e),
    };
    let own: Vec<&Media> = media.iter().collect();
    let body = format!(
        "{}{}",
        channel_header(data, channel),
        post_html(data, channel, post, &own)
    );
    let image = media
        .first()
        .map(|m| data.urls.media(&m.file_name).to_string());
    let head = format!(
        "{}{}",
        alternate(&data.urls.post(post.id)),
        preview_tags(
            data,
            channel,
            "article",
            data.urls.post_page(&channel.name, post.id).as_str(),
            &post
                .summary
                .clone()
                .unwrap_or_else(|| snippet(&post.content_html)),
            image.as_deref(),
        )
    );
    page(StatusCode::OK, channel.name.as_str(), &head, &body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}

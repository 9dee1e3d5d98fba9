//! The pages, as maud templates: every value is escaped by construction; the only HTML
//! put in as is comes from `content` (post bodies and profile text, sanitized there).

use super::feeds::alternate_links;
use super::layout::{display_name, has_hashtag, load, message_page, not_found, page, server_error};
use crate::{
    db::{self, Channel, DbError, Media, Post, PostId},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpResponse};
use maud::{html, Markup, PreEscaped};

/// Posts shown on a channel page.
const CHANNEL_PAGE_POSTS: u64 = 20;

/// Posts with their images, each shown with its alt text.
async fn posts_html(
    data: &HeraldState,
    channel: &Channel,
    posts: &[&Post],
) -> Result<Markup, DbError> {
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    Ok(html! {
        @for post in posts {
            @let own: Vec<&Media> = media.iter().filter(|m| m.post_id == Some(post.id)).collect();
            (post_html(data, channel, post, &own))
        }
    })
}

fn post_html(data: &HeraldState, channel: &Channel, post: &Post, media: &[&Media]) -> Markup {
    let url = data.urls.post_page(&channel.name, post.id);
    let time = post.published_at.unwrap_or(post.created_at);
    let images = html! {
        @for m in media {
            @let alt = m.description.as_deref().unwrap_or("");
            figure {
                img src=(data.urls.media(&m.file_name)) alt=(alt) width=(m.width)
                    height=(m.height) loading="lazy";
                @if !alt.is_empty() { figcaption { (alt) } }
            }
        }
    };
    let fold_media = post.sensitive && post.summary.is_none() && !media.is_empty();
    html! {
        article lang=[post.language.as_deref()] {
            @if let Some(summary) = &post.summary {
                details {
                    summary { (summary) }
                    (PreEscaped(&post.content_html))
                }
            } @else {
                (PreEscaped(&post.content_html))
            }
            @if fold_media {
                details { summary { "Sensitive media" } (images) }
            } @else {
                (images)
            }
            p {
                a href=(url) {
                    time datetime=(time.to_rfc3339()) { (time.format("%Y-%m-%d %H:%M UTC")) }
                }
            }
        }
    }
}

fn channel_header(data: &HeraldState, channel: &Channel) -> Markup {
    let handle = format!("@{}@{}", channel.name, data.urls.authority());
    html! {
        header.channel {
            h1 { a href=(data.urls.profile_page(&channel.name)) { (display_name(channel)) } }
            p { code { (handle) } }
            (PreEscaped(crate::content::render_markdown(&channel.summary)))
            @if !channel.fields.is_empty() {
                dl {
                    @for field in &channel.fields {
                        dt { (field.name) }
                        dd { (PreEscaped(crate::content::render_field(&field.value))) }
                    }
                }
            }
        }
    }
}

/// Link-preview tags (OpenGraph) and Mastodon's author attribution for a page.
fn preview_tags(
    data: &HeraldState,
    channel: &Channel,
    kind: &str,
    url: &str,
    description: &str,
    image: Option<&str>,
) -> Markup {
    html! {
        meta property="og:type" content=(kind);
        meta property="og:site_name" content=(data.urls.authority());
        meta property="og:title" content=(display_name(channel));
        meta property="og:url" content=(url);
        meta property="og:description" content=(description);
        meta name="description" content=(description);
        meta name="fediverse:creator" content=(format!("@{}@{}", channel.name, data.urls.authority()));
        @if let Some(image) = image {
            meta property="og:image" content=(image);
        }
    }
}

/// The text of a snippet of HTML, shortened, for descriptions.
fn snippet(html: &str) -> String {
    let text = crate::content::strip_tags(html);
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(199).collect::<String>().trim_end())
    } else {
        text
    }
}

fn alternate(actor: &url::Url) -> Markup {
    html! { link rel="alternate" type="application/activity+json" href=(actor); }
}

/// The instance's home: its channels, with their avatars and summaries.
pub async fn get_home(data: Data<HeraldState>) -> HttpResponse {
    let channels = match db::list_channels(&data.db).await {
        Ok(channels) => channels,
        Err(e) => return server_error(e),
    };
    let mut avatars = Vec::new();
    for channel in &channels {
        match crate::db::ChannelImages::load(&data.db, channel).await {
            Ok(images) => avatars.push(images.avatar.map(|m| data.urls.media(&m.file_name))),
            Err(e) => return server_error(e),
        }
    }
    let authority = data.urls.authority();
    let body = html! {
        main {
            h1 { (authority) }
            p.muted { "Channels on this server. Follow them from Mastodon or any other fediverse app." }
            @if channels.is_empty() { p.muted { "No channels yet." } }
            @for (channel, avatar) in channels.iter().zip(&avatars) {
                article.channel {
                    @if let Some(avatar) = avatar {
                        img.avatar src=(avatar) alt="" width="48" height="48";
                    }
                    h2 { a href=(data.urls.profile_page(&channel.name)) { (display_name(channel)) } }
                    p { code { "@" (channel.name.as_str()) "@" (authority) } }
                    (PreEscaped(crate::content::render_markdown(&channel.summary)))
                }
            }
        }
    };
    page(StatusCode::OK, &authority, html! {}, body)
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
    let images = crate::db::ChannelImages::load(&data.db, channel).await?;
    let followers = db::count_followers(&data.db, channel.id).await?;
    let total = db::count_posts(&data.db, Some(channel.id)).await?;
    let avatar = images
        .avatar
        .as_ref()
        .map(|m| data.urls.media(&m.file_name).to_string());
    let profile = data.urls.profile_page(&channel.name);
    let pinned_html = posts_html(data, channel, &pinned.iter().collect::<Vec<_>>()).await?;
    let posts_html = posts_html(data, channel, &posts.iter().collect::<Vec<_>>()).await?;
    let older = (posts.len() as u64 == CHANNEL_PAGE_POSTS)
        .then(|| posts.last())
        .flatten()
        .map(|last| format!("{profile}?before={}", last.id));
    let body = html! {
        @if let Some(banner) = &images.header {
            img.banner src=(data.urls.media(&banner.file_name)) alt="";
        }
        @if let Some(avatar) = &avatar {
            img.avatar src=(avatar) alt="";
        }
        (channel_header(data, channel))
        p.stats {
            (plural(followers, "follower", "followers")) " · " (plural(total, "post", "posts"))
        }
        (super::follow::form(data, channel, None))
        @if !pinned.is_empty() {
            h2 { "Pinned" }
            (pinned_html)
            h2 { "Posts" }
        }
        @if posts.is_empty() { p.muted { "Nothing posted yet." } }
        (posts_html)
        @if let Some(older) = older {
            nav.pages { a rel="next" href=(older) { "Older posts" } }
        }
    };
    let head = html! {
        (alternate(&data.urls.channel(&channel.name)))
        (alternate_links(profile.as_str(), &display_name(channel)))
        (preview_tags(
            data,
            channel,
            "profile",
            profile.as_str(),
            &snippet(&crate::content::render_markdown(&channel.summary)),
            avatar.as_deref(),
        ))
    };
    Ok(page(StatusCode::OK, &display_name(channel), head, body))
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
    let tagged: Vec<&Post> = posts.iter().filter(|p| has_hashtag(p, &wanted)).collect();
    let tagged = match posts_html(&data, &channel, &tagged).await {
        Ok(html) => html,
        Err(e) => return server_error(e),
    };
    let body = html! {
        (channel_header(&data, &channel))
        h2 { "#" (tag) }
        (tagged)
    };
    let head = alternate_links(
        data.urls.hashtag(&channel.name, &tag).as_str(),
        &format!("{}: #{tag}", display_name(&channel)),
    );
    page(StatusCode::OK, &format!("#{tag}"), head, body)
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
        return message_page(
            StatusCode::GONE,
            "Deleted",
            "This post was deleted by its channel.",
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
    let body = html! {
        (channel_header(data, channel))
        (post_html(data, channel, post, &own))
    };
    let image = media
        .first()
        .map(|m| data.urls.media(&m.file_name).to_string());
    let head = html! {
        (alternate(&data.urls.post(post.id)))
        (preview_tags(
            data,
            channel,
            "article",
            data.urls.post_page(&channel.name, post.id).as_str(),
            &post
                .summary
                .clone()
                .unwrap_or_else(|| snippet(&post.content_html)),
            image.as_deref(),
        ))
    };
    page(StatusCode::OK, channel.name.as_str(), head, body)
}

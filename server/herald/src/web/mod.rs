//! The public HTML pages: the instance's home, a channel's page and a post's page.
//! Server-rendered, no JavaScript, nothing loaded from another origin, no cookies; every
//! page carries a strict Content-Security-Policy.
//!
//! An entry point: calls `db`, `content`, and `federation::remote_follow` (the reader's
//! server, for "follow from your server"). The parts every page shares are in `layout`;
//! the page modules use those and not each other's, but for the follow form a channel
//! page shows.

mod feeds;
mod follow;
mod layout;
mod media;
mod pages;

pub(crate) use layout::page;

use actix_web::web;

/// The Content-Security-Policy of every page: nothing but this origin's own styles and
/// images; no scripts at all; no framing. Forms submit to this origin only, but the follow
/// form's answer redirects to the reader's own server, which browsers check against
/// `form-action` too: hence `https:`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self' https:; frame-ancestors 'none'";

/// The pages' one stylesheet, built in.
const STYLESHEET: &str = include_str!("static/herald.css");

/// Its path: versioned, so it can be cached for good.
const STYLESHEET_PATH: &str = concat!("/static/herald-", env!("CARGO_PKG_VERSION"), ".css");

/// The pages' icon, built in, at a versioned path (and at `/favicon.ico`, where browsers
/// look without being told).
const ICON: &str = include_str!("static/icon.svg");
pub(crate) const ICON_PATH: &str = concat!("/static/icon-", env!("CARGO_PKG_VERSION"), ".svg");

fn static_file(media_type: &str, body: &'static str, max_age: u32) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(media_type)
        .insert_header((
            "Cache-Control",
            format!("public, max-age={max_age}, immutable"),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

async fn get_stylesheet() -> actix_web::HttpResponse {
    static_file("text/css; charset=utf-8", STYLESHEET, 31_536_000)
}

async fn get_icon() -> actix_web::HttpResponse {
    static_file("image/svg+xml", ICON, 31_536_000)
}

async fn get_favicon() -> actix_web::HttpResponse {
    // Not versioned: a day.
    static_file("image/svg+xml", ICON, 86_400)
}

/// The ActivityPub ids of channels and posts, for browsers (see [`crate::http::HtmlGuard`]);
/// servers reach the federation routes registered after these.
pub fn negotiated_routes(cfg: &mut web::ServiceConfig) {
    use crate::http::HtmlGuard;
    cfg.route(
        "/channels/{name}",
        web::get().guard(HtmlGuard).to(pages::get_channel_page),
    )
    .route(
        "/posts/{id}",
        web::get().guard(HtmlGuard).to(pages::get_note_page),
    );
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::get_home))
        .route("/@{name}", web::get().to(pages::get_channel_page))
        .route(
            "/@{name}/tags/{tag}",
            web::get().to(pages::get_hashtag_page),
        )
        .route(
            "/@{name}/tags/{tag}/{file:feed\\.(atom|rss|json)}",
            web::get().to(feeds::get_hashtag_feed),
        )
        .route(
            "/@{name}/{file:feed\\.(atom|rss|json)}",
            web::get().to(feeds::get_channel_feed),
        )
        .route("/@{name}/follow", web::get().to(follow::get_follow))
        .route("/@{name}/{id}", web::get().to(pages::get_post_page))
        .route("/media/{file}", web::get().to(media::get_media))
        .route(STYLESHEET_PATH, web::get().to(get_stylesheet))
        .route(ICON_PATH, web::get().to(get_icon))
        .route("/favicon.ico", web::get().to(get_favicon));
}

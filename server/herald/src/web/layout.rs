//! What every page shares: the layout around a page's body with the headers every page
//! carries, the message pages (404, 500), the channel loader and how a channel is named.
//! The page modules (`pages`, `feeds`, `follow`) take these from here; of each other's,
//! only the channel page takes the feed links and the follow form.

use super::CONTENT_SECURITY_POLICY;
use crate::{
    db::{self, Channel, ChannelName, DbError, Post},
    state::HeraldState,
};
use actix_web::{http::StatusCode, HttpResponse};
use maud::{html, Markup, DOCTYPE};

/// A whole page: the layout around `body`, with `head` tags, and the headers every page
/// carries.
pub(crate) fn page(status: StatusCode, title: &str, head: Markup, body: Markup) -> HttpResponse {
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                link rel="stylesheet" href=(super::STYLESHEET_PATH);
                link rel="icon" type="image/svg+xml" href=(super::ICON_PATH);
                (head)
            }
            body { (body) }
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Vary", "Accept"))
        .body(html.into_string())
}

/// A page that says one thing: an error, or that a post is gone.
pub(super) fn message_page(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(
        status,
        title,
        html! {},
        html! {
            main {
                h1 { (title) }
                p { (text) }
                p { a href="/" { "Home" } }
            }
        },
    )
}

/// The 404 page.
pub(super) fn not_found() -> HttpResponse {
    message_page(StatusCode::NOT_FOUND, "Not found", "There is nothing here.")
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

/// The channel named `name`, or `None` when there is none by that name.
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

/// The 500 page, with the cause logged once.
pub(super) fn server_error(e: DbError) -> HttpResponse {
    tracing::error!(error = %crate::error_chain(&e), "page failed");
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Please try again in a moment.",
    )
}

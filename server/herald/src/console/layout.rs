//! The console's page frame (the public pages' layout with the console's own policy:
//! forms post to this origin only, nothing is cached), its navigation, and the parts
//! several console pages show.

use crate::db::{Channel, Media, Role, User};
use actix_web::{
    http::{header, StatusCode},
    HttpResponse,
};
use maud::{html, Markup, PreEscaped};

/// The console's Content-Security-Policy: the public pages' (nothing from another origin,
/// no framing), with forms posting to this origin only, and this origin's one script (the
/// live preview) with the requests it makes; no inline script.
pub const CONSOLE_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Which page of a channel's console is open, for the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Posts,
    Inbox,
    Followers,
    Profile,
    People,
    Tokens,
    Audit,
}

impl Tab {
    const ALL: [(Tab, &'static str, &'static str, Role); 7] = [
        (Tab::Posts, "Posts", "", Role::Viewer),
        (Tab::Inbox, "Replies and reports", "/inbox", Role::Viewer),
        (Tab::Followers, "Followers", "/followers", Role::Owner),
        (Tab::Profile, "Profile", "/profile", Role::Owner),
        (Tab::People, "People", "/people", Role::Owner),
        (Tab::Tokens, "Tokens", "/tokens", Role::Owner),
        (Tab::Audit, "Audit log", "/audit", Role::Owner),
    ];
}

/// The channel a page is about, with the person's role and the open tab.
pub struct Place<'a> {
    pub channel: &'a Channel,
    pub role: Role,
    pub tab: Tab,
}

/// Where a channel page sits, for [`page`].
pub fn place(channel: &Channel, role: Role, tab: Tab) -> Option<Place<'_>> {
    Some(Place { channel, role, tab })
}

/// A hidden field with the session's CSRF token, for every form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A whole console page for `user`.
pub fn page(
    status: StatusCode,
    title: &str,
    user: &User,
    csrf: &str,
    place: Option<Place<'_>>,
    body: Markup,
) -> HttpResponse {
    let body = html! {
        header.console-bar {
            a.console-home href="/console" { "Herald console" }
            @if let Some(place) = &place {
                span.console-channel { "@" (place.channel.name) " · " (place.role) }
            }
            form.console-out method="post" action="/console/sign-out" {
                (csrf_field(csrf))
                span { (user.display_name) }
                " "
                button type="submit" { "Sign out" }
            }
        }
        @if let Some(place) = &place {
            nav.console-tabs aria-label="Channel" {
                @for (tab, label, path, needed) in Tab::ALL {
                    @if place.role.includes(needed) {
                        @let href = format!("/console/channels/{}{path}", place.channel.name);
                        @if tab == place.tab {
                            a href=(href) aria-current="page" { (label) }
                        } @else {
                            a href=(href) { (label) }
                        }
                    }
                }
            }
        }
        main.console { (body) }
    };
    frame(status, title, body)
}

/// The frame around any console body: the public layout, with the console's headers.
pub fn frame(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    let head = html! { script src=(super::SCRIPT_PATH) defer {} };
    let mut response = crate::web::page(status, &format!("{title} · Herald console"), head, body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CONSOLE_POLICY),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::HeaderName::from_static("x-robots-tag"),
        header::HeaderValue::from_static("noindex"),
    );
    response
}

/// A page that says one thing, for errors, to anyone (signed in or not).
pub fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    frame(
        status,
        title,
        html! {
            main.console {
                h1 { (title) }
                p { (text) }
                p { a href="/console" { "Back to the console" } }
            }
        },
    )
}

/// A box with an error, tied to the form it is about by `id`.
pub fn problem(id: &str, text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p.console-problem id=(id) role="alert" { (text) }
        }
    }
}

/// A notice after an action ("Posted").
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p.console-notice role="status" { (text) }
        }
    }
}

/// How a post will look in a Mastodon timeline: the channel's avatar, name and handle, the
/// content warning, the body (the HTML that federates, as the renderer made it) and the
/// images with their alt text.
pub fn mastodon_preview(
    channel: &Channel,
    handle: &str,
    avatar: Option<&Media>,
    summary: Option<&str>,
    html: &str,
    media: &[Media],
) -> Markup {
    let name = if channel.display_name.is_empty() {
        channel.name.to_string()
    } else {
        channel.display_name.clone()
    };
    let body = html! {
        div.preview-content { (PreEscaped(html)) }
        @if !media.is_empty() {
            div.preview-media {
                @for m in media {
                    figure {
                        img src=(format!("/media/{}", m.file_name)) alt=(m.description.as_deref().unwrap_or(""))
                            width=(m.width) height=(m.height);
                        figcaption {
                            @if let Some(alt) = &m.description { "ALT: " (alt) } @else { strong { "No alt text" } }
                        }
                    }
                }
            }
        }
    };
    html! {
        article.mastodon-preview aria-label="Preview: how the post looks on Mastodon" {
            header {
                @if let Some(avatar) = avatar {
                    img.preview-avatar src=(format!("/media/{}", avatar.file_name)) alt="" width="46" height="46";
                } @else {
                    span.preview-avatar aria-hidden="true" {}
                }
                span.preview-names {
                    strong { (name) }
                    " "
                    span.preview-handle { (handle) }
                }
            }
            @if let Some(summary) = summary {
                details {
                    summary { (summary) " " span.preview-more { "Show more" } }
                    (body)
                }
            } @else {
                (body)
            }
            footer.preview-actions aria-hidden="true" { "↩ Reply · ⇄ Boost · ☆ Favourite" }
        }
    }
}

/// A time as the console shows it: UTC, to the minute.
pub fn when(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

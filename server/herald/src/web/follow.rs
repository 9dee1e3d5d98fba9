//! "Follow from your server": the form where a reader names their account, and the
//! redirect to their server that `federation::remote_follow` finds. Stores nothing.

use super::layout::{display_name, load, not_found, page, server_error};
use crate::{db::Channel, federation::remote_follow, state::HeraldState};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct FollowQuery {
    /// `you@their.server`, `@you@their.server`, or `their.server`.
    account: Option<String>,
}

/// The follow form, for a channel page and on its own.
pub fn form(data: &HeraldState, channel: &Channel, error: Option<&str>) -> Markup {
    let handle = format!("@{}@{}", channel.name, data.urls.authority());
    let action = format!("{}/follow", data.urls.profile_page(&channel.name));
    html! {
        section.follow {
            h2 { "Follow " (display_name(channel)) }
            p {
                "From Mastodon or any other fediverse server: search for "
                input readonly aria-label="Handle" value=(handle) size=(handle.chars().count());
                " in your app, or enter your account and Herald takes you to your server to confirm."
            }
            @if let Some(error) = error {
                p role="alert" { strong { (error) } }
            }
            form method="get" action=(action) {
                label {
                    "Your account "
                    input name="account" placeholder="you@mastodon.social" autocomplete="username" required;
                }
                " "
                button type="submit" { "Follow" }
            }
        }
    }
}

/// `GET /@{name}/follow[?account=…]`: the form, or a redirect to the reader's server.
pub async fn get_follow(
    name: web::Path<String>,
    query: web::Query<FollowQuery>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let channel = match load(&data, &name).await {
        Ok(Some(channel)) => channel,
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    };
    let title = format!("Follow {}", display_name(&channel));
    let Some(raw) = query.account.as_deref().filter(|a| !a.trim().is_empty()) else {
        return page(
            StatusCode::OK,
            &title,
            html! {},
            form(&data, &channel, None),
        );
    };
    let Some(reader) = remote_follow::parse_reader(raw) else {
        let message = "That is not an account such as you@mastodon.social, nor a server name.";
        return page(
            StatusCode::BAD_REQUEST,
            &title,
            html! {},
            form(&data, &channel, Some(message)),
        );
    };
    match remote_follow::destination(&data, &reader, &channel).await {
        Some(url) => HttpResponse::SeeOther()
            .insert_header(("Location", url.as_str()))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .insert_header(("Cache-Control", "no-store"))
            .finish(),
        None => page(
            StatusCode::BAD_REQUEST,
            &title,
            html! {},
            form(
                &data,
                &channel,
                Some("That server cannot be reached from here."),
            ),
        ),
    }
}

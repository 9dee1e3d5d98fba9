//! The person's channels, a channel's replies and reports (viewers and up), and its audit
//! log (owners).

use super::{
    layout::{self, Tab},
    ConsoleError, Visitor,
};
use crate::{
    db::{self, Channel, Role},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpResponse};
use maud::{html, PreEscaped};

/// `GET /console`: the channels this person has a role in.
pub async fn home(visitor: Visitor, data: Data<HeraldState>) -> Result<HttpResponse, ConsoleError> {
    let channels = db::channels_of(&data.db, visitor.user.id).await?;
    let body = html! {
        h1 { "Your channels" }
        @if channels.is_empty() {
            p { "You have no role in any channel yet. Ask a channel's owner (or the operator: "
                code { "herald channel grant NAME " (visitor.user.email) " --role editor" } ")." }
        }
        ul.post-list {
            @for (channel, role) in &channels {
                li {
                    a href=(format!("/console/channels/{}", channel.name)) { "@" (channel.name) }
                    " · " (layout_name(channel)) " · " (role)
                }
            }
        }
    };
    Ok(layout::page(
        StatusCode::OK,
        "Your channels",
        &visitor.user,
        &visitor.session.csrf,
        None,
        body,
    ))
}

fn layout_name(channel: &Channel) -> &str {
    if channel.display_name.is_empty() {
        channel.name.as_str()
    } else {
        &channel.display_name
    }
}

/// `GET /console/channels/{name}/inbox`: replies to the channel's posts and reports
/// about it, newest first (viewers and up).
pub async fn inbox(
    path: web::Path<String>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Viewer).await?;
    let replies = db::list_replies(&data.db, channel.id, None, 50).await?;
    let reports = db::list_reports(&data.db, Some(channel.id)).await?;
    let body = html! {
        h1 { "Replies and reports" }
        section.console-section {
            h2 { "Replies" }
            @if replies.is_empty() { p { "No replies yet." } }
            ul.post-list {
                @for reply in &replies {
                    li {
                        div.post-meta {
                            a href=(reply.actor_uri) rel="nofollow noopener" { (reply.actor_uri) }
                            " · " (layout::when(reply.published.unwrap_or(reply.created_at)))
                            " · to " a href=(format!("/console/channels/{}/posts/{}", channel.name, reply.post_id)) { "this post" }
                        }
                        // Sanitized when it arrived.
                        div.reply-content { (PreEscaped(&reply.content_html)) }
                    }
                }
            }
        }
        section.console-section {
            h2 { "Reports" }
            @if reports.is_empty() { p { "No reports." } }
            ul.post-list {
                @for report in &reports {
                    li {
                        div.post-meta { "From " (report.authority) " · " (layout::when(report.created_at)) }
                        p { (report.content) }
                        @if !report.objects.is_empty() {
                            p.console-hint { "About: " (report.objects.join(", ")) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        StatusCode::OK,
        "Replies and reports",
        &visitor.user,
        &visitor.session.csrf,
        layout::place(&channel, role, Tab::Inbox),
        body,
    ))
}

/// `GET /console/channels/{name}/audit` (owners): the newest 200 entries.
pub async fn audit(
    path: web::Path<String>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    let entries = db::audit_log(&data.db, channel.id, 200).await?;
    let body = html! {
        h1 { "Audit log" }
        p.console-hint { "Who did what in this channel. Kept for its owners; never sent to other servers." }
        table.console-table #audit {
            thead { tr { th { "When" } th { "Who" } th { "What" } th { "Of" } } }
            tbody {
                @for e in &entries {
                    tr {
                        td { (layout::when(e.created_at)) }
                        td { (e.actor) }
                        td { (e.action) }
                        td { (e.target) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        StatusCode::OK,
        "Audit log",
        &visitor.user,
        &visitor.session.csrf,
        layout::place(&channel, role, Tab::Audit),
        body,
    ))
}

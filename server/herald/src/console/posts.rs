//! A channel's posts in the console: the list with each post's delivery and counts (under
//! the composer, for editors), and a post's page with its delivery to each server, its
//! edit form, pinning and deletion. Every change goes through the post lifecycle
//! (`posts`), as the API's and the apps' do.

use super::{
    compose::{composer, post_problem, Draft},
    layout::{self, csrf_field, Place, Tab},
    ConsoleError, Visitor,
};
use crate::{
    db::{self, Channel, ChannelImages, Post, PostId, Role},
    posts::{self, PostError},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

/// Posts on one page of the list.
const PAGE: u64 = 20;

#[derive(Deserialize)]
pub struct ListQuery {
    pub(super) before: Option<String>,
    pub(super) notice: Option<String>,
}

pub(super) async fn handle_of(data: &HeraldState, channel: &Channel) -> String {
    format!("@{}@{}", channel.name, data.urls.authority())
}

/// The delivery of a post as one line: delivered, retrying, failed servers.
fn delivery_line(counts: &std::collections::BTreeMap<String, u64>) -> Markup {
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let waiting = get("pending");
    let failed = get("failed") + get("parked");
    html! {
        span.delivery {
            span.delivered { (get("delivered")) " delivered" }
            @if waiting > 0 { " · " span { (waiting) " waiting" } }
            @if get("retrying") > 0 { " · " span.retrying { (get("retrying")) " retrying" } }
            @if failed > 0 { " · " span.failed { (failed) " failed" } }
        }
    }
}

/// `GET /console/channels/{name}`: the composer (for editors) and the posts, newest
/// first, each with its delivery and counts; scheduled posts first.
pub async fn channel_page(
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Viewer).await?;
    let composer = role
        .includes(Role::Editor)
        .then(|| composer(&channel, &visitor.session.csrf, &Draft::default(), None));
    render_channel(&data, &visitor, &channel, role, &query, composer, None).await
}

pub(super) async fn render_channel(
    data: &HeraldState,
    visitor: &Visitor,
    channel: &Channel,
    role: Role,
    query: &ListQuery,
    composer: Option<Markup>,
    preview: Option<Markup>,
) -> Result<HttpResponse, ConsoleError> {
    let before = query.before.as_deref().and_then(PostId::parse);
    let list = db::list_posts(&data.db, channel.id, before, PAGE).await?;
    let scheduled = if before.is_none() {
        db::scheduled_posts(&data.db, channel.id).await?
    } else {
        Vec::new()
    };
    let ids: Vec<PostId> = list.iter().map(|p| p.id).collect();
    let counts = db::interaction_counts(&data.db, &ids).await?;
    let mut rows = Vec::with_capacity(list.len());
    for post in &list {
        rows.push((post, db::delivery_counts(&data.db, Some(post.id.0)).await?));
    }
    let notice = match query.notice.as_deref() {
        Some("deleted") => Some("Deleted: followers' servers are told to remove it."),
        _ => None,
    };
    let body = html! {
        h1 { "@" (channel.name) }
        (layout::notice(notice))
        @if let Some(composer) = composer {
            div.compose-grid {
            section.console-section aria-labelledby="compose-title" {
                h2 #compose-title { "New post" }
                (composer)
            }
            section.console-section aria-labelledby="preview-title" {
                h2 #preview-title { "Preview" }
                div #live-preview aria-live="polite" {
                    @if let Some(preview) = preview {
                        (preview)
                    } @else {
                        p.console-hint { "Press Preview to see the post as a Mastodon timeline will show it." }
                    }
                }
            }
        }
        }
        @if !scheduled.is_empty() {
            section.console-section {
                h2 { "Scheduled" }
                ul.post-list {
                    @for post in &scheduled {
                        li {
                            a href=(format!("/console/channels/{}/posts/{}", channel.name, post.id)) { (excerpt(post)) }
                            " · goes out " (post.scheduled_at.map(layout::when).unwrap_or_default())
                        }
                    }
                }
            }
        }
        section.console-section {
            h2 { "Posts" }
            @if list.is_empty() { p { "No posts yet." } }
            ul.post-list {
                @for (post, delivery) in &rows {
                    @let c = counts.get(&post.id).cloned().unwrap_or_default();
                    li {
                        a href=(format!("/console/channels/{}/posts/{}", channel.name, post.id)) { (excerpt(post)) }
                        div.post-meta {
                            (post.published_at.map(layout::when).unwrap_or_default())
                            @if post.pinned_at.is_some() { " · pinned" }
                            " · " (delivery_line(delivery))
                            " · " (c.likes + c.reactions) " likes · " (c.boosts) " boosts · " (c.replies) " replies"
                        }
                    }
                }
            }
            @if list.len() as u64 == PAGE {
                @if let Some(last) = list.last() {
                    a href=(format!("/console/channels/{}?before={}", channel.name, last.id)) { "Older posts" }
                }
            }
        }
    };
    Ok(layout::page(
        StatusCode::OK,
        &format!("@{}", channel.name),
        &visitor.user,
        &visitor.session.csrf,
        Some(Place {
            channel,
            role,
            tab: Tab::Posts,
        }),
        body,
    ))
}

/// A post's first line or so, as plain text.
fn excerpt(post: &Post) -> String {
    let text = crate::content::strip_tags(&post.content_html);
    let text = text.trim();
    let mut out: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        out.push('…');
    }
    if out.is_empty() {
        "(no text)".into()
    } else {
        out
    }
}

#[derive(Deserialize)]
pub struct PostQuery {
    notice: Option<String>,
}

async fn load(data: &HeraldState, channel: &Channel, id: &str) -> Result<Post, ConsoleError> {
    let id = PostId::parse(id).ok_or(ConsoleError::NotFound)?;
    let post = db::post_by_id(&data.db, channel.id, id).await?;
    if post.deleted_at.is_some() {
        return Err(ConsoleError::NotFound);
    }
    Ok(post)
}

/// `GET /console/channels/{name}/posts/{id}`: the post as followers see it, its delivery
/// (by state, and each server that is retrying or failed, with why), its counts, and for
/// editors the edit form, pin and delete.
pub async fn post_page(
    path: web::Path<(String, String)>,
    query: web::Query<PostQuery>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (name, id) = path.into_inner();
    let (channel, role) = visitor.member(&data, &name, Role::Viewer).await?;
    let post = load(&data, &channel, &id).await?;
    let notice = match query.notice.as_deref() {
        Some("posted") => Some("Posted: it is on its way to every follower's server."),
        Some("scheduled") => Some("Scheduled."),
        Some("edited") => Some("Saved: followers' servers get the edit."),
        Some("pinned") => Some("Pinned."),
        Some("unpinned") => Some("Unpinned."),
        _ => None,
    };
    render_post(
        &data,
        &visitor,
        &channel,
        role,
        &post,
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_post(
    data: &HeraldState,
    visitor: &Visitor,
    channel: &Channel,
    role: Role,
    post: &Post,
    edit: Option<(Draft, &str)>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let images = ChannelImages::load(&data.db, channel).await?;
    let counts = db::delivery_counts(&data.db, Some(post.id.0)).await?;
    let troubled = db::troubled_deliveries(&data.db, post.id.0, 100).await?;
    let interactions = db::interaction_counts(&data.db, &[post.id])
        .await?
        .remove(&post.id)
        .unwrap_or_default();
    let csrf = &visitor.session.csrf;
    let base = format!("/console/channels/{}/posts/{}", channel.name, post.id);
    let (draft, problem) = match edit {
        Some((draft, problem)) => (draft, Some(problem)),
        None => (Draft::from_post(post), None),
    };
    let card = layout::mastodon_preview(
        channel,
        &handle_of(data, channel).await,
        images.avatar.as_ref(),
        post.summary.as_deref(),
        &post.content_html,
        &media,
    );
    let body = html! {
        h1 { "Post" }
        (layout::notice(notice))
        (card)
        p.post-meta {
            @if let Some(at) = post.published_at { "Published " (layout::when(at)) }
            @else if let Some(at) = post.scheduled_at { "Scheduled for " (layout::when(at)) }
            @if let Some(at) = post.updated_at { " · edited " (layout::when(at)) }
            " · " a href=(data.urls.post_page(&channel.name, post.id).to_string()) { "public page" }
        }
        section.console-section aria-labelledby="delivery-title" {
            h2 #delivery-title { "Delivery" }
            @if post.published_at.is_none() {
                p { "Not sent yet: it goes out when it is due." }
            } @else {
                p { (delivery_line(&counts)) }
                @if !troubled.is_empty() {
                    table.console-table {
                        thead { tr { th { "Server" } th { "State" } th { "Attempts" } th { "Last answer" } } }
                        tbody {
                            @for d in &troubled {
                                tr {
                                    td { (d.authority) }
                                    td { (d.state.as_str()) }
                                    td { (d.attempts) }
                                    td {
                                        @if let Some(status) = d.last_status { (status) " " }
                                        (d.last_error.as_deref().unwrap_or(""))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { (interactions.likes + interactions.reactions) " likes · " (interactions.boosts) " boosts · " (interactions.replies) " replies" }
        }
        @if role.includes(Role::Editor) {
            section.console-section aria-labelledby="edit-title" {
                h2 #edit-title { "Edit" }
                form.console-form method="post" action=(format!("{base}/edit")) {
                    (csrf_field(csrf))
                    (layout::problem("edit-problem", problem))
                    label for="text" { "Post" }
                    textarea #text name="text" rows="7" required { (draft.text) }
                    label for="summary" { "Content warning" }
                    input #summary type="text" name="summary" value=(draft.summary);
                    label.console-check { input type="checkbox" name="sensitive" checked[draft.sensitive]; " Mark images as sensitive" }
                    div.console-row {
                        div {
                            label for="language" { "Language" }
                            input #language type="text" name="language" value=(draft.language) size="8";
                        }
                        div {
                            label for="visibility" { "Visibility" }
                            select #visibility name="visibility" {
                                option value="public" selected[draft.visibility != "quiet"] { "Public" }
                                option value="quiet" selected[draft.visibility == "quiet"] { "Quiet public" }
                            }
                        }
                        @if post.published_at.is_none() {
                            div {
                                label for="scheduled_at" { "Schedule (UTC)" }
                                input #scheduled_at type="datetime-local" name="scheduled_at" value=(draft.scheduled_at);
                            }
                        }
                    }
                    @for (i, m) in media.iter().enumerate() {
                        label for=(format!("alt{i}")) { "Alt text for image " (i + 1) }
                        textarea id=(format!("alt{i}")) name=(format!("alt{i}")) rows="2" { (m.description.as_deref().unwrap_or("")) }
                    }
                    div.console-actions { button.primary type="submit" { "Save" } }
                }
                div.console-actions {
                    @if post.published_at.is_some() {
                        form method="post" action=(format!("{base}/pin")) {
                            (csrf_field(csrf))
                            @if post.pinned_at.is_some() {
                                input type="hidden" name="pinned" value="false";
                                button type="submit" { "Unpin" }
                            } @else {
                                input type="hidden" name="pinned" value="true";
                                button type="submit" { "Pin to the profile" }
                            }
                        }
                    }
                    form method="post" action=(format!("{base}/delete")) {
                        (csrf_field(csrf))
                        button.danger type="submit" { "Delete" }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        status,
        "Post",
        &visitor.user,
        csrf,
        Some(Place {
            channel,
            role,
            tab: Tab::Posts,
        }),
        body,
    ))
}

/// What every form about one post starts with: the channel (for an editor), the form
/// with its CSRF token checked, and the undeleted post.
async fn post_form(
    request: &HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    visitor: &Visitor,
    data: &HeraldState,
) -> Result<(Channel, Role, crate::form::Form, Post), ConsoleError> {
    let (name, id) = path.into_inner();
    let (channel, role, form) = visitor
        .channel_form(data, request, payload, &name, Role::Editor)
        .await?;
    let post = load(data, &channel, &id).await?;
    Ok((channel, role, form, post))
}

/// `POST …/posts/{id}/edit`: through the lifecycle (followers get an Update).
pub async fn edit(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role, form, post) = post_form(&request, path, payload, &visitor, &data).await?;
    let media = db::media_for_posts(&data.db, &[post.id]).await?;
    let draft = Draft::from_form(&form);
    let refused = |draft: Draft, problem: String| {
        let data = &data;
        let visitor = &visitor;
        let channel = &channel;
        let post = &post;
        async move {
            render_post(
                data,
                visitor,
                channel,
                role,
                post,
                Some((draft, &problem)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let mut input = match draft.input(media.iter().map(|m| m.id).collect()) {
        Ok(input) => input,
        Err(problem) => return refused(draft, problem).await,
    };
    // What the form does not show stays as it is: the post's own interaction policy, and
    // its schedule to the second when the (minute-precise) field was left alone.
    input.policy = post.policy;
    if draft.scheduled_at == Draft::from_post(&post).scheduled_at {
        input.scheduled_at = post.scheduled_at;
    }
    input.media_text = media
        .iter()
        .enumerate()
        .map(|(i, m)| posts::MediaText {
            id: m.id,
            description: form
                .get(&format!("alt{i}"))
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty()),
            focus: m.focus,
        })
        .collect();
    match posts::edit(&data, &channel, &visitor.actor(), post.id, input).await {
        Ok(_) => Ok(super::redirect(&format!(
            "/console/channels/{}/posts/{}?notice=edited",
            channel.name, post.id
        ))),
        Err(e) => {
            let problem = post_problem(e)?;
            refused(draft, problem).await
        }
    }
}

/// `POST …/posts/{id}/delete`.
pub async fn delete(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, _, _, post) = post_form(&request, path, payload, &visitor, &data).await?;
    match posts::delete(&data, &channel, &visitor.actor(), post.id).await {
        Ok(()) | Err(PostError::Gone) => Ok(super::redirect(&format!(
            "/console/channels/{}?notice=deleted",
            channel.name
        ))),
        Err(e) => Err(post_problem(e).map_or_else(|e| e, ConsoleError::Forbidden)),
    }
}

/// `POST …/posts/{id}/pin` with `pinned=true|false`.
pub async fn pin(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, _, form, post) = post_form(&request, path, payload, &visitor, &data).await?;
    let pinned = form.get("pinned") != Some("false");
    posts::pin(&data, &channel, &visitor.actor(), post.id, pinned)
        .await
        .map_err(|e| post_problem(e).map_or_else(|e| e, ConsoleError::Forbidden))?;
    Ok(super::redirect(&format!(
        "/console/channels/{}/posts/{}?notice={}",
        channel.name,
        post.id,
        if pinned { "pinned" } else { "unpinned" }
    )))
}

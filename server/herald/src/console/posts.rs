//! A channel's posts in the console: the list with each post's delivery and counts, the
//! composer with its Mastodon preview, and a post's page with its delivery to each
//! server, its edit form, pinning and deletion. Every change goes through the post
//! lifecycle (`posts`), as the API's and the apps' do.

use super::{
    layout::{self, csrf_field, Place, Tab},
    sign_in::text_form,
    ConsoleError, Visitor,
};
use crate::{
    api::media::store_image,
    db::{self, Channel, ChannelImages, Media, MediaId, Post, PostId, Role, Visibility},
    form::{self, Form, FormError},
    posts::{self, PostError, PostInput, MAX_MEDIA},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

/// Posts on one page of the list.
const PAGE: u64 = 20;

#[derive(Deserialize)]
pub struct ListQuery {
    before: Option<String>,
    notice: Option<String>,
}

/// What the owner typed into the composer (or an edit form), to show it again.
#[derive(Default)]
struct Draft {
    text: String,
    summary: String,
    language: String,
    visibility: String,
    sensitive: bool,
    scheduled_at: String,
    /// Per image slot: an image already stored (from a preview), its alt text.
    images: Vec<(Option<Media>, String)>,
    no_alt: bool,
}

impl Draft {
    fn from_form(form: &Form) -> Draft {
        Draft {
            text: form.get("text").unwrap_or_default().to_string(),
            summary: form.get("summary").unwrap_or_default().to_string(),
            language: form.get("language").unwrap_or_default().to_string(),
            visibility: form.get("visibility").unwrap_or("public").to_string(),
            sensitive: form.checked("sensitive"),
            scheduled_at: form.get("scheduled_at").unwrap_or_default().to_string(),
            images: Vec::new(),
            no_alt: form.checked("no_alt"),
        }
    }

    fn from_post(post: &Post) -> Draft {
        Draft {
            text: post.source.clone(),
            summary: post.summary.clone().unwrap_or_default(),
            language: post.language.clone().unwrap_or_default(),
            visibility: post.visibility.as_str().to_string(),
            sensitive: post.sensitive && post.summary.is_none(),
            scheduled_at: post
                .scheduled_at
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
            images: Vec::new(),
            no_alt: false,
        }
    }

    /// The post input, with `media` attached.
    fn input(&self, media: Vec<MediaId>) -> Result<PostInput, String> {
        let visibility = Visibility::parse(&self.visibility)
            .ok_or_else(|| format!("`{}` is not a visibility", self.visibility))?;
        let scheduled_at =
            match self.scheduled_at.trim() {
                "" => None,
                raw => Some(parse_time(raw).ok_or_else(|| {
                    format!("`{raw}` is not a time such as 2026-12-24T09:00 (UTC)")
                })?),
            };
        Ok(PostInput {
            text: self.text.clone(),
            summary: Some(self.summary.clone()),
            language: Some(self.language.clone()),
            sensitive: self.sensitive,
            visibility,
            scheduled_at,
            media,
            ..PostInput::default()
        })
    }
}

/// A time from a `datetime-local` field (taken as UTC) or RFC 3339.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|t| t.and_utc())
}

/// The composer: Markdown, content warning, language, visibility, schedule, up to four
/// images each with its alt text (asked for: posting without needs a tick), and the two
/// ways out, preview and publish.
fn composer(channel: &Channel, csrf: &str, draft: &Draft, problem: Option<&str>) -> Markup {
    let action = format!("/console/channels/{}/compose", channel.name);
    let described = problem.map(|_| "compose-problem");
    html! {
        form.console-form.composer method="post" action=(action) enctype="multipart/form-data"
            data-preview=(format!("/console/channels/{}/preview", channel.name)) {
            (csrf_field(csrf))
            (layout::problem("compose-problem", problem))
            label for="text" { "Post " span.console-hint { "(Markdown: **bold**, _italic_, [links](https://…), #hashtags, @mentions)" } }
            textarea #text name="text" rows="7" required aria-describedby=[described] { (draft.text) }
            label for="summary" { "Content warning " span.console-hint { "(optional: the post is folded behind it)" } }
            input #summary type="text" name="summary" value=(draft.summary) maxlength="1000";
            div.console-row {
                div {
                    label for="language" { "Language" }
                    input #language type="text" name="language" value=(draft.language) placeholder="en" size="8";
                }
                div {
                    label for="visibility" { "Visibility" }
                    select #visibility name="visibility" {
                        option value="public" selected[draft.visibility != "quiet"] { "Public" }
                        option value="quiet" selected[draft.visibility == "quiet"] { "Quiet public (not in public timelines)" }
                    }
                }
                div {
                    label for="scheduled_at" { "Schedule " span.console-hint { "(UTC; empty: now)" } }
                    input #scheduled_at type="datetime-local" name="scheduled_at" value=(draft.scheduled_at);
                }
            }
            label.console-check { input type="checkbox" name="sensitive" checked[draft.sensitive]; " Mark images as sensitive" }
            fieldset.composer-images {
                legend { "Images (up to " (MAX_MEDIA) ")" }
                @for slot in 0..MAX_MEDIA {
                    @let (stored, alt) = draft.images.get(slot).cloned().unwrap_or_default();
                    div.composer-image {
                        @if let Some(media) = &stored {
                            img src=(format!("/media/{}", media.file_name)) alt="" width="96" height=(u64::from(media.height) * 96 / u64::from(media.width.max(1)));
                            input type="hidden" name=(format!("media{slot}")) value=(media.id.to_string());
                            label.console-check { input type="checkbox" name=(format!("drop{slot}")); " Remove" }
                        } @else {
                            label for=(format!("image{slot}")) { "Image " (slot + 1) }
                            input id=(format!("image{slot}")) type="file" name=(format!("image{slot}")) accept="image/jpeg,image/png,image/webp,image/gif";
                        }
                        label for=(format!("alt{slot}")) { "Alt text for image " (slot + 1) " " span.console-hint { "(what a person who cannot see it needs to know)" } }
                        textarea id=(format!("alt{slot}")) name=(format!("alt{slot}")) rows="2" maxlength="1500" { (alt) }
                    }
                }
                label.console-check { input type="checkbox" name="no_alt" checked[draft.no_alt]; " Post images without alt text" }
            }
            div.console-actions {
                button type="submit" name="action" value="preview" { "Preview" }
                button.primary type="submit" name="action" value="publish" { "Publish" }
            }
        }
    }
}

async fn handle_of(data: &HeraldState, channel: &Channel) -> String {
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

async fn render_channel(
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

/// What the images of a submitted composer come to: the stored media to attach, in slot
/// order, or what to tell the owner.
async fn gather_images(
    data: &HeraldState,
    channel: &Channel,
    form: &Form,
    draft: &mut Draft,
) -> Result<Vec<MediaId>, String> {
    // First every check that needs nothing stored, so a refused form stores nothing.
    let mut slots = Vec::new();
    for slot in 0..MAX_MEDIA {
        let alt = form
            .get(&format!("alt{slot}"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let file = form
            .files
            .iter()
            .find(|(name, _)| name == &format!("image{slot}"))
            .map(|(_, bytes)| bytes.clone());
        let stored = match form.get(&format!("media{slot}")).and_then(MediaId::parse) {
            Some(id) if !form.checked(&format!("drop{slot}")) => {
                match db::media_by_id(&data.db, channel.id, id).await {
                    Ok(media) if media.post_id.is_none() => Some(media),
                    _ => {
                        return Err(format!(
                            "Image {} is no longer available; choose it again.",
                            slot + 1
                        ))
                    }
                }
            }
            _ => None,
        };
        if (file.is_some() || stored.is_some()) && alt.is_empty() && !draft.no_alt {
            draft.images = keep_stored(form, data, channel).await;
            return Err(format!(
                "Image {} has no alt text. Describe it for people who cannot see it, or tick \u{201c}Post images without alt text\u{201d}.",
                slot + 1
            ));
        }
        slots.push((file, stored, alt));
    }
    let mut media = Vec::new();
    draft.images.clear();
    for (slot, (file, stored, alt)) in slots.into_iter().enumerate() {
        let description = Some(alt.clone()).filter(|a| !a.is_empty());
        let kept = match (file, stored) {
            (Some(bytes), _) => {
                match store_image(data, channel, bytes, description, (0.0, 0.0)).await {
                    Ok(media) => Some(media),
                    Err(e) => {
                        draft.images.push((None, alt));
                        return Err(format!("Image {}: {e}", slot + 1));
                    }
                }
            }
            (None, Some(stored)) => {
                if stored.description != description {
                    db::update_media_text(
                        &data.db,
                        channel.id,
                        stored.id,
                        description,
                        stored.focus,
                    )
                    .await
                    .map_err(|e| crate::error_chain(&e))?;
                }
                db::media_by_id(&data.db, channel.id, stored.id).await.ok()
            }
            (None, None) => None,
        };
        if let Some(m) = &kept {
            media.push(m.id);
        }
        draft.images.push((kept, alt));
    }
    // Filled slots first, as they will be attached.
    draft.images.sort_by_key(|(m, _)| m.is_none());
    Ok(media)
}

/// The images a refused form had stored already (from a preview), to show them again.
async fn keep_stored(
    form: &Form,
    data: &HeraldState,
    channel: &Channel,
) -> Vec<(Option<Media>, String)> {
    let mut images = Vec::new();
    for slot in 0..MAX_MEDIA {
        let alt = form
            .get(&format!("alt{slot}"))
            .unwrap_or_default()
            .to_string();
        let stored = match form.get(&format!("media{slot}")).and_then(MediaId::parse) {
            Some(id) => db::media_by_id(&data.db, channel.id, id).await.ok(),
            None => None,
        };
        images.push((stored, alt));
    }
    images
}

/// `POST /console/channels/{name}/compose`: preview or publish. Anything refused (an
/// image over the limit, no alt text, a schedule in the past) shows the form again as it
/// was filled in, with the reason, and nothing is posted.
pub async fn compose(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Editor).await?;
    let max_file = usize::try_from(data.config.posts.max_upload_bytes).unwrap_or(usize::MAX);
    let files: Vec<String> = (0..MAX_MEDIA).map(|i| format!("image{i}")).collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let query = ListQuery {
        before: None,
        notice: None,
    };
    let again = |draft: &Draft, problem: &str, preview: Option<Markup>| {
        let composer = composer(&channel, &visitor.session.csrf, draft, Some(problem));
        (composer, preview)
    };
    let form = match form::read(&request, payload, &files, max_file, super::TEXT_LIMIT).await {
        Ok(form) => form,
        Err(FormError::TooLarge { message, fields }) => {
            let form = Form {
                fields,
                files: Vec::new(),
            };
            visitor.check_csrf(form.get("csrf"))?;
            let mut draft = Draft::from_form(&form);
            draft.images = keep_stored(&form, &data, &channel).await;
            let (composer, _) = again(&draft, &format!("Nothing was posted: {message}."), None);
            let page = render_channel(
                &data,
                &visitor,
                &channel,
                role,
                &query,
                Some(composer),
                None,
            )
            .await?;
            return Ok(with_status(page, StatusCode::PAYLOAD_TOO_LARGE));
        }
        Err(FormError::Invalid(message)) => return Err(ConsoleError::Forbidden(message)),
    };
    visitor.check_csrf(form.get("csrf"))?;
    let mut draft = Draft::from_form(&form);
    let refused = |draft: &Draft, problem: String| {
        let (composer, _) = again(draft, &problem, None);
        composer
    };
    let media = match gather_images(&data, &channel, &form, &mut draft).await {
        Ok(media) => media,
        Err(problem) => {
            let composer = refused(&draft, problem);
            let page = render_channel(
                &data,
                &visitor,
                &channel,
                role,
                &query,
                Some(composer),
                None,
            )
            .await?;
            return Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let input = match draft.input(media) {
        Ok(input) => input,
        Err(problem) => {
            let composer = refused(&draft, problem);
            let page = render_channel(
                &data,
                &visitor,
                &channel,
                role,
                &query,
                Some(composer),
                None,
            )
            .await?;
            return Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let actor = visitor.actor();
    if form.get("action") == Some("preview") {
        let attached: Vec<Media> = draft.images.iter().filter_map(|(m, _)| m.clone()).collect();
        let result = posts::preview(&data, &channel, &actor, input).await;
        let (composer, preview) = match result {
            Ok(preview) => {
                let images = ChannelImages::load(&data.db, &channel).await?;
                let card = layout::mastodon_preview(
                    &channel,
                    &handle_of(&data, &channel).await,
                    images.avatar.as_ref(),
                    preview.note.summary.as_deref(),
                    &preview.html,
                    &attached,
                );
                (
                    composer(&channel, &visitor.session.csrf, &draft, None),
                    Some(card),
                )
            }
            Err(e) => (refused(&draft, post_problem(e)?), None),
        };
        return render_channel(
            &data,
            &visitor,
            &channel,
            role,
            &query,
            Some(composer),
            preview,
        )
        .await;
    }
    match posts::create(&data, &channel, &actor, input).await {
        Ok(published) => Ok(super::redirect(&format!(
            "/console/channels/{}/posts/{}?notice={}",
            channel.name,
            published.post.id,
            if published.post.published_at.is_some() {
                "posted"
            } else {
                "scheduled"
            }
        ))),
        Err(e) => {
            let composer = refused(&draft, post_problem(e)?);
            let page = render_channel(
                &data,
                &visitor,
                &channel,
                role,
                &query,
                Some(composer),
                None,
            )
            .await?;
            Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

/// The Mastodon card of what `input` would post, from the lifecycle's preview (the
/// renderer the federation code uses); the inner error is the owner's to fix.
async fn preview_card(
    data: &Data<HeraldState>,
    channel: &Channel,
    actor: &db::Actor,
    input: PostInput,
    attached: &[Media],
) -> Result<Result<Markup, PostError>, ConsoleError> {
    let preview = match posts::preview(data, channel, actor, input).await {
        Ok(preview) => preview,
        Err(e) => return Ok(Err(e)),
    };
    let images = ChannelImages::load(&data.db, channel).await?;
    Ok(Ok(layout::mastodon_preview(
        channel,
        &handle_of(data, channel).await,
        images.avatar.as_ref(),
        preview.note.summary.as_deref(),
        &preview.html,
        attached,
    )))
}

/// `POST /console/channels/{name}/preview`: the preview card alone, for the composer's
/// script as the text changes (the form's text fields and already stored images; files
/// are previewed with the Preview button).
pub async fn live_preview(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, _) = visitor.member(&data, &path, Role::Editor).await?;
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    let draft = Draft::from_form(&form);
    let attached: Vec<Media> = keep_stored(&form, &data, &channel)
        .await
        .into_iter()
        .filter_map(|(m, _)| m)
        .collect();
    let fragment = |status: StatusCode, markup: Markup| {
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(markup.into_string())
    };
    let input = match draft.input(attached.iter().map(|m| m.id).collect()) {
        Ok(input) => input,
        Err(problem) => {
            return Ok(fragment(
                StatusCode::UNPROCESSABLE_ENTITY,
                layout::problem("preview-problem", Some(&problem)),
            ))
        }
    };
    match preview_card(&data, &channel, &visitor.actor(), input, &attached).await? {
        Ok(card) => Ok(fragment(StatusCode::OK, card)),
        Err(e) => {
            let problem = post_problem(e)?;
            Ok(fragment(
                StatusCode::UNPROCESSABLE_ENTITY,
                layout::problem("preview-problem", Some(&problem)),
            ))
        }
    }
}

fn with_status(mut response: HttpResponse, status: StatusCode) -> HttpResponse {
    *response.status_mut() = status;
    response
}

/// What to tell the owner about a refused post; failures that are not theirs are errors.
fn post_problem(e: PostError) -> Result<String, ConsoleError> {
    match e {
        PostError::Invalid { message, .. } => Ok(format!("Nothing was posted: {message}.")),
        PostError::NotFound => Err(ConsoleError::NotFound),
        PostError::Gone => Ok("This post was deleted.".into()),
        other => Err(ConsoleError::Internal(Box::new(other))),
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

/// `POST …/posts/{id}/edit`: through the lifecycle (followers get an Update).
pub async fn edit(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (name, id) = path.into_inner();
    let (channel, role) = visitor.member(&data, &name, Role::Editor).await?;
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    let post = load(&data, &channel, &id).await?;
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
    let (name, id) = path.into_inner();
    let (channel, _) = visitor.member(&data, &name, Role::Editor).await?;
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    let post = load(&data, &channel, &id).await?;
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
    let (name, id) = path.into_inner();
    let (channel, _) = visitor.member(&data, &name, Role::Editor).await?;
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    let post = load(&data, &channel, &id).await?;
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

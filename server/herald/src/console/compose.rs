//! The composer: what the owner typed (`Draft`), the form, its images (stored once, then
//! carried along by id), the preview card (from the lifecycle's preview, the renderer the
//! federation code uses; also live, for the console's script), and publishing. Anything
//! refused shows the form again as it was filled in, and nothing is posted.

use super::{
    layout::{self, csrf_field},
    posts::{handle_of, render_channel, ListQuery},
    ConsoleError, Visitor,
};
use crate::{
    api::media::store_image,
    db::{self, Channel, ChannelImages, Media, MediaId, Post, Role, Visibility},
    form::{self, Form, FormError},
    posts::{self, PostError, PostInput, MAX_MEDIA},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{html, Markup};

/// What the owner typed into the composer (or an edit form), to show it again.
#[derive(Default)]
pub(super) struct Draft {
    pub(super) text: String,
    pub(super) summary: String,
    pub(super) language: String,
    pub(super) visibility: String,
    pub(super) sensitive: bool,
    pub(super) scheduled_at: String,
    /// Per image slot: an image already stored (from a preview), its alt text.
    pub(super) images: Vec<(Option<Media>, String)>,
    pub(super) no_alt: bool,
}

impl Draft {
    pub(super) fn from_form(form: &Form) -> Draft {
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

    pub(super) fn from_post(post: &Post) -> Draft {
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
    pub(super) fn input(&self, media: Vec<MediaId>) -> Result<PostInput, String> {
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
pub(super) fn composer(
    channel: &Channel,
    csrf: &str,
    draft: &Draft,
    problem: Option<&str>,
) -> Markup {
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
    // The channel page with the composer as filled in, and a preview or a problem.
    let page = |draft: &Draft, problem: Option<String>, preview: Option<Markup>, status| {
        let composer = composer(&channel, &visitor.session.csrf, draft, problem.as_deref());
        let (data, visitor, channel, query) = (&data, &visitor, &channel, &query);
        async move {
            let page = render_channel(data, visitor, channel, role, query, Some(composer), preview)
                .await?;
            Ok::<_, ConsoleError>(with_status(page, status))
        }
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
            let problem = format!("Nothing was posted: {message}.");
            return page(&draft, Some(problem), None, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Err(e) => return Err(e.into()),
    };
    visitor.check_csrf(form.get("csrf"))?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let mut draft = Draft::from_form(&form);
    let media = match gather_images(&data, &channel, &form, &mut draft).await {
        Ok(media) => media,
        Err(problem) => return page(&draft, Some(problem), None, refused).await,
    };
    let input = match draft.input(media) {
        Ok(input) => input,
        Err(problem) => return page(&draft, Some(problem), None, refused).await,
    };
    let actor = visitor.actor();
    if form.get("action") == Some("preview") {
        let attached: Vec<Media> = draft.images.iter().filter_map(|(m, _)| m.clone()).collect();
        return match preview_card(&data, &channel, &actor, input, &attached).await? {
            Ok(card) => page(&draft, None, Some(card), StatusCode::OK).await,
            Err(e) => page(&draft, Some(post_problem(e)?), None, StatusCode::OK).await,
        };
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
        Err(e) => page(&draft, Some(post_problem(e)?), None, refused).await,
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
    let (channel, _, form) = visitor
        .channel_form(&data, &request, payload, &path, Role::Editor)
        .await?;
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
pub(super) fn post_problem(e: PostError) -> Result<String, ConsoleError> {
    match e {
        PostError::Invalid { message, .. } => Ok(format!("Nothing was posted: {message}.")),
        PostError::NotFound => Err(ConsoleError::NotFound),
        PostError::Gone => Ok("This post was deleted.".into()),
        other => Err(ConsoleError::Internal(Box::new(other))),
    }
}

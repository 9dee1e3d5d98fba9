//! The channel's profile (owners): name, about, fields, language, avatar and header, the
//! author signature, approval of followers; through the same profile change as the API
//! (followers get the actor's Update).

use super::{
    layout::{self, csrf_field, Tab},
    ConsoleError, Visitor,
};
use crate::{
    api::media::store_image,
    db::{Channel, ChannelImages, ProfileField, Role},
    form::{self, Form, FormError},
    posts::{self, PostError, ProfileInput, MAX_FIELDS},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

fn profile_form(channel: &Channel, csrf: &str, problem: Option<&str>) -> Markup {
    let mut fields = channel.fields.clone();
    fields.resize(
        MAX_FIELDS,
        ProfileField {
            name: String::new(),
            value: String::new(),
        },
    );
    html! {
        form.console-form method="post" action=(format!("/console/channels/{}/profile", channel.name)) enctype="multipart/form-data" {
            (csrf_field(csrf))
            (layout::problem("profile-problem", problem))
            label for="display_name" { "Name" }
            input #display_name type="text" name="display_name" value=(channel.display_name) maxlength="100";
            label for="summary" { "About " span.console-hint { "(Markdown)" } }
            textarea #summary name="summary" rows="4" maxlength="2000" { (channel.summary) }
            fieldset {
                legend { "Profile fields" }
                @for (i, field) in fields.iter().enumerate() {
                    div.console-row {
                        div {
                            label for=(format!("field_name{i}")) { "Label " (i + 1) }
                            input id=(format!("field_name{i}")) type="text" name=(format!("field_name{i}")) value=(field.name);
                        }
                        div {
                            label for=(format!("field_value{i}")) { "Content " (i + 1) }
                            input id=(format!("field_value{i}")) type="text" name=(format!("field_value{i}")) value=(field.value);
                        }
                    }
                }
            }
            label for="default_language" { "Language of posts that name none" }
            input #default_language type="text" name="default_language" value=(channel.default_language.as_deref().unwrap_or("")) size="8";
            label for="avatar" { "Avatar " span.console-hint { "(square; replaces the current one)" } }
            input #avatar type="file" name="avatar" accept="image/jpeg,image/png,image/webp,image/gif";
            label for="header" { "Header image " span.console-hint { "(3:1)" } }
            input #header type="file" name="header" accept="image/jpeg,image/png,image/webp,image/gif";
            label.console-check { input type="checkbox" name="sign_posts" checked[channel.sign_posts]; " Sign posts with their author's name" }
            label.console-check { input type="checkbox" name="manually_approves" checked[channel.manually_approves]; " Approve followers by hand" }
            label.console-check { input type="checkbox" name="bot" checked[channel.bot]; " An automated account (a bot)" }
            div.console-actions { button.primary type="submit" { "Save the profile" } }
        }
    }
}

async fn render_profile(
    data: &HeraldState,
    visitor: &Visitor,
    channel: &Channel,
    role: Role,
    problem: Option<&str>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let images = ChannelImages::load(&data.db, channel).await?;
    let body = html! {
        h1 { "Profile" }
        (layout::notice(notice))
        div.profile-images {
            @if let Some(avatar) = &images.avatar {
                img src=(format!("/media/{}", avatar.file_name)) alt="The avatar" width="96" height="96";
            }
            @if let Some(header) = &images.header {
                img src=(format!("/media/{}", header.file_name)) alt="The header image" width="288" height="96";
            }
        }
        (profile_form(channel, &visitor.session.csrf, problem))
    };
    Ok(layout::page(
        status,
        "Profile",
        &visitor.user,
        &visitor.session.csrf,
        layout::place(channel, role, Tab::Profile),
        body,
    ))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// `GET /console/channels/{name}/profile` (owners).
pub async fn profile_page(
    path: web::Path<String>,
    query: web::Query<NoticeQuery>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    let notice = query
        .notice
        .as_deref()
        .map(|_| "Saved: followers' servers get the new profile.");
    render_profile(
        &data,
        &visitor,
        &channel,
        role,
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /console/channels/{name}/profile`: through the same profile change as the API.
pub async fn profile_submit(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    let max_file = usize::try_from(data.config.posts.max_upload_bytes).unwrap_or(usize::MAX);
    let refused = |problem: String, status| {
        let (data, visitor, channel) = (&data, &visitor, &channel);
        async move { render_profile(data, visitor, channel, role, Some(&problem), None, status).await }
    };
    let form = match form::read(
        &request,
        payload,
        &["avatar", "header"],
        max_file,
        super::TEXT_LIMIT,
    )
    .await
    {
        Ok(form) => form,
        Err(FormError::TooLarge { message, fields }) => {
            let partial = Form {
                fields,
                files: Vec::new(),
            };
            visitor.check_csrf(partial.get("csrf"))?;
            return refused(
                format!("Nothing was changed: {message}."),
                StatusCode::PAYLOAD_TOO_LARGE,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    visitor.check_csrf(form.get("csrf"))?;
    let mut images = [None, None];
    for (slot, name) in ["avatar", "header"].into_iter().enumerate() {
        if let Some((_, bytes)) = form.files.iter().find(|(n, _)| n == name) {
            match store_image(&data, &channel, bytes.clone(), None, (0.0, 0.0)).await {
                Ok(media) => images[slot] = Some(Some(media.id)),
                Err(e) => {
                    return refused(format!("The {name}: {e}"), StatusCode::UNPROCESSABLE_ENTITY)
                        .await
                }
            }
        }
    }
    let fields: Vec<ProfileField> = (0..MAX_FIELDS)
        .map(|i| ProfileField {
            name: form
                .get(&format!("field_name{i}"))
                .unwrap_or_default()
                .trim()
                .to_string(),
            value: form
                .get(&format!("field_value{i}"))
                .unwrap_or_default()
                .trim()
                .to_string(),
        })
        .filter(|f| !f.name.is_empty() || !f.value.is_empty())
        .collect();
    let [avatar, header] = images;
    let input = ProfileInput {
        display_name: form.get("display_name").map(str::to_string),
        summary: form.get("summary").map(str::to_string),
        bot: Some(form.checked("bot")),
        fields: Some(fields),
        default_language: form
            .get("default_language")
            .map(|l| Some(l.trim().to_string()).filter(|l| !l.is_empty())),
        policy: None,
        avatar,
        header,
        manually_approves: Some(form.checked("manually_approves")),
        sign_posts: Some(form.checked("sign_posts")),
        also_known_as: None,
    };
    match posts::update_profile(&data, &channel, &visitor.actor(), input).await {
        Ok(_) => Ok(super::redirect(&format!(
            "/console/channels/{}/profile?notice=saved",
            channel.name
        ))),
        Err(PostError::Invalid { message, .. }) => {
            refused(
                format!("Nothing was changed: {message}."),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ConsoleError::internal(e)),
    }
}

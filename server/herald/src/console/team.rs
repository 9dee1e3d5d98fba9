//! The console's other pages: the person's channels, replies and reports, followers and
//! follow requests, the profile, the people and their roles, tokens, and the audit log.

use super::{
    layout::{self, csrf_field, Place, Tab},
    sign_in::text_form,
    ConsoleError, Visitor,
};
use crate::{
    api::{media::store_image, Scope, TokenKeys},
    db::{self, AuditAction, Channel, ChannelImages, DbError, ProfileField, Role, UserId},
    form::{self, Form, FormError},
    moderation,
    people::{self, PeopleError},
    posts::{self, PostError, ProfileInput, MAX_FIELDS},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use uuid::Uuid;

fn place(channel: &Channel, role: Role, tab: Tab) -> Option<Place<'_>> {
    Some(Place { channel, role, tab })
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ConsoleError {
    ConsoleError::Internal(Box::new(e))
}

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
        place(&channel, role, Tab::Inbox),
        body,
    ))
}

#[derive(Deserialize)]
pub struct FollowersQuery {
    after: Option<i64>,
}

/// How many followers one page shows.
const FOLLOWERS_PAGE: u64 = 100;

/// `GET /console/channels/{name}/followers`: follow requests to answer, then followers
/// (owners).
pub async fn followers(
    path: web::Path<String>,
    query: web::Query<FollowersQuery>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    let pending = db::list_followers(&data.db, channel.id, true, None, FOLLOWERS_PAGE).await?;
    let list = db::list_followers(&data.db, channel.id, false, query.after, FOLLOWERS_PAGE).await?;
    let total = db::count_followers(&data.db, channel.id).await?;
    let csrf = &visitor.session.csrf;
    let action = |id: i64| format!("/console/channels/{}/followers/{id}", channel.name);
    let body = html! {
        h1 { "Followers" }
        p { (total) " followers." }
        @if !pending.is_empty() {
            section.console-section {
                h2 { "Follow requests" }
                ul.post-list {
                    @for f in &pending {
                        li {
                            a href=(f.actor_uri) rel="nofollow noopener" { (f.actor_uri) }
                            form.inline method="post" action=(action(f.id)) {
                                (csrf_field(csrf))
                                button.primary type="submit" name="answer" value="approve" { "Approve" }
                                " "
                                button type="submit" name="answer" value="remove" { "Refuse" }
                            }
                        }
                    }
                }
            }
        }
        section.console-section {
            h2 { "Following the channel" }
            ul.post-list {
                @for f in &list {
                    li {
                        a href=(f.actor_uri) rel="nofollow noopener" { (f.actor_uri) }
                        " · since " (layout::when(f.created_at))
                        form.inline method="post" action=(action(f.id)) {
                            (csrf_field(csrf))
                            button.danger type="submit" name="answer" value="remove" { "Remove" }
                        }
                    }
                }
            }
            @if list.len() as u64 == FOLLOWERS_PAGE {
                @if let Some(last) = list.last() {
                    a href=(format!("/console/channels/{}/followers?after={}", channel.name, last.id)) { "More" }
                }
            }
        }
    };
    Ok(layout::page(
        StatusCode::OK,
        "Followers",
        &visitor.user,
        csrf,
        place(&channel, role, Tab::Followers),
        body,
    ))
}

/// `POST /console/channels/{name}/followers/{id}` with `answer=approve|remove`.
pub async fn answer_follower(
    request: HttpRequest,
    path: web::Path<(String, i64)>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (name, id) = path.into_inner();
    let (channel, _) = visitor.member(&data, &name, Role::Owner).await?;
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    let approve = form.get("answer") == Some("approve");
    match moderation::answer_follower(&data, &channel, &visitor.actor(), id, approve).await {
        Ok(()) | Err(moderation::ModerationError::NotFound) => {}
        Err(e) => return Err(internal(e)),
    }
    Ok(super::redirect(&format!(
        "/console/channels/{}/followers",
        channel.name
    )))
}

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
        place(channel, role, Tab::Profile),
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
        Err(FormError::Invalid(message)) => return Err(ConsoleError::Forbidden(message)),
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
        Err(e) => Err(internal(e)),
    }
}

async fn render_people(
    data: &HeraldState,
    visitor: &Visitor,
    channel: &Channel,
    role: Role,
    outcome: Option<Markup>,
    problem: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let members = db::members(&data.db, channel.id).await?;
    let csrf = &visitor.session.csrf;
    let action = format!("/console/channels/{}/people", channel.name);
    let role_select = |id: &str, current: Role| {
        html! {
            select id=(id) name="role" {
                @for r in Role::ALL {
                    option value=(r.as_str()) selected[r == current] { (r) }
                }
            }
        }
    };
    let body = html! {
        h1 { "People" }
        (layout::problem("people-problem", problem))
        @if let Some(outcome) = outcome { (outcome) }
        p.console-hint { "Owners manage people, the profile, followers and tokens; editors post, edit, delete, pin and schedule; viewers read the delivery, replies and reports." }
        table.console-table {
            thead { tr { th { "Person" } th { "Role" } th { "" } } }
            tbody {
                @for (user, member_role) in &members {
                    tr {
                        td { (user.display_name) " " span.console-hint { (user.email) }
                            @if !user.is_active() { " (disabled)" } }
                        td {
                            form.inline method="post" action=(action) {
                                (csrf_field(csrf))
                                input type="hidden" name="user" value=(user.id.0);
                                label.visually-hidden for=(format!("role{}", user.id)) { "Role of " (user.email) }
                                (role_select(&format!("role{}", user.id), *member_role))
                                " "
                                button type="submit" name="op" value="role" { "Change" }
                            }
                        }
                        td {
                            form.inline method="post" action=(action) {
                                (csrf_field(csrf))
                                input type="hidden" name="user" value=(user.id.0);
                                button.danger type="submit" name="op" value="revoke" { "Remove" }
                            }
                        }
                    }
                }
            }
        }
        section.console-section {
            h2 { "Add a person" }
            form.console-form method="post" action=(action) {
                (csrf_field(csrf))
                label for="email" { "Email" }
                input #email type="email" name="email" required;
                label for="name" { "Name " span.console-hint { "(for someone new)" } }
                input #name type="text" name="name";
                label for="new-role" { "Role" }
                (role_select("new-role", Role::Editor))
                div.console-actions { button.primary type="submit" name="op" value="add" { "Add" } }
            }
            p.console-hint { "Someone new gets a one-time sign-in link to pass on; they choose their password there." }
        }
    };
    Ok(layout::page(
        status,
        "People",
        &visitor.user,
        csrf,
        place(channel, role, Tab::People),
        body,
    ))
}

/// `GET /console/channels/{name}/people` (owners).
pub async fn people(
    path: web::Path<String>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    render_people(&data, &visitor, &channel, role, None, None, StatusCode::OK).await
}

/// `POST /console/channels/{name}/people`: `op=add` (email, name, role: a new person is
/// created and their sign-in link shown once), `op=role` (user, role), `op=revoke` (user).
pub async fn people_submit(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    let actor = visitor.actor();
    let refused = |problem: String| {
        let (data, visitor, channel) = (&data, &visitor, &channel);
        async move {
            render_people(
                data,
                visitor,
                channel,
                role,
                None,
                Some(&problem),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let chosen_role = form.get("role").and_then(Role::parse);
    let member = || async {
        let id = form.get("user").and_then(|u| u.parse().ok()).map(UserId);
        match id {
            Some(id) => db::user_by_id(&data.db, id)
                .await
                .map_err(ConsoleError::from),
            None => Err(ConsoleError::NotFound),
        }
    };
    let result = match form.get("op") {
        Some("add") => {
            let Some(new_role) = chosen_role else {
                return refused("Choose a role.".into()).await;
            };
            let email = form.get("email").unwrap_or_default().trim();
            let (user, link) = match db::user_by_email(&data.db, email).await {
                Ok(user) => (user, None),
                Err(DbError::NotFound) => {
                    let name = Some(form.get("name").unwrap_or_default().trim())
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| email.split('@').next().unwrap_or_default());
                    let user = match people::create_user(&data.db, email, name, None).await {
                        Ok(user) => user,
                        Err(PeopleError::Invalid(problem)) => return refused(problem).await,
                        Err(e) => return Err(internal(e)),
                    };
                    let link = people::sign_in_link(&data.db, &data.config, &user)
                        .await
                        .map_err(internal)?;
                    (user, Some(link))
                }
                Err(e) => return Err(e.into()),
            };
            people::grant(&data.db, &actor, &channel, &user, new_role)
                .await
                .map(|()| Some((user, link)))
        }
        Some("role") => {
            let user = member().await?;
            let Some(new_role) = chosen_role else {
                return refused("Choose a role.".into()).await;
            };
            people::grant(&data.db, &actor, &channel, &user, new_role)
                .await
                .map(|()| None)
        }
        Some("revoke") => {
            let user = member().await?;
            people::revoke(&data.db, &actor, &channel, &user)
                .await
                .map(|()| None)
        }
        _ => return Err(ConsoleError::NotFound),
    };
    match result {
        Ok(Some((user, Some(link)))) => {
            let outcome = html! {
                div.console-notice role="status" {
                    p { (user.email) " can now sign in with this one-time link (it is shown once):" }
                    p { code.secret { (link) } }
                }
            };
            render_people(
                &data,
                &visitor,
                &channel,
                role,
                Some(outcome),
                None,
                StatusCode::OK,
            )
            .await
        }
        Ok(_) => Ok(super::redirect(&format!(
            "/console/channels/{}/people",
            channel.name
        ))),
        Err(PeopleError::LastOwner) => refused(PeopleError::LastOwner.to_string()).await,
        Err(PeopleError::NotFound) => Err(ConsoleError::NotFound),
        Err(e) => Err(internal(e)),
    }
}

async fn render_tokens(
    data: &HeraldState,
    visitor: &Visitor,
    channel: &Channel,
    role: Role,
    issued: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let tokens = db::list_tokens(&data.db, channel.id).await?;
    let csrf = &visitor.session.csrf;
    let action = format!("/console/channels/{}/tokens", channel.name);
    let mut rows = Vec::with_capacity(tokens.len());
    for token in &tokens {
        let person = match token.user_id {
            Some(id) => db::user_by_id(&data.db, id).await.ok().map(|u| u.email),
            None => None,
        };
        rows.push((token, person));
    }
    let body = html! {
        h1 { "Tokens" }
        @if let Some(token) = issued {
            div.console-notice role="status" {
                p { "The new token, shown this once: copy it now." }
                p { code.secret #issued-token { (token) } }
            }
        }
        p.console-hint { "A channel token is for a bot or a script; a personal token acts as you, and can do no more than your role." }
        table.console-table {
            thead { tr { th { "Label" } th { "Acts as" } th { "Scopes" } th { "Issued" } th { "Expires" } th { "" } } }
            tbody {
                @for (token, person) in &rows {
                    tr {
                        td { (token.label.as_deref().unwrap_or("—")) }
                        td { (person.as_deref().unwrap_or("the channel")) }
                        td { (token.scopes.join(" ")) }
                        td { (layout::when(token.created_at)) }
                        td { (token.expires_at.map(layout::when).unwrap_or_else(|| "never".into())) }
                        td {
                            @if token.revoked_at.is_some() {
                                "revoked"
                            } @else {
                                form.inline method="post" action=(action) {
                                    (csrf_field(csrf))
                                    input type="hidden" name="token" value=(token.id.to_string());
                                    button.danger type="submit" name="op" value="revoke" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.console-section {
            h2 { "Issue a token" }
            form.console-form method="post" action=(action) {
                (csrf_field(csrf))
                label for="label" { "What it is for" }
                input #label type="text" name="label" placeholder="CI release bot" maxlength="100";
                fieldset {
                    legend { "Scopes" }
                    @for scope in Scope::ALL {
                        label.console-check { input type="checkbox" name="scope" value=(scope.as_str()) checked[scope != Scope::ProfileWrite]; " " (scope.as_str()) }
                    }
                }
                label.console-check { input type="checkbox" name="personal"; " A personal token (acts as me, with my role)" }
                label for="days" { "Expires after (days; empty: never)" }
                input #days type="number" name="days" min="1" max="3650";
                div.console-actions { button.primary type="submit" name="op" value="issue" { "Issue" } }
            }
        }
    };
    Ok(layout::page(
        status,
        "Tokens",
        &visitor.user,
        csrf,
        place(channel, role, Tab::Tokens),
        body,
    ))
}

/// `GET /console/channels/{name}/tokens` (owners).
pub async fn tokens(
    path: web::Path<String>,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    render_tokens(&data, &visitor, &channel, role, None, StatusCode::OK).await
}

/// `POST /console/channels/{name}/tokens`: `op=issue` (label, scope…, personal, days;
/// the token is shown once, never stored) or `op=revoke` (token).
pub async fn tokens_submit(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    visitor: Visitor,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let (channel, role) = visitor.member(&data, &path, Role::Owner).await?;
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    let actor = visitor.actor();
    match form.get("op") {
        Some("issue") => {
            let scopes: Vec<Scope> = form.all("scope").filter_map(Scope::parse).collect();
            if scopes.is_empty() {
                return Err(ConsoleError::Forbidden("Choose at least one scope.".into()));
            }
            let expires_at = form
                .get("days")
                .and_then(|d| d.trim().parse::<i64>().ok())
                .filter(|d| (1..=3650).contains(d))
                .map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            let label = form
                .get("label")
                .map(|l| l.trim().chars().take(100).collect::<String>())
                .filter(|l| !l.is_empty());
            let person = form.checked("personal").then_some(&visitor.user);
            let (token, record) = keys
                .issue(&data.db, &channel, &scopes, expires_at, person, label)
                .await
                .map_err(internal)?;
            people::audit(
                &data.db,
                &channel,
                &actor,
                AuditAction::TokenIssued,
                &record.id.to_string(),
            )
            .await;
            render_tokens(
                &data,
                &visitor,
                &channel,
                role,
                Some(&token),
                StatusCode::OK,
            )
            .await
        }
        Some("revoke") => {
            let id = form
                .get("token")
                .and_then(|t| Uuid::parse_str(t).ok())
                .ok_or(ConsoleError::NotFound)?;
            let record = db::token_by_id(&data.db, id).await?;
            if record.channel_id != channel.id {
                return Err(ConsoleError::NotFound);
            }
            db::revoke_token(&data.db, id).await?;
            people::audit(
                &data.db,
                &channel,
                &actor,
                AuditAction::TokenRevoked,
                &id.to_string(),
            )
            .await;
            Ok(super::redirect(&format!(
                "/console/channels/{}/tokens",
                channel.name
            )))
        }
        _ => Err(ConsoleError::NotFound),
    }
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
        place(&channel, role, Tab::Audit),
        body,
    ))
}

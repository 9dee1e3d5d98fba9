//! The team: people and their roles, and tokens (owners): a new person gets a one-time sign-in link
//! shown once; a token is shown once and never stored.

use super::{
    layout::{self, csrf_field, Tab},
    ConsoleError, Visitor,
};
use crate::{
    api::{Scope, TokenKeys},
    db::{self, AuditAction, Channel, DbError, Role, UserId},
    people::{self, PeopleError},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use uuid::Uuid;

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
        layout::place(channel, role, Tab::People),
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
    let (channel, role, form) = visitor
        .channel_form(&data, &request, payload, &path, Role::Owner)
        .await?;
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
    // A person of this channel: another channel's (or no one's) is not there.
    let member = || async {
        let id = form
            .get("user")
            .and_then(|u| u.parse().ok())
            .map(UserId)
            .ok_or(ConsoleError::NotFound)?;
        if db::role_of(&data.db, channel.id, id).await?.is_none() {
            return Err(ConsoleError::NotFound);
        }
        Ok::<_, ConsoleError>(db::user_by_id(&data.db, id).await?)
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
                        Err(e) => return Err(ConsoleError::internal(e)),
                    };
                    let link = people::sign_in_link(&data.db, &data.config, &user)
                        .await
                        .map_err(ConsoleError::internal)?;
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
        Err(e) => Err(ConsoleError::internal(e)),
    }
}

async fn render_tokens(
    data: &HeraldState,
    visitor: &Visitor,
    channel: &Channel,
    role: Role,
    issued: Option<&str>,
    problem: Option<&str>,
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
        (layout::problem("tokens-problem", problem))
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
        layout::place(channel, role, Tab::Tokens),
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
    render_tokens(&data, &visitor, &channel, role, None, None, StatusCode::OK).await
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
    let (channel, role, form) = visitor
        .channel_form(&data, &request, payload, &path, Role::Owner)
        .await?;
    let actor = visitor.actor();
    match form.get("op") {
        Some("issue") => {
            let scopes: Vec<Scope> = form.all("scope").filter_map(Scope::parse).collect();
            if scopes.is_empty() {
                return render_tokens(
                    &data,
                    &visitor,
                    &channel,
                    role,
                    None,
                    Some("Nothing was issued: choose at least one scope."),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
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
                .map_err(ConsoleError::internal)?;
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
                None,
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

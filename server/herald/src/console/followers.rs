//! Followers and follow requests (owners): approve, refuse, remove, through the same
//! moderation service as the API (their servers get Accept or Reject).

use super::{
    layout::{self, csrf_field, Tab},
    ConsoleError, Visitor,
};
use crate::{
    db::{self, Role},
    moderation,
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

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
        layout::place(&channel, role, Tab::Followers),
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
    let (channel, _, form) = visitor
        .channel_form(&data, &request, payload, &name, Role::Owner)
        .await?;
    let approve = form.get("answer") == Some("approve");
    match moderation::answer_follower(&data, &channel, &visitor.actor(), id, approve).await {
        Ok(()) | Err(moderation::ModerationError::NotFound) => {}
        Err(e) => return Err(ConsoleError::internal(e)),
    }
    Ok(super::redirect(&format!(
        "/console/channels/{}/followers",
        channel.name
    )))
}

//! A post's delivery status.

use super::{posts::load_post, scope, ApiError, Authorized};
use crate::{db, db::DbError, state::HeraldState};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Where a post's delivery stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryStatus {
    pub post_id: String,
    /// `pending` until the post has been expanded into one delivery per server, then `done`.
    pub fanout: String,
    /// Deliveries (one per receiving server) by state: pending, delivered, retrying,
    /// failed (given up, with the reason below) and parked (the server is unreachable; sent
    /// when it is back).
    pub counts: BTreeMap<String, u64>,
    /// Servers whose delivery failed, is being retried, or is parked.
    pub failures: Vec<DeliveryFailure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryFailure {
    /// The receiving server (host, and port when not the default).
    pub server: String,
    pub state: String,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

/// A post's delivery status
///
/// How many receiving servers have the post's `Create`, how many are pending, retrying or
/// parked, and which failed and why.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{name}/posts/{id}/delivery",
    tag = "posts",
    params(
        ("name" = String, Path, description = "The channel's name"),
        ("id" = String, Path, description = "The post's id"),
    ),
    responses(
        (status = 200, body = DeliveryStatus),
        (status = 401, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody),
        (status = 404, body = crate::http::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_delivery(
    path: web::Path<(String, String)>,
    auth: Authorized<scope::PostsRead>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let channel = auth.channel;
    let post = load_post(&data, &channel, &id).await?;
    // A post's Create shares its UUID.
    let activity = post.id.0;
    let counts = db::delivery_counts(&data.db, Some(activity)).await?;
    let fanout = match db::fanout_for_activity(&data.db, activity).await {
        Ok(fanout) => fanout.state.as_str().to_string(),
        Err(DbError::NotFound) if post.published_at.is_none() => "scheduled".to_string(),
        Err(DbError::NotFound) => db::FanoutState::Done.as_str().to_string(),
        Err(e) => return Err(e.into()),
    };
    let failures = db::troubled_deliveries(&data.db, activity, 100)
        .await?
        .into_iter()
        .map(|d| DeliveryFailure {
            server: d.authority,
            state: d.state.as_str().to_string(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
        })
        .collect();
    Ok(HttpResponse::Ok().json(DeliveryStatus {
        post_id: post.id.to_string(),
        fanout,
        counts,
        failures,
    }))
}

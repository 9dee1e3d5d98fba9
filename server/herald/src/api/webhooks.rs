//! Signed webhooks: a channel's owner names a URL and the events wanted; each event is
//! sent there signed the Standard Webhooks way, through the delivery queue. The secret is
//! shown once, when the webhook is made.

use super::{scope, ApiError, Authorized};
use crate::{
    db::{self, DbError, EventKind, NewWebhook, WebhookId},
    delivery::webhooks,
    guard,
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most webhooks a channel may have.
const MAX_WEBHOOKS: usize = 20;
/// Messages listed per webhook.
const MESSAGES_LISTED: u64 = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where events are POSTed (https outside debug mode, never a private address).
    pub url: String,
    /// The events wanted: `follower.added`, `follower.removed`, `follow_request`, `reply`,
    /// `mention`, `like`, `boost`, `report`, `post.published`, `delivery.failed`,
    /// `source.failed`.
    pub events: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// `whsec_…`: verifies `webhook-signature`. Only in the answer that made the webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Set when the URL answered 410 Gone: nothing more is sent.
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl WebhookResponse {
    fn of(hook: db::Webhook, with_secret: bool) -> WebhookResponse {
        WebhookResponse {
            id: hook.id.0,
            url: hook.url,
            events: hook.events.iter().map(|e| e.as_str().to_string()).collect(),
            description: hook.description,
            secret: with_secret.then_some(hook.secret),
            disabled_at: hook.disabled_at,
            created_at: hook.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookMessageResponse {
    /// The message's `webhook-id`.
    pub id: String,
    /// Its event (`reply`, `post.published` …).
    pub event: String,
    pub created_at: DateTime<Utc>,
    /// pending, delivered, retrying, failed or parked.
    pub state: String,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Make a webhook
///
/// Answers with the webhook and its secret, shown this once.
#[utoipa::path(post, path = "/api/v1/channels/{name}/webhooks", tag = "webhooks",
    params(("name" = String, Path)), request_body = WebhookRequest,
    responses((status = 201, body = WebhookResponse), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_webhook(
    body: web::Json<WebhookRequest>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let url = url::Url::parse(body.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::invalid("url_invalid", "`url` is not an http(s) URL"))?;
    guard::check_redirect(&url, 0, data.config.debug).map_err(|refusal| {
        ApiError::invalid("url_refused", format!("`url` is refused: {refusal}"))
    })?;
    let mut events = Vec::new();
    for raw in &body.events {
        let kind = EventKind::parse(raw).ok_or_else(|| {
            ApiError::invalid(
                "event_unknown",
                format!("`{raw}` is not an event; see the OpenAPI document for the list"),
            )
        })?;
        if !events.contains(&kind) {
            events.push(kind);
        }
    }
    if events.is_empty() {
        return Err(ApiError::invalid(
            "events_missing",
            "`events` names no event",
        ));
    }
    if db::webhooks_of(&data.db, auth.channel.id).await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::invalid(
            "too_many_webhooks",
            format!("a channel has at most {MAX_WEBHOOKS} webhooks"),
        ));
    }
    let secret = webhooks::new_secret()
        .ok_or_else(|| ApiError::Internal("the random generator failed".into()))?;
    let hook = db::create_webhook(
        &data.db,
        NewWebhook {
            channel_id: auth.channel.id,
            url: url.to_string(),
            events,
            secret,
            description: body.description.map(|d| d.chars().take(200).collect()),
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(WebhookResponse::of(hook, true)))
}

/// List the channel's webhooks (without their secrets)
#[utoipa::path(get, path = "/api/v1/channels/{name}/webhooks", tag = "webhooks",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<WebhookResponse>)),
    security(("bearer" = [])))]
pub async fn list_webhooks(
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let hooks = db::webhooks_of(&data.db, auth.channel.id).await?;
    let hooks: Vec<WebhookResponse> = hooks
        .into_iter()
        .map(|h| WebhookResponse::of(h, false))
        .collect();
    Ok(HttpResponse::Ok().json(hooks))
}

/// A webhook of this channel, or 404.
async fn own_webhook(
    data: &HeraldState,
    channel: db::ChannelId,
    id: i64,
) -> Result<db::Webhook, ApiError> {
    match db::webhook_by_id(&data.db, WebhookId(id)).await {
        Ok(hook) if hook.channel_id == channel => Ok(hook),
        Ok(_) | Err(DbError::NotFound) => Err(ApiError::NotFound(
            "no webhook with this id in this channel".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Delete a webhook
///
/// Messages still queued for it are dropped.
#[utoipa::path(delete, path = "/api/v1/channels/{name}/webhooks/{id}", tag = "webhooks",
    params(("name" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_webhook(
    path: web::Path<(String, i64)>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let hook = own_webhook(&data, auth.channel.id, id).await?;
    db::delete_webhook(&data.db, auth.channel.id, hook.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A webhook's latest messages and their outcomes, newest first
#[utoipa::path(get, path = "/api/v1/channels/{name}/webhooks/{id}/deliveries", tag = "webhooks",
    params(("name" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Vec<WebhookMessageResponse>), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_webhook_deliveries(
    path: web::Path<(String, i64)>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let hook = own_webhook(&data, auth.channel.id, id).await?;
    let messages = db::webhook_messages(&data.db, hook.id, MESSAGES_LISTED).await?;
    let messages: Vec<WebhookMessageResponse> = messages
        .into_iter()
        .map(|m| WebhookMessageResponse {
            id: m.id.to_string(),
            event: m.event,
            created_at: m.created_at,
            state: m.delivery.state.as_str().to_string(),
            attempts: m.delivery.attempts,
            last_status: m.delivery.last_status,
            last_error: m.delivery.last_error,
            next_attempt_at: m.delivery.next_attempt_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(messages))
}

//! The owner's moderation: followers and follow requests, domain blocks, replies and
//! reports of a channel. Needs the `profile:write` scope (it manages the channel).

use super::{scope, ApiError, Authorized};
use crate::{
    db::{self},
    moderation::{self, ModerationError},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const DEFAULT_PAGE: u64 = 40;
const MAX_PAGE: u64 = 200;

impl From<ModerationError> for ApiError {
    fn from(err: ModerationError) -> Self {
        match err {
            ModerationError::InvalidDomain(_) => {
                ApiError::invalid("domain_invalid", err.to_string())
            }
            ModerationError::NotFound => ApiError::NotFound("no such follower or block".into()),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

fn page(limit: Option<u64>) -> Result<u64, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid(
            "limit_invalid",
            format!("`limit` must be 1 to {MAX_PAGE}"),
        ))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowerResponse {
    pub id: i64,
    /// The follower's ActivityPub id.
    pub actor: String,
    /// Their server.
    pub server: String,
    /// A request awaiting approval.
    pub pending: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowerList {
    pub followers: Vec<FollowerResponse>,
    /// Pass as `after` for the next page.
    pub next: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FollowerQuery {
    /// `true`: follow requests awaiting approval instead.
    pub pending: Option<bool>,
    pub after: Option<i64>,
    pub limit: Option<u64>,
}

/// List followers (or follow requests)
#[utoipa::path(get, path = "/api/v1/channels/{name}/followers", tag = "moderation",
    params(("name" = String, Path), FollowerQuery),
    responses((status = 200, body = FollowerList), (status = 401, body = crate::http::ErrorBody), (status = 403, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_followers(
    query: web::Query<FollowerQuery>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    let limit = page(query.limit)?;
    let entries = db::list_followers(
        &data.db,
        channel.id,
        query.pending == Some(true),
        query.after,
        limit,
    )
    .await?;
    let next = (entries.len() as u64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(HttpResponse::Ok().json(FollowerList {
        followers: entries
            .into_iter()
            .map(|e| FollowerResponse {
                id: e.id,
                actor: e.actor_uri,
                server: e.authority,
                pending: e.pending,
                created_at: e.created_at,
            })
            .collect(),
        next,
    }))
}

/// Remove a follower (or refuse a request)
///
/// The follower's server gets a `Reject(Follow)`, so it drops the follow too.
#[utoipa::path(delete, path = "/api/v1/channels/{name}/followers/{id}", tag = "moderation",
    params(("name" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove_follower(
    path: web::Path<(String, i64)>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let channel = auth.channel;
    moderation::answer_follower(&data, &channel, &auth.actor, id, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Approve a follow request
///
/// The follower's server gets an `Accept`.
#[utoipa::path(post, path = "/api/v1/channels/{name}/followers/{id}/approve", tag = "moderation",
    params(("name" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve_follower(
    path: web::Path<(String, i64)>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let channel = auth.channel;
    moderation::answer_follower(&data, &channel, &auth.actor, id, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainBlockResponse {
    pub domain: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<db::DomainBlock> for DomainBlockResponse {
    fn from(b: db::DomainBlock) -> Self {
        DomainBlockResponse {
            domain: b.domain,
            reason: b.reason,
            created_at: b.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainBlockRequest {
    /// A domain (`example.com`); its subdomains are blocked too.
    pub domain: String,
    pub reason: Option<String>,
}

/// List the channel's domain blocks
#[utoipa::path(get, path = "/api/v1/channels/{name}/domain_blocks", tag = "moderation",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<DomainBlockResponse>)),
    security(("bearer" = [])))]
pub async fn list_domain_blocks(
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    let blocks = db::list_domain_blocks(&data.db, Some(channel.id)).await?;
    Ok(HttpResponse::Ok().json(
        blocks
            .into_iter()
            .map(DomainBlockResponse::from)
            .collect::<Vec<_>>(),
    ))
}

/// Block a domain for the channel
///
/// Its followers are removed; its requests to the channel are refused; nothing of the
/// channel is delivered there.
#[utoipa::path(post, path = "/api/v1/channels/{name}/domain_blocks", tag = "moderation",
    params(("name" = String, Path)), request_body = DomainBlockRequest,
    responses((status = 201, body = DomainBlockResponse), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_domain_block(
    body: web::Json<DomainBlockRequest>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    let body = body.into_inner();
    let (block, _) =
        moderation::block_domain(&data, &body.domain, Some(&channel), body.reason).await?;
    Ok(HttpResponse::Created().json(DomainBlockResponse::from(block)))
}

/// Lift a domain block
#[utoipa::path(delete, path = "/api/v1/channels/{name}/domain_blocks/{domain}", tag = "moderation",
    params(("name" = String, Path), ("domain" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove_domain_block(
    path: web::Path<(String, String)>,
    auth: Authorized<scope::ProfileWrite>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let (_, domain) = path.into_inner();
    let channel = auth.channel;
    if moderation::unblock_domain(&data, &domain, Some(&channel)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("this domain is not blocked".into()))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyResponse {
    pub id: String,
    /// The post replied to.
    pub post_id: String,
    /// The author's ActivityPub id.
    pub actor: String,
    pub server: String,
    /// Sanitized HTML.
    pub content: String,
    pub published: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReplyQuery {
    /// Only replies received before this time.
    pub before: Option<DateTime<Utc>>,
    pub limit: Option<u64>,
}

/// Replies to the channel's posts
#[utoipa::path(get, path = "/api/v1/channels/{name}/replies", tag = "moderation",
    params(("name" = String, Path), ReplyQuery),
    responses((status = 200, body = Vec<ReplyResponse>)),
    security(("bearer" = [])))]
pub async fn list_replies(
    query: web::Query<ReplyQuery>,
    auth: Authorized<scope::PostsRead>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    let replies = db::list_replies(&data.db, channel.id, query.before, page(query.limit)?).await?;
    Ok(HttpResponse::Ok().json(
        replies
            .into_iter()
            .map(|r| ReplyResponse {
                id: r.id,
                post_id: r.post_id.to_string(),
                actor: r.actor_uri,
                server: r.authority,
                content: r.content_html,
                published: r.published,
                received_at: r.created_at,
            })
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    pub id: i64,
    /// The reporting server.
    pub server: String,
    pub comment: String,
    /// The reported ids (the channel, posts).
    pub objects: Vec<String>,
    pub received_at: DateTime<Utc>,
}

/// Reports about the channel
#[utoipa::path(get, path = "/api/v1/channels/{name}/reports", tag = "moderation",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<ReportResponse>)),
    security(("bearer" = [])))]
pub async fn list_reports(
    auth: Authorized<scope::PostsRead>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ApiError> {
    let channel = auth.channel;
    let reports = db::list_reports(&data.db, Some(channel.id)).await?;
    Ok(HttpResponse::Ok().json(
        reports
            .into_iter()
            .map(|r| ReportResponse {
                id: r.id,
                server: r.authority,
                comment: r.content,
                objects: r.objects,
                received_at: r.created_at,
            })
            .collect::<Vec<_>>(),
    ))
}

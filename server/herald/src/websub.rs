//! The WebSub callback, `/websub/{id}`: a hub verifies the subscription a source asked
//! for (GET, answered with its challenge), then pushes the feed's new content (POST,
//! taken only when signed with the source's secret). See `sources::websub`.

use crate::{
    db::{self, DbError, SourceId},
    metrics::PollOutcome,
    sources::{self, VerifyAnswer, WebsubAnswer},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The largest push read.
const PUSH_LIMIT: usize = 5 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/websub/{id}")
            .app_data(web::PayloadConfig::new(PUSH_LIMIT))
            .route(web::get().to(verify))
            .route(web::post().to(push)),
    );
}

#[derive(Deserialize)]
pub struct Verification {
    #[serde(rename = "hub.mode")]
    mode: String,
    #[serde(rename = "hub.topic")]
    topic: String,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
    #[serde(rename = "hub.lease_seconds")]
    lease_seconds: Option<i64>,
}

fn failed(e: DbError) -> HttpResponse {
    tracing::error!(error = %crate::error_chain(&e), "WebSub callback failed");
    HttpResponse::InternalServerError().finish()
}

/// `GET /websub/{id}`: the hub's verification of intent.
pub async fn verify(
    path: web::Path<i64>,
    query: web::Query<Verification>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let query = query.into_inner();
    match sources::websub_verification(
        &data,
        SourceId(path.into_inner()),
        &query.mode,
        &query.topic,
        query.challenge.as_deref(),
        query.lease_seconds,
    )
    .await
    {
        Ok(VerifyAnswer::Challenge(challenge)) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(challenge),
        Ok(VerifyAnswer::Unknown) => HttpResponse::NotFound().finish(),
        Err(e) => failed(e),
    }
}

/// `POST /websub/{id}`: content pushed by the hub. A push not signed with the source's
/// secret is acknowledged and ignored (WebSub §8).
pub async fn push(
    request: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
    data: Data<HeraldState>,
) -> HttpResponse {
    let source = match db::source_by_id(&data.db, SourceId(path.into_inner())).await {
        Ok(source) => source,
        Err(DbError::NotFound) => return HttpResponse::Gone().finish(),
        Err(e) => return failed(e),
    };
    let signature = request
        .headers()
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok());
    if sources::verify_push(&source, signature, &body) != WebsubAnswer::Taken {
        tracing::info!(
            source = source.id.0,
            "a WebSub push without a valid signature was ignored"
        );
        return HttpResponse::Accepted().finish();
    }
    let Ok(feed) = feed_rs::parser::parse(&body[..]) else {
        return HttpResponse::Accepted().finish();
    };
    data.metrics.source_poll(PollOutcome::Pushed);
    let client = match sources::client(&data.config, sources::ADD_TIMEOUT) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "no HTTP client for a pushed feed's images");
            return HttpResponse::InternalServerError().finish();
        }
    };
    match sources::take_feed(&data, &client, &source, &feed).await {
        Ok(_) => HttpResponse::Accepted().finish(),
        Err(e) => failed(e),
    }
}

//! Operational endpoints for load balancers and orchestrators: `/healthz` (the process
//! answers) and `/readyz` (the database and Redis answer too). They name no reader and
//! log nothing beyond the request log's route template.
//!
//! An entry point: calls `db` and `delivery` (the queue's Redis).

use crate::{db, state::HeraldState};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::time::Duration;

/// How long each readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(get_healthz))
        .route("/readyz", web::get().to(get_readyz));
}

async fn get_healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"status": "ok"}))
}

/// "ok", or why not (a timeout, or the error's message).
async fn check<E: std::error::Error + 'static>(
    work: impl std::future::Future<Output = Result<(), E>>,
) -> String {
    match tokio::time::timeout(CHECK_TIMEOUT, work).await {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => crate::error_chain(&e),
        Err(_) => format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
    }
}

async fn get_readyz(data: Data<HeraldState>) -> HttpResponse {
    let (database, redis) = tokio::join!(check(db::ping(&data.db)), check(data.queue.ping()));
    let ready = database == "ok" && redis == "ok";
    if !ready {
        tracing::warn!(%database, %redis, "not ready");
    }
    let body = json!({
        "status": if ready { "ok" } else { "unavailable" },
        "database": database,
        "redis": redis,
    });
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

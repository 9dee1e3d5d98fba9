//! Operational endpoints for load balancers, orchestrators and Prometheus: `/healthz`
//! (the process answers), `/readyz` (the database and Redis answer too) and `/metrics`
//! (see `metrics`). They name no reader and log nothing beyond the request log's route
//! template.
//!
//! `/metrics` is for the operator only: on the main address it answers clients on this
//! machine that came through no proxy (a proxy on the same machine connects from loopback
//! too, so a request carrying forwarding headers is not taken as local), and requests with
//! the configured bearer token; when `metrics.listen` is set it is served there instead.
//!
//! An entry point: calls `db` and `delivery` (the queue's Redis).

use crate::{
    db,
    delivery::{Queue, QueueStats},
    http::ErrorBody,
    metrics::{self, Backlog, Metrics},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use serde_json::json;
use std::{net::TcpListener, time::Duration};

/// How long each readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(get_healthz))
        .route("/readyz", web::get().to(get_readyz))
        .route("/metrics", web::get().to(get_metrics));
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

/// Headers a reverse proxy adds; a request carrying one did not come from this machine.
const FORWARDING_HEADERS: [&str; 4] = ["forwarded", "x-forwarded-for", "x-real-ip", "via"];

/// Whether `request` may read the metrics on the main address.
fn may_read_metrics(request: &HttpRequest, data: &HeraldState) -> bool {
    if let Some(token) = &data.config.metrics.token {
        if let Some(offered) = crate::http::bearer_token(request) {
            // Compared as digests, in constant time.
            use sha2::{Digest, Sha256};
            let (a, b) = (Sha256::digest(offered), Sha256::digest(token.expose()));
            return openssl::memcmp::eq(&a, &b);
        }
    }
    let local = request
        .peer_addr()
        .is_some_and(|peer| peer.ip().is_loopback());
    let forwarded = FORWARDING_HEADERS
        .iter()
        .any(|name| request.headers().contains_key(*name));
    local && !forwarded
}

async fn get_metrics(request: HttpRequest, data: Data<HeraldState>) -> HttpResponse {
    if data.config.metrics.listen.is_some() {
        return ErrorBody::respond(
            StatusCode::NOT_FOUND,
            "not_found",
            "metrics are served on their own address (metrics.listen)",
        );
    }
    if !may_read_metrics(&request, &data) {
        return ErrorBody::respond(
            StatusCode::FORBIDDEN,
            "forbidden",
            "metrics are for clients on this machine or with the metrics token",
        );
    }
    render_metrics(&data.db, &data.queue, &data.metrics).await
}

/// Reads the queue's sizes into the gauges, then answers every metric.
async fn render_metrics(
    db: &db::DatabaseConnection,
    queue: &Queue,
    metrics: &Metrics,
) -> HttpResponse {
    let read = async {
        let (stats, counts) = tokio::join!(queue.stats(), db::backlog_counts(db));
        match (stats, counts) {
            (Ok(stats), Ok(counts)) => Some(backlog(&stats, &counts)),
            (stats, counts) => {
                if let Err(e) = stats {
                    tracing::warn!(error = %crate::error_chain(&e), "metrics: could not read the queue");
                }
                if let Err(e) = counts {
                    tracing::warn!(error = %crate::error_chain(&e), "metrics: could not count deliveries");
                }
                None
            }
        }
    };
    match tokio::time::timeout(CHECK_TIMEOUT, read).await {
        Ok(Some(backlog)) => metrics.set_backlog(&backlog),
        _ => metrics.scrape_failed(),
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, metrics::CONTENT_TYPE))
        .insert_header(("Cache-Control", "no-store"))
        .body(metrics.render())
}

fn backlog(stats: &QueueStats, counts: &std::collections::BTreeMap<String, u64>) -> Backlog {
    let count = |state: &str| counts.get(state).copied().unwrap_or_default();
    Backlog {
        fanout_entries: stats.fanout_length,
        delivery_entries: stats.delivery_length,
        in_flight: stats.in_flight,
        retry_scheduled: stats.retry_waiting,
        pending: count(db::DeliveryState::Pending.as_str()),
        retrying: count(db::DeliveryState::Retrying.as_str()),
        parked: count(db::DeliveryState::Parked.as_str()),
        dead: count(db::DeliveryState::Failed.as_str()),
    }
}

/// The metrics on their own address (`metrics.listen`), for anyone who can reach it:
/// bind it to a private address. Runs until the returned server is stopped.
pub fn metrics_server(
    listener: TcpListener,
    db: db::DatabaseConnection,
    queue: Queue,
    metrics: Metrics,
) -> std::io::Result<actix_web::dev::Server> {
    let server = actix_web::HttpServer::new(move || {
        let (db, queue, metrics) = (db.clone(), queue.clone(), metrics.clone());
        actix_web::App::new()
            .route(
                "/metrics",
                web::get().to(move || {
                    let (db, queue, metrics) = (db.clone(), queue.clone(), metrics.clone());
                    async move { render_metrics(&db, &queue, &metrics).await }
                }),
            )
            .default_service(web::to(crate::http::not_found_route))
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(1)
    .run();
    Ok(server)
}

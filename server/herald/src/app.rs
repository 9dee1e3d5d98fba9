//! Start-up and the running server: connect the database and Redis (reporting every
//! problem at once), migrate, load keys, then serve HTTP and run delivery workers side by
//! side until a shutdown signal, logging which part stopped and why.

use crate::{
    api::{self, TokenKeys},
    config::{Config, Problem, RedisSetting},
    db,
    delivery::{signing, DeliveryError, ManagedRedis, Queue, Worker},
    federation::{self, Urls},
    http::{self, RequestLog},
    state::{HeraldState, InstanceKeys, StateInner},
    web,
};
use activitypub_federation::config::{FederationConfig, FederationMiddleware};
use actix_web::{App, HttpServer};
use std::{net::TcpListener, time::Duration};
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Problems found while connecting, each with its configuration key.
    #[error("{}", describe(.0))]
    Problems(Vec<Problem>),
    #[error("could not prepare {what}: {cause}")]
    Setup { what: &'static str, cause: String },
}

fn describe(problems: &[Problem]) -> String {
    let mut text = format!("Herald cannot start ({} problem(s)):", problems.len());
    for p in problems {
        text.push_str(&format!("\n  - {}: {}", p.key, p.message));
    }
    text
}

fn setup(what: &'static str) -> impl Fn(&dyn std::fmt::Display) -> StartError {
    move |cause| StartError::Setup {
        what,
        cause: cause.to_string(),
    }
}

/// Setting key of the instance actor's private key (its public key is derived from it).
const INSTANCE_PRIVATE_KEY: &str = "instance_actor_private_key";

/// A started Herald: connected, migrated, ready to serve and to run workers.
pub struct Herald {
    pub state: HeraldState,
    pub federation: FederationConfig<HeraldState>,
    pub token_keys: TokenKeys,
    /// The private redis-server, when Herald runs one; stopped when this is dropped.
    pub managed_redis: Option<ManagedRedis>,
}

impl Herald {
    /// Connects to the database and Redis, applies migrations and loads the keys.
    pub async fn start(config: Config) -> Result<Herald, StartError> {
        // Both are tried at once, and both failures reported together.
        let (db, redis) = tokio::join!(
            db::connect_with(config.database_url.expose(), config.database.pool()),
            connect_redis(&config)
        );
        let mut problems = Vec::new();
        let db = match db {
            Ok(db) => Some(db),
            Err(e) => {
                problems.push(Problem::new(
                    "database_url",
                    format!(
                        "cannot connect to the database{}: {}",
                        database_host(config.database_url.expose()),
                        crate::error_chain(&e)
                    ),
                ));
                None
            }
        };
        let (queue, managed_redis) = match redis {
            Ok((queue, managed)) => (Some(queue), managed),
            Err(message) => {
                problems.push(Problem::new("redis_url", message));
                (None, None)
            }
        };
        let (Some(db), Some(queue)) = (db, queue) else {
            return Err(StartError::Problems(problems));
        };
        db::migrate(&db)
            .await
            .map_err(|e| setup("the database schema")(&crate::error_chain(&e)))?;
        let instance_keys = instance_keys(&db).await?;
        let token_keys = TokenKeys::load(&config)
            .map_err(|e| setup("the API token secret")(&e))?
            .with_limit(queue.clone(), config.limits.api_per_minute);
        let urls = Urls::new(&config).map_err(|e| setup("the URL layout")(&e))?;
        let state = HeraldState::new(StateInner {
            config,
            db,
            queue,
            urls,
            instance_keys,
            blocks: Default::default(),
            metrics: crate::metrics::Metrics::new(),
        });
        let federation = federation::federation_config(state.clone())
            .await
            .map_err(|e| setup("federation")(&e))?;
        Ok(Herald {
            state,
            federation,
            token_keys,
            managed_redis,
        })
    }

    /// A delivery worker on this Herald's database and queue.
    pub fn worker(&self) -> Result<Worker, DeliveryError> {
        Worker::new(
            &self.state.config,
            self.state.db.clone(),
            self.state.queue.clone(),
            self.state.metrics.clone(),
        )
    }

    /// Starts serving `/metrics` on `metrics.listen`, when it is set. Stops with the
    /// returned handle.
    pub fn start_metrics_server(&self) -> Result<Option<actix_web::dev::ServerHandle>, ServeError> {
        let Some(address) = self.state.config.metrics.listen else {
            return Ok(None);
        };
        let listener = TcpListener::bind(address).map_err(|e| {
            ServeError::Stopped(format!("metrics.listen: cannot listen on {address}: {e}"))
        })?;
        if let Ok(bound) = listener.local_addr() {
            tracing::info!(address = %bound, "serving /metrics");
        }
        let server = crate::ops::metrics_server(
            listener,
            self.state.db.clone(),
            self.state.queue.clone(),
            self.state.metrics.clone(),
        )
        .map_err(ServeError::Http)?;
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Some(handle))
    }

    /// Serves HTTP on `listener` (and runs a delivery worker unless `workers` is false)
    /// until `shutdown` turns true. Returns which part stopped first and why.
    pub async fn serve(
        &self,
        listener: TcpListener,
        workers: bool,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), ServeError> {
        // First: an address in use for the metrics is reported before anything starts.
        let metrics_server = self.start_metrics_server()?;
        let federation = self.federation.clone();
        let keys = actix_web::web::Data::new(self.token_keys.clone());
        let metrics = self.state.metrics.clone();
        let grace = self.state.config.shutdown_timeout;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(FederationMiddleware::new(federation.clone()))
                .wrap(actix_web::middleware::from_fn(crate::mastodon::cors))
                .wrap(RequestLog::new(metrics.clone()))
                .app_data(keys.clone())
                .app_data(http::path_config())
                .app_data(http::query_config())
                // Before the owner API's scope, which answers 404 to the rest of /api/v1.
                .configure(crate::mastodon::routes)
                .configure(crate::console::routes)
                .configure(crate::websub::routes)
                .configure(api::routes)
                .configure(crate::ops::routes)
                // Before the federation routes: the same ids answer pages to browsers.
                .configure(web::negotiated_routes)
                .configure(federation::routes)
                .configure(web::routes)
                .default_service(actix_web::web::to(http::not_found_route))
        })
        .listen(listener)
        .map_err(ServeError::Http)?
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        .run();
        let handle = server.handle();
        let server_task = tokio::spawn(server);

        let worker_task = if workers {
            let worker = self.worker().map_err(ServeError::Worker)?;
            let rx = shutdown.clone();
            tokio::spawn(run_scheduler(self.federation.clone(), shutdown.clone()));
            Some(tokio::spawn(async move { worker.run(rx).await }))
        } else {
            None
        };

        let stopped = tokio::select! {
            _ = shutdown.changed() => Ok(()),
            result = server_task => match result {
                Ok(Ok(())) => Err(ServeError::Stopped("the web server stopped".into())),
                Ok(Err(e)) => Err(ServeError::Http(e)),
                Err(e) => Err(ServeError::Stopped(format!("the web server panicked: {e}"))),
            },
        };
        // The web server and the worker wind down side by side, each within the bound
        // (the worker saw the same signal); a little slack for their last writes.
        let deadline = tokio::time::Instant::now() + grace + Duration::from_secs(2);
        if let Some(metrics_server) = metrics_server {
            metrics_server.stop(false).await;
        }
        if tokio::time::timeout_at(deadline, handle.stop(true))
            .await
            .is_err()
        {
            tracing::warn!("requests still open at the shutdown bound were cut off");
        }
        if let Some(task) = worker_task {
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    tracing::error!(error = %crate::error_chain(&e), "delivery worker failed")
                }
                Ok(Err(e)) => tracing::error!(error = %e, "delivery worker panicked"),
                Err(_) => tracing::warn!("delivery worker did not stop in time"),
            }
        }
        stopped
    }
}

/// How often the scheduler looks for posts due to go out.
const SCHEDULER_TICK: Duration = Duration::from_secs(1);

/// How many ticks apart the scheduler removes expired console sessions.
const SESSION_SWEEP_TICKS: u64 = 600;

/// Publishes scheduled posts when they are due, releases fan-outs held for mentions that
/// no process released (it stopped first), and now and then removes expired console
/// sessions, until `shutdown`. Runs beside every delivery worker; the database lets only
/// one of them publish or release each post.
pub async fn run_scheduler(
    federation: FederationConfig<HeraldState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = ticker(SCHEDULER_TICK);
    tokio::spawn(run_poller(federation.clone(), shutdown.clone()));
    let mut ticks: u64 = 0;
    while next_tick(&mut tick, &mut shutdown).await {
        let data = federation.to_request_data();
        ticks += 1;
        if ticks % SESSION_SWEEP_TICKS == 0 {
            if let Err(e) = db::delete_expired_sessions(&data.db).await {
                tracing::warn!(error = %crate::error_chain(&e), "removing expired sessions failed");
            }
        }
        match crate::posts::publish_due(&data, db::now()).await {
            Ok(0) => {}
            Ok(published) => tracing::info!(published, "scheduled posts published"),
            Err(e) => {
                tracing::warn!(error = %crate::error_chain(&e), "publishing scheduled posts failed")
            }
        }
        match crate::posts::release_stale_held(&data, db::now()).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "held fan-outs released by the sweep"),
            Err(e) => {
                tracing::warn!(error = %crate::error_chain(&e), "releasing held fan-outs failed")
            }
        }
    }
}

/// A ticker for a background loop: a missed tick is not made up for.
fn ticker(every: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Waits for the next tick; false once `shutdown` says stop.
async fn next_tick(tick: &mut tokio::time::Interval, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tick.tick() => {}
        _ = shutdown.changed() => return false,
    }
    !*shutdown.borrow()
}

/// How often the poller looks for feed sources due.
const POLLER_TICK: Duration = Duration::from_secs(1);
/// How long one feed fetch may take.
const FEED_TIMEOUT: Duration = Duration::from_secs(20);

/// Polls the feed sources that are due, until `shutdown`; each poll is claimed in the
/// database, so several processes poll each source once between them.
pub async fn run_poller(
    federation: FederationConfig<HeraldState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match crate::sources::client(&federation.to_request_data().config, FEED_TIMEOUT) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "the feed poller has no HTTP client");
            return;
        }
    };
    let mut tick = ticker(POLLER_TICK);
    while next_tick(&mut tick, &mut shutdown).await {
        let data = federation.to_request_data();
        if let Err(e) = crate::sources::poll_due(&data, &client, db::now()).await {
            tracing::warn!(error = %crate::error_chain(&e), "polling feed sources failed");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("HTTP server: {0}")]
    Http(#[source] std::io::Error),
    #[error("delivery worker: {0}")]
    Worker(#[source] DeliveryError),
    #[error("{0}")]
    Stopped(String),
}

/// ` at HOST:PORT` of a database URL (without credentials), for error messages.
fn database_host(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) if url.host_str().is_some() => format!(" at {}", crate::db::authority_of(&url)),
        _ => String::new(),
    }
}

/// Connects the configured Redis, or starts (or finds) the private one.
async fn connect_redis(config: &Config) -> Result<(Queue, Option<ManagedRedis>), String> {
    match &config.redis {
        RedisSetting::Url(url) => Queue::connect(url.expose())
            .await
            .map(|q| (q, None))
            .map_err(|e| format!("cannot connect to Redis: {}", crate::error_chain(&e))),
        RedisSetting::Managed => {
            let managed = ManagedRedis::start_or_attach(&config.data_dir)
                .await
                .map_err(|e| crate::error_chain(&e))?;
            let queue = Queue::connect(managed.url()).await.map_err(|e| {
                format!(
                    "cannot connect to the private Redis: {}",
                    crate::error_chain(&e)
                )
            })?;
            Ok((queue, Some(managed)))
        }
    }
}

/// The instance actor's keys, generated and stored at first start. Two processes starting
/// together agree on one key: the first stored wins.
async fn instance_keys(db: &db::DatabaseConnection) -> Result<InstanceKeys, StartError> {
    let failed = setup("the instance actor's key");
    let private_key_pem = match db::get_setting(db, INSTANCE_PRIVATE_KEY)
        .await
        .map_err(|e| failed(&e))?
    {
        Some(pem) => pem,
        None => {
            let (_, private) = signing::generate_keypair().map_err(|e| failed(&e))?;
            db::setting_or_insert(db, INSTANCE_PRIVATE_KEY, private)
                .await
                .map_err(|e| failed(&e))?
        }
    };
    let public_key_pem = public_of(&private_key_pem).map_err(|e| failed(&e))?;
    Ok(InstanceKeys {
        public_key_pem,
        private_key_pem,
    })
}

/// The instance actor's public key as stored, `None` before the first start.
pub async fn stored_instance_public_key(
    db: &db::DatabaseConnection,
) -> Result<Option<String>, String> {
    let private = db::get_setting(db, INSTANCE_PRIVATE_KEY)
        .await
        .map_err(|e| crate::error_chain(&e))?;
    private
        .map(|pem| public_of(&pem).map_err(|e| e.to_string()))
        .transpose()
}

/// The public key PEM of a private key PEM.
fn public_of(private_pem: &str) -> Result<String, openssl::error::ErrorStack> {
    let key = openssl::pkey::PKey::private_key_from_pem(private_pem.as_bytes())?;
    Ok(String::from_utf8_lossy(&key.public_key_to_pem()?).into_owned())
}

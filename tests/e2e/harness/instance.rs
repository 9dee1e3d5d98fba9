//! `TestInstance`: a whole Herald (web server, delivery worker, private redis-server) in
//! this process on `localhost:PORT`, with its data in a temporary directory.

use herald::{
    api::Scope,
    app::Herald,
    config::Config,
    db::{self, Channel, ChannelName, NewChannel},
    delivery::{signing, Worker},
    state::HeraldState,
};
use serde_json::Value;
use std::{net::TcpListener, sync::Arc};
use tokio::{sync::watch, task::JoinHandle};

/// The environment variable naming a PostgreSQL server for the PostgreSQL runs, e.g.
/// `postgres://herald:herald@localhost/postgres`. Each instance gets a fresh database on it.
pub const POSTGRES_VAR: &str = "HERALD_TEST_DATABASE_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The environment variable that runs every test instance that does not choose its
/// backend on PostgreSQL (`postgres`), instead of SQLite: CI runs the suite both ways.
pub const BACKEND_VAR: &str = "HERALD_TEST_BACKEND";

impl Backend {
    /// The backend of instances that do not choose one: SQLite, or PostgreSQL when
    /// `HERALD_TEST_BACKEND=postgres`.
    pub fn from_env() -> Backend {
        match std::env::var(BACKEND_VAR).as_deref() {
            Ok("postgres") => Backend::Postgres,
            Ok("sqlite") | Ok("") | Err(_) => Backend::Sqlite,
            Ok(other) => panic!("{BACKEND_VAR}={other}: expected sqlite or postgres"),
        }
    }

    /// The PostgreSQL server to test against. Required (the test fails, it does not pass
    /// by returning) in CI (`CI` set and not `false`/`0`) and when
    /// `HERALD_TEST_BACKEND=postgres` asks for PostgreSQL; a developer without PostgreSQL
    /// otherwise gets the SQLite runs only.
    pub fn postgres_url() -> Option<String> {
        let var = |name| std::env::var(name).ok();
        match postgres_url_from(var(POSTGRES_VAR), var(BACKEND_VAR), var("CI")) {
            Ok(Some(url)) => Some(url),
            Ok(None) => {
                eprintln!("{POSTGRES_VAR} is not set: the PostgreSQL run is skipped");
                None
            }
            Err(why) => panic!("{why}"),
        }
    }
}

/// The decision of [`Backend::postgres_url`], from the three variables' values: the URL,
/// none (skip), or why the run must fail.
fn postgres_url_from(
    url: Option<String>,
    backend: Option<String>,
    ci: Option<String>,
) -> Result<Option<String>, String> {
    if let Some(url) = url.filter(|u| !u.is_empty()) {
        return Ok(Some(url));
    }
    if backend.as_deref() == Some("postgres") {
        return Err(format!(
            "{BACKEND_VAR}=postgres, but {POSTGRES_VAR} names no PostgreSQL server"
        ));
    }
    if ci.is_some_and(|v| !matches!(v.as_str(), "" | "0" | "false")) {
        return Err(format!(
            "{POSTGRES_VAR} must name a PostgreSQL server in CI"
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::postgres_url_from;

    fn decide(url: Option<&str>, backend: Option<&str>, ci: Option<&str>) -> String {
        match postgres_url_from(
            url.map(Into::into),
            backend.map(Into::into),
            ci.map(Into::into),
        ) {
            Ok(Some(url)) => url,
            Ok(None) => "skip".into(),
            Err(_) => "fail".into(),
        }
    }

    #[test]
    fn postgres_runs_fail_without_a_server_when_ci_or_the_backend_asks_for_one() {
        let url = Some("postgres://h/p");
        assert_eq!(decide(url, None, Some("true")), "postgres://h/p");
        assert_eq!(decide(url, Some("postgres"), None), "postgres://h/p");
        assert_eq!(decide(None, None, None), "skip");
        assert_eq!(decide(Some(""), Some("sqlite"), Some("false")), "skip");
        assert_eq!(decide(None, None, Some("true")), "fail");
        assert_eq!(decide(Some(""), None, Some("1")), "fail");
        assert_eq!(decide(None, Some("postgres"), None), "fail");
        assert_eq!(decide(None, Some("postgres"), Some("0")), "fail");
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub backend: Backend,
    /// activitypub_federation's and Herald's debug mode: http and loopback allowed.
    pub debug: bool,
    /// Run a delivery worker inside the server, as `herald serve` does.
    pub workers: bool,
    /// `delivery.max_attempts`.
    pub max_attempts: u32,
    /// `delivery.unreachable_after_secs`.
    pub unreachable_after_secs: u64,
    /// `delivery.timeout_secs` (stale entries are claimed after twice this plus 2 s).
    pub timeout_secs: u64,
    /// `posts.max_upload_bytes`.
    pub max_upload_bytes: u64,
    /// `limits.inbox_per_minute` (0: none).
    pub inbox_per_minute: u32,
    /// `limits.api_per_minute` (0: none).
    pub api_per_minute: u32,
    /// `limits.sign_in_per_minute` (0: none).
    pub sign_in_per_minute: u32,
    /// `metrics.listen`'s port on 127.0.0.1 (none: metrics on the main address).
    pub metrics_port: Option<u16>,
    /// `metrics.token`.
    pub metrics_token: Option<&'static str>,
    /// `shutdown_timeout_secs`.
    pub shutdown_timeout_secs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: Backend::from_env(),
            debug: true,
            workers: true,
            max_attempts: 12,
            unreachable_after_secs: 86400,
            timeout_secs: 3,
            max_upload_bytes: 10 * 1024 * 1024,
            inbox_per_minute: 0,
            api_per_minute: 0,
            sign_in_per_minute: 0,
            metrics_port: None,
            metrics_token: None,
            shutdown_timeout_secs: 30,
        }
    }
}

pub struct TestInstance {
    pub herald: Arc<Herald>,
    /// The configuration as `HERALD_*` variables, for `herald-e2e` processes that share
    /// this instance's database and Redis.
    pub env: Vec<(String, String)>,
    pub domain: String,
    pub base: String,
    pub client: reqwest::Client,
    shutdown: watch::Sender<bool>,
    _serve: JoinHandle<()>,
    _postgres: Option<PostgresDatabase>,
    _dir: tempfile::TempDir,
}

impl TestInstance {
    pub async fn start() -> TestInstance {
        TestInstance::with(Options::default()).await
    }

    pub async fn with(options: Options) -> TestInstance {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, postgres) = match options.backend {
            Backend::Sqlite => (
                format!("sqlite://{}/herald.db?mode=rwc", dir.path().display()),
                None,
            ),
            Backend::Postgres => {
                let admin = Backend::postgres_url().expect("PostgreSQL URL");
                let database = PostgresDatabase::create(&admin).await;
                (database.url.clone(), Some(database))
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let domain = format!("localhost:{port}");
        let env: Vec<(String, String)> = [
            ("HERALD_DOMAIN", domain.clone()),
            ("HERALD_LISTEN", format!("127.0.0.1:{port}")),
            ("HERALD_DATA_DIR", dir.path().display().to_string()),
            ("HERALD_DATABASE_URL", database_url),
            ("HERALD_DEBUG", options.debug.to_string()),
            (
                "HERALD_DELIVERY__TIMEOUT_SECS",
                options.timeout_secs.to_string(),
            ),
            (
                "HERALD_POSTS__MAX_UPLOAD_BYTES",
                options.max_upload_bytes.to_string(),
            ),
            (
                "HERALD_DELIVERY__MAX_ATTEMPTS",
                options.max_attempts.to_string(),
            ),
            (
                "HERALD_DELIVERY__UNREACHABLE_AFTER_SECS",
                options.unreachable_after_secs.to_string(),
            ),
            (
                "HERALD_LIMITS__INBOX_PER_MINUTE",
                options.inbox_per_minute.to_string(),
            ),
            (
                "HERALD_LIMITS__API_PER_MINUTE",
                options.api_per_minute.to_string(),
            ),
            (
                "HERALD_LIMITS__SIGN_IN_PER_MINUTE",
                options.sign_in_per_minute.to_string(),
            ),
            (
                "HERALD_METRICS__LISTEN",
                options
                    .metrics_port
                    .map(|port| format!("127.0.0.1:{port}"))
                    .unwrap_or_default(),
            ),
            (
                "HERALD_METRICS__TOKEN",
                options.metrics_token.unwrap_or_default().to_string(),
            ),
            (
                "HERALD_SHUTDOWN_TIMEOUT_SECS",
                options.shutdown_timeout_secs.to_string(),
            ),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .to_vec();
        let config = Config::from_sources(None, env.clone()).expect("test config");
        let herald = Arc::new(Herald::start(config).await.expect("Herald starts"));
        let (shutdown, rx) = watch::channel(false);
        let serving = herald.clone();
        let serve = tokio::spawn(async move {
            if let Err(e) = serving.serve(listener, options.workers, rx).await {
                eprintln!("test instance stopped: {e}");
            }
        });
        TestInstance {
            herald,
            env,
            base: format!("http://{domain}"),
            domain,
            client: reqwest::Client::new(),
            shutdown,
            _serve: serve,
            _postgres: postgres,
            _dir: dir,
        }
    }

    pub fn state(&self) -> &HeraldState {
        &self.herald.state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A worker to drive the queue by hand (`run_once`, `drain`).
    pub fn worker(&self) -> TestWorker {
        TestWorker {
            worker: self.herald.worker().expect("worker"),
            db: self.state().db.clone(),
        }
    }

    /// Runs `herald ARGS` (the test crate's build of it) on this instance's database and
    /// Redis, with `extra` variables; returns the child process.
    pub fn spawn_herald(&self, args: &[&str], extra: &[(&str, &str)]) -> std::process::Child {
        self.herald_command(args, extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("herald-e2e starts")
    }

    /// Like `spawn_herald`, with stderr (the log) piped for the test to read.
    pub fn spawn_herald_logged(
        &self,
        args: &[&str],
        extra: &[(&str, &str)],
    ) -> std::process::Child {
        self.herald_command(args, extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("herald-e2e starts")
    }

    /// Runs `herald ARGS` to completion; returns (exit code, stdout, stderr).
    pub fn run_herald(&self, args: &[&str]) -> (i32, String, String) {
        self.run_herald_with(args, &[])
    }

    /// Runs `herald ARGS` to completion with `extra` variables; returns (exit code,
    /// stdout, stderr).
    pub fn run_herald_with(&self, args: &[&str], extra: &[(&str, &str)]) -> (i32, String, String) {
        let output = self
            .herald_command(args, extra)
            .output()
            .expect("herald-e2e runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn herald_command(&self, args: &[&str], extra: &[(&str, &str)]) -> std::process::Command {
        let mut command = super::herald_binary();
        command
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("HERALD_LOG", "warn")
            .envs(extra.iter().copied())
            .args(args);
        command
    }

    /// A worker whose clock is the system's plus what `offset` holds, so a test can move
    /// time forward by days.
    pub fn worker_with_clock(&self, offset: Arc<std::sync::Mutex<chrono::Duration>>) -> Worker {
        let state = self.state();
        Worker::with_clock(
            &state.config,
            state.db.clone(),
            state.queue.clone(),
            state.metrics.clone(),
            Arc::new(move || chrono::Utc::now() + *offset.lock().expect("clock")),
        )
        .expect("worker")
    }

    pub async fn create_channel(&self, name: &str) -> Channel {
        let (public_key_pem, private_key_pem) = signing::generate_keypair().expect("keypair");
        db::create_channel(
            &self.state().db,
            NewChannel {
                name: ChannelName::parse(name).expect("valid name"),
                display_name: format!("The {name} channel"),
                summary: format!("News from **{name}**"),
                bot: false,
                public_key_pem,
                private_key_pem,
            },
        )
        .await
        .expect("channel created")
    }

    pub async fn token_with(
        &self,
        channel: &Channel,
        scopes: &[Scope],
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> String {
        self.herald
            .token_keys
            .issue(&self.state().db, channel, scopes, expires_at, None, None)
            .await
            .expect("token issued")
            .0
    }

    pub async fn token(&self, channel: &Channel) -> String {
        self.token_with(channel, &Scope::ALL, None).await
    }

    /// POSTs a post through the API and returns (status, body).
    pub async fn post(&self, channel: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url(&format!("/api/v1/channels/{channel}/posts")))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Uploads tests/media/gps.jpg to channel `ceo` with alt text `description`; returns
    /// the media's JSON (`id`, `url` …).
    pub async fn upload_image(&self, token: &str, description: &str) -> Value {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(include_bytes!("../../media/gps.jpg").to_vec())
                    .file_name("photo.jpg")
                    .mime_str("image/jpeg")
                    .expect("media type"),
            )
            .text("description", description.to_string());
        let response = self
            .client
            .post(self.url("/api/v1/channels/ceo/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("API answers");
        assert_eq!(response.status().as_u16(), 201, "upload");
        response.json().await.expect("media JSON")
    }

    /// GETs JSON with an ActivityPub Accept header and returns (status, body).
    pub async fn get_activity_json(&self, url: &str) -> (u16, Value) {
        let response = self
            .client
            .get(url)
            .header("Accept", "application/activity+json")
            .send()
            .await
            .expect("Herald answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Calls the API: `METHOD /api/v1/channels/NAME…` (`path` from `/api`), with a JSON body
    /// when given; returns (status, body, `Retry-After`).
    pub async fn api(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, Option<String>) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API answers");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        (
            status,
            response.json().await.unwrap_or(Value::Null),
            retry_after,
        )
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn follower_count(&self, channel: &Channel) -> u64 {
        db::count_followers(&self.state().db, channel.id)
            .await
            .expect("count")
    }
}

impl Drop for TestInstance {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// A database of its own on the PostgreSQL server, dropped with the instance.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub async fn create(admin_url: &str) -> PostgresDatabase {
        let name = format!("herald_test_{}", uuid::Uuid::now_v7().simple());
        let admin = db::connect(admin_url).await.expect("PostgreSQL answers");
        use herald::db::ConnectionTrait;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("test database created");
        let mut url = url::Url::parse(admin_url).expect("PostgreSQL URL");
        url.set_path(&format!("/{name}"));
        PostgresDatabase {
            admin_url: admin_url.to_string(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop cannot await: a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                use herald::db::ConnectionTrait;
                if let Ok(admin) = db::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A delivery worker on a test instance. Its `drain` first waits until no fan-out is held
/// for its post's mentions (the instance releases them in a task of its own, within the
/// mention lookup's time limit), so a test that drains after posting sees every delivery.
pub struct TestWorker {
    worker: Worker,
    db: herald::db::DatabaseConnection,
}

impl TestWorker {
    pub async fn drain(&self) -> Result<usize, herald::delivery::DeliveryError> {
        crate::harness::eventually(
            "held fan-outs released",
            std::time::Duration::from_secs(30),
            || async { (herald::db::count_held_fanouts(&self.db).await.ok()? == 0).then_some(()) },
        )
        .await;
        self.worker.drain().await
    }
}

impl std::ops::Deref for TestWorker {
    type Target = Worker;

    fn deref(&self) -> &Worker {
        &self.worker
    }
}

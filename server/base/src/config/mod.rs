//! Configuration: the embedded `config/default.toml`, then an optional TOML file, then
//! `HERALD_*` environment variables, validated into one typed [`Config`].
//!
//! Validation reports every problem at once, each with the key it concerns, so an operator
//! fixes a configuration in one go. Secrets never appear in `Debug` output. The config is
//! passed around in application state, never kept in a global. A leaf module: it calls no
//! other part of Herald.

mod validate;

use figment::{
    providers::{Format, Serialized, Toml},
    value::{Dict, Value},
    Figment,
};
use serde::Deserialize;
use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

pub use validate::Domain;

/// The documented defaults, compiled in: `config/default.toml` is the single source of
/// every key and its default value.
pub const DEFAULT_TOML: &str = include_str!("../../../../config/default.toml");

/// The environment variable that names an optional configuration file.
pub const CONFIG_FILE_VAR: &str = "HERALD_CONFIG";

/// Prefix of the environment variables that override keys.
const ENV_PREFIX: &str = "HERALD_";

/// Herald's validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Public host (with port when not 443), as used in handles and ids.
    pub domain: Domain,
    /// Address the web server binds.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, the generated token secret and the private Redis.
    pub data_dir: PathBuf,
    /// Database connection URL (SQLite or PostgreSQL).
    pub database_url: Secret,
    /// Where the delivery queue lives.
    pub redis: RedisSetting,
    /// Allow http and private addresses for federation (tests and local trials only).
    pub debug: bool,
    /// The API token signing secret, or `None` to use the generated one in `data_dir`.
    pub jwt_secret: Option<Secret>,
    /// The tracing filter for logs.
    pub log: String,
    /// Log lines as JSON objects rather than readable lines.
    pub log_json: bool,
    /// How long a process may take to stop after a shutdown signal.
    pub shutdown_timeout: Duration,
    /// The database connection pool.
    pub database: DatabaseConfig,
    /// Post and media settings.
    pub posts: PostsConfig,
    /// Delivery worker settings.
    pub delivery: DeliveryConfig,
    /// Rate limits.
    pub limits: LimitsConfig,
    /// Where and to whom `/metrics` is served.
    pub metrics: MetricsConfig,
    /// The team console.
    pub console: ConsoleConfig,
    /// Feed sources.
    pub sources: SourcesConfig,
}

/// Feed sources (`[sources]`): the defaults of a new source, and the limits of a fetch.
#[derive(Clone, Copy, Debug)]
pub struct SourcesConfig {
    /// How often a source is polled, unless it says to wait longer.
    pub interval: Duration,
    /// Entries posted by a source's first poll (the newest).
    pub initial_entries: u32,
    /// Entries posted by one poll at most.
    pub max_per_poll: u32,
    /// The largest feed read.
    pub max_bytes: u64,
}

/// The team console (`[console]`).
#[derive(Clone, Copy, Debug)]
pub struct ConsoleConfig {
    /// How long a console session lasts after signing in.
    pub session_ttl: Duration,
    /// How long a sign-in link printed by `herald user create` stays valid.
    pub link_ttl: Duration,
}

/// The database connection pool (`[database]`).
#[derive(Clone, Copy, Debug)]
pub struct DatabaseConfig {
    /// `None`: automatic (see `PoolOptions`).
    pub max_connections: Option<u32>,
    pub min_connections: u32,
    pub connect_timeout: Duration,
    pub acquire_timeout: Duration,
}

impl DatabaseConfig {
    /// The pool settings the database module takes.
    pub fn pool(&self) -> PoolOptions {
        PoolOptions {
            max_connections: self.max_connections,
            min_connections: self.min_connections,
            connect_timeout: self.connect_timeout,
            acquire_timeout: self.acquire_timeout,
        }
    }
}

/// The connection pool's size and waits.
#[derive(Clone, Copy, Debug)]
pub struct PoolOptions {
    /// `None`: 20 on PostgreSQL, 1 on SQLite (one writer at a time: more connections
    /// would only wait on each other, each with its own page cache).
    pub max_connections: Option<u32>,
    pub min_connections: u32,
    /// How long to wait for the server to accept a new connection.
    pub connect_timeout: Duration,
    /// How long a query waits for a free connection.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: None,
            min_connections: 1,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// Where `/metrics` is served (`[metrics]`).
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    /// A separate listen address, instead of the main one.
    pub listen: Option<SocketAddr>,
    /// A bearer token that may read the metrics from anywhere.
    pub token: Option<Secret>,
}

/// Rate limits (`[limits]`): requests per minute, `None` for no limit.
#[derive(Clone, Copy, Debug)]
pub struct LimitsConfig {
    /// Inbox requests per remote server.
    pub inbox_per_minute: Option<u32>,
    /// API requests per token.
    pub api_per_minute: Option<u32>,
    /// Sign-in attempts per account, and (three times as many) per client address.
    pub sign_in_per_minute: Option<u32>,
}

/// Post and media settings (`[posts]`).
#[derive(Clone, Debug)]
pub struct PostsConfig {
    pub max_chars: usize,
    pub media_dir: PathBuf,
    pub max_upload_bytes: u64,
    pub max_upload_pixels: u64,
}

/// Delivery worker settings (`[delivery]`).
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// Deliveries in flight per process.
    pub concurrency: usize,
    /// Connect-and-answer timeout of one attempt.
    pub timeout: Duration,
    /// Attempts before a delivery becomes a dead letter.
    pub max_attempts: u32,
    /// Deliveries in flight to one server.
    pub per_host: usize,
    /// How long a server must keep failing to be marked unreachable.
    pub unreachable_after: Duration,
    /// How often an unreachable server is probed.
    pub probe_interval: Duration,
}

/// Which Redis carries the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedisSetting {
    /// Herald runs a private `redis-server` on a unix socket under `data_dir`.
    Managed,
    /// An operator-provided Redis.
    Url(Secret),
}

/// A string that may hold credentials: shown as `***` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// One thing wrong with the configuration, with the key it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl Problem {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Everything wrong with a configuration, reported together.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the configuration has {} problem(s):",
            self.problems.len()
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {}: {}", problem.key, problem.message)?;
        }
        Ok(())
    }
}

/// The raw, untyped shape of the TOML, before validation. Mirrors `config/default.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    domain: String,
    listen: String,
    data_dir: String,
    database_url: String,
    redis_url: String,
    debug: bool,
    jwt_secret: String,
    log: String,
    log_format: String,
    shutdown_timeout_secs: i64,
    database: RawDatabase,
    posts: RawPosts,
    delivery: RawDelivery,
    limits: RawLimits,
    metrics: RawMetrics,
    console: RawConsole,
    sources: RawSources,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    interval_secs: i64,
    initial_entries: i64,
    max_per_poll: i64,
    max_bytes: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsole {
    session_hours: i64,
    link_hours: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    max_connections: i64,
    min_connections: i64,
    connect_timeout_secs: i64,
    acquire_timeout_secs: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: String,
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    inbox_per_minute: i64,
    api_per_minute: i64,
    sign_in_per_minute: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPosts {
    max_chars: i64,
    media_dir: String,
    max_upload_bytes: i64,
    max_upload_pixels: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    concurrency: i64,
    per_host: i64,
    timeout_secs: i64,
    max_attempts: i64,
    unreachable_after_secs: i64,
    probe_interval_secs: i64,
}

impl Config {
    /// Loads the configuration the way `herald` does: defaults, then `file` (or the file
    /// named by `HERALD_CONFIG`), then the process's `HERALD_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let named = env
            .iter()
            .find(|(k, _)| k == CONFIG_FILE_VAR)
            .map(|(_, v)| PathBuf::from(v));
        let file = file.map(Path::to_path_buf).or(named);
        Self::from_sources(file.as_deref(), env)
    }

    /// Loads from explicit sources: the defaults, an optional file, and the given
    /// environment variables (only `HERALD_*` names that match a documented key are used).
    pub fn from_sources(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if path.is_file() {
                figment = figment.merge(Toml::file(path));
            } else {
                problems.push(Problem::new(
                    CONFIG_FILE_VAR,
                    format!("configuration file {} does not exist", path.display()),
                ));
            }
        }
        figment = figment.merge(Serialized::defaults(env_overrides(env)));

        let raw: RawConfig = match figment.extract() {
            Ok(raw) => raw,
            Err(errors) => {
                problems.extend(errors.into_iter().map(|e| {
                    let key = if e.path.is_empty() {
                        "(file)".to_string()
                    } else {
                        e.path.join(".")
                    };
                    Problem::new(key, e.kind.to_string())
                }));
                return Err(ConfigError { problems });
            }
        };
        let config = validate::validate(raw, &mut problems);
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError { problems }),
        }
    }

    /// The URL scheme of this instance's ids: `https`, or `http` in debug mode.
    pub fn scheme(&self) -> &'static str {
        if self.debug {
            "http"
        } else {
            "https"
        }
    }

    /// The base URL of this instance, e.g. `https://example.com`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.domain)
    }

    /// The file that keeps the generated token secret.
    pub fn jwt_secret_file(&self) -> PathBuf {
        self.data_dir.join("jwt.secret")
    }

    /// The unix socket of the private Redis (when `redis_url` is empty).
    pub fn managed_redis_socket(&self) -> PathBuf {
        self.data_dir.join("redis.sock")
    }
}

/// The dotted key paths documented in `config/default.toml` (`domain`,
/// `delivery.concurrency`), each with its default value.
fn documented_keys() -> Vec<(String, Value)> {
    fn walk(prefix: &str, dict: &Dict, out: &mut Vec<(String, Value)>) {
        for (key, value) in dict {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                Value::Dict(_, inner) => walk(&path, inner, out),
                _ => out.push((path, value.clone())),
            }
        }
    }
    let mut keys = Vec::new();
    if let Ok(dict) = Figment::from(Toml::string(DEFAULT_TOML)).extract::<Dict>() {
        walk("", &dict, &mut keys);
    }
    keys
}

/// Turns `HERALD_DELIVERY__CONCURRENCY=8` into `{delivery: {concurrency: 8}}`. Variables
/// that name no documented key (`HERALD_CONFIG`, other tools' variables) are ignored.
fn env_overrides(env: impl IntoIterator<Item = (String, String)>) -> Dict {
    let keys = documented_keys();
    let mut root = Dict::new();
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path = rest.to_ascii_lowercase().replace("__", ".");
        let Some((_, default)) = keys.iter().find(|(key, _)| *key == path) else {
            continue;
        };
        // A key whose default is a string takes the variable as it is; others ("true",
        // "64") are parsed, and a value of the wrong type is then reported by validation.
        let value = match default {
            Value::String(..) => Value::from(raw),
            _ => raw.parse().unwrap_or_else(|_| Value::from(raw.clone())),
        };
        insert_path(&mut root, &path, value);
    }
    root
}

fn insert_path(dict: &mut Dict, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            dict.insert(path.to_string(), value);
        }
        Some((head, tail)) => {
            let entry = dict
                .entry(head.to_string())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert_path(inner, tail, value);
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! Turning the raw TOML values into typed settings, collecting every problem on the way.

use super::{
    Config, ConsoleConfig, DatabaseConfig, DeliveryConfig, LimitsConfig, MetricsConfig,
    PostsConfig, Problem, RawConfig, RedisSetting, Secret, SourcesConfig,
};
use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

/// The public host of the instance: a lower-case DNS name with an optional port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain(String);

impl Domain {
    /// Parses `example.com` or `localhost:8080`. IP addresses are refused: ActivityPub
    /// servers (and activitypub_federation) reject ids whose host is an IP literal.
    pub fn parse(raw: &str) -> Result<Domain, String> {
        let raw = raw.trim().to_ascii_lowercase();
        if raw.is_empty() {
            return Err("must not be empty; set the public host name, e.g. example.com".into());
        }
        if raw.contains("://") || raw.contains('/') {
            return Err(format!(
                "`{raw}` must be a bare host name such as example.com, without scheme or path"
            ));
        }
        let (host, port) = match raw.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (raw.as_str(), None),
        };
        if let Some(port) = port {
            match port.parse::<u16>() {
                Ok(p) if p > 0 => {}
                _ => return Err(format!("`{port}` is not a valid port number")),
            }
        }
        if host.parse::<std::net::Ipv4Addr>().is_ok() || host.starts_with('[') {
            return Err(format!(
                "`{host}` is an IP address; use a host name (for local trials: localhost)"
            ));
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(format!("`{host}` is not a valid host name"));
        }
        Ok(Domain(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_url(key: &str, raw: &str, schemes: &[&str], problems: &mut Vec<Problem>) -> bool {
    match url::Url::parse(raw) {
        Ok(url) if schemes.contains(&url.scheme()) => true,
        Ok(url) => {
            problems.push(Problem::new(
                key,
                format!(
                    "scheme `{}` is not supported; use one of: {}",
                    url.scheme(),
                    schemes.join(", ")
                ),
            ));
            false
        }
        Err(e) => {
            problems.push(Problem::new(key, format!("not a valid URL ({e})")));
            false
        }
    }
}

fn in_range(key: &str, value: i64, min: i64, max: i64, problems: &mut Vec<Problem>) -> Option<i64> {
    if value < min || value > max {
        problems.push(Problem::new(
            key,
            format!("must be between {min} and {max}, got {value}"),
        ));
        None
    } else {
        Some(value)
    }
}

fn positive(key: &str, value: i64, max: i64, problems: &mut Vec<Problem>) -> Option<i64> {
    in_range(key, value, 1, max, problems)
}

fn seconds(value: Option<i64>) -> Option<Duration> {
    Some(Duration::from_secs(u64::try_from(value?).ok()?))
}

/// Validates every key, pushing one problem per bad key; returns the config when the
/// values could be typed (the caller still checks `problems` is empty).
pub(super) fn validate(raw: RawConfig, problems: &mut Vec<Problem>) -> Option<Config> {
    let domain = Domain::parse(&raw.domain)
        .map_err(|m| problems.push(Problem::new("domain", m)))
        .ok();
    let listen = raw
        .listen
        .parse::<SocketAddr>()
        .map_err(|_| {
            problems.push(Problem::new(
                "listen",
                format!(
                    "`{}` is not an address and port such as 127.0.0.1:8080",
                    raw.listen
                ),
            ))
        })
        .ok();
    if raw.data_dir.trim().is_empty() {
        problems.push(Problem::new("data_dir", "must not be empty"));
    }
    check_url(
        "database_url",
        &raw.database_url,
        &["sqlite", "postgres", "postgresql"],
        problems,
    );
    let redis = if raw.redis_url.trim().is_empty() {
        RedisSetting::Managed
    } else {
        check_url(
            "redis_url",
            &raw.redis_url,
            &["redis", "rediss", "redis+unix", "unix"],
            problems,
        );
        RedisSetting::Url(Secret::new(raw.redis_url.trim()))
    };
    let jwt_secret = match raw.jwt_secret.as_str() {
        "" => None,
        s if s.len() < 32 => {
            problems.push(Problem::new(
                "jwt_secret",
                "must be at least 32 characters (or empty to let Herald generate one)",
            ));
            None
        }
        s => Some(Secret::new(s)),
    };
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&raw.log) {
        problems.push(Problem::new("log", format!("not a valid log filter ({e})")));
    }
    let log_json = match raw.log_format.as_str() {
        "human" => false,
        "json" => true,
        other => {
            problems.push(Problem::new(
                "log_format",
                format!("`{other}` is not `human` or `json`"),
            ));
            false
        }
    };
    let shutdown_timeout = positive(
        "shutdown_timeout_secs",
        raw.shutdown_timeout_secs,
        3600,
        problems,
    );
    let max_connections = in_range(
        "database.max_connections",
        raw.database.max_connections,
        0,
        10_000,
        problems,
    );
    let min_connections = in_range(
        "database.min_connections",
        raw.database.min_connections,
        0,
        match max_connections {
            Some(max) if max > 0 => max,
            _ => 10_000,
        },
        problems,
    );
    let connect_timeout = positive(
        "database.connect_timeout_secs",
        raw.database.connect_timeout_secs,
        300,
        problems,
    );
    let acquire_timeout = positive(
        "database.acquire_timeout_secs",
        raw.database.acquire_timeout_secs,
        300,
        problems,
    );
    let metrics_listen = match raw.metrics.listen.trim() {
        "" => Some(None),
        address => address
            .parse::<SocketAddr>()
            .map(Some)
            .map_err(|_| {
                problems.push(Problem::new(
                    "metrics.listen",
                    format!("`{address}` is not an address and port such as 127.0.0.1:9100"),
                ))
            })
            .ok(),
    };
    let metrics_token = match raw.metrics.token.as_str() {
        "" => None,
        s if s.len() < 16 => {
            problems.push(Problem::new(
                "metrics.token",
                "must be at least 16 characters (or empty for no token)",
            ));
            None
        }
        s => Some(Secret::new(s)),
    };
    let concurrency = positive(
        "delivery.concurrency",
        raw.delivery.concurrency,
        10_000,
        problems,
    );
    let timeout = positive(
        "delivery.timeout_secs",
        raw.delivery.timeout_secs,
        300,
        problems,
    );
    let max_attempts = positive(
        "delivery.max_attempts",
        raw.delivery.max_attempts,
        100,
        problems,
    );
    let per_host = positive("delivery.per_host", raw.delivery.per_host, 64, problems);
    let max_chars = positive("posts.max_chars", raw.posts.max_chars, 1_000_000, problems);
    let max_upload_bytes = positive(
        "posts.max_upload_bytes",
        raw.posts.max_upload_bytes,
        1 << 30,
        problems,
    );
    let max_upload_pixels = positive(
        "posts.max_upload_pixels",
        raw.posts.max_upload_pixels,
        400_000_000,
        problems,
    );
    // Zero is allowed: tests mark a server unreachable at its third failure.
    let unreachable_after = in_range(
        "delivery.unreachable_after_secs",
        raw.delivery.unreachable_after_secs,
        0,
        30 * 86400,
        problems,
    );
    let probe_interval = positive(
        "delivery.probe_interval_secs",
        raw.delivery.probe_interval_secs,
        7 * 86400,
        problems,
    );
    let per_minute = |key: &str, value: i64, problems: &mut Vec<Problem>| {
        in_range(key, value, 0, 1_000_000, problems)
            .and_then(|v| u32::try_from(v).ok())
            .map(|v| (v > 0).then_some(v))
    };
    let inbox_per_minute = per_minute(
        "limits.inbox_per_minute",
        raw.limits.inbox_per_minute,
        problems,
    );
    let api_per_minute = per_minute("limits.api_per_minute", raw.limits.api_per_minute, problems);
    let sign_in_per_minute = per_minute(
        "limits.sign_in_per_minute",
        raw.limits.sign_in_per_minute,
        problems,
    );
    let hours = |key: &str, value: i64, problems: &mut Vec<Problem>| {
        positive(key, value, 24 * 365, problems).map(|h| Duration::from_secs(h as u64 * 3600))
    };
    let session_ttl = hours("console.session_hours", raw.console.session_hours, problems);
    let link_ttl = hours("console.link_hours", raw.console.link_hours, problems);
    let source_interval = in_range(
        "sources.interval_secs",
        raw.sources.interval_secs,
        60,
        7 * 86400,
        problems,
    );
    let initial_entries = in_range(
        "sources.initial_entries",
        raw.sources.initial_entries,
        0,
        100,
        problems,
    );
    let max_per_poll = in_range(
        "sources.max_per_poll",
        raw.sources.max_per_poll,
        1,
        100,
        problems,
    );
    let max_feed_bytes = in_range(
        "sources.max_bytes",
        raw.sources.max_bytes,
        1024,
        100 * 1024 * 1024,
        problems,
    );

    Some(Config {
        domain: domain?,
        listen: listen?,
        data_dir: PathBuf::from(&raw.data_dir),
        database_url: Secret::new(raw.database_url),
        redis,
        debug: raw.debug,
        jwt_secret,
        log: raw.log,
        log_json,
        shutdown_timeout: seconds(shutdown_timeout)?,
        database: DatabaseConfig {
            max_connections: u32::try_from(max_connections?).ok().filter(|max| *max > 0),
            min_connections: u32::try_from(min_connections?).ok()?,
            connect_timeout: seconds(connect_timeout)?,
            acquire_timeout: seconds(acquire_timeout)?,
        },
        posts: PostsConfig {
            max_chars: usize::try_from(max_chars?).ok()?,
            media_dir: match raw.posts.media_dir.trim() {
                "" => PathBuf::from(&raw.data_dir).join("media"),
                dir => PathBuf::from(dir),
            },
            max_upload_bytes: u64::try_from(max_upload_bytes?).ok()?,
            max_upload_pixels: u64::try_from(max_upload_pixels?).ok()?,
        },
        delivery: DeliveryConfig {
            concurrency: usize::try_from(concurrency?).ok()?,
            timeout: seconds(timeout)?,
            max_attempts: u32::try_from(max_attempts?).ok()?,
            per_host: usize::try_from(per_host?).ok()?,
            unreachable_after: seconds(unreachable_after)?,
            probe_interval: seconds(probe_interval)?,
        },
        limits: LimitsConfig {
            inbox_per_minute: inbox_per_minute?,
            api_per_minute: api_per_minute?,
            sign_in_per_minute: sign_in_per_minute?,
        },
        metrics: MetricsConfig {
            listen: metrics_listen?,
            token: metrics_token,
        },
        console: ConsoleConfig {
            session_ttl: session_ttl?,
            link_ttl: link_ttl?,
        },
        sources: SourcesConfig {
            interval: seconds(source_interval)?,
            initial_entries: u32::try_from(initial_entries?).ok()?,
            max_per_poll: u32::try_from(max_per_poll?).ok()?,
            max_bytes: u64::try_from(max_feed_bytes?).ok()?,
        },
    })
}

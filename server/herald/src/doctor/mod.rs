//! `herald doctor`: checks an installation the way an operator would by hand — the
//! configuration, the database and its schema, Redis, the clocks, the disks, and that the
//! public address reaches this very Herald through the proxy, and the feed sources and
//! webhooks — and gives a verdict per check. It starts nothing and changes nothing (no migration, no private Redis).
//!
//! An entry point: calls `db`, `delivery` (the queue's Redis) and `app` (the stored
//! instance key).

mod integrations;

use crate::{
    config::{Config, RedisSetting},
    db,
    delivery::Queue,
    federation::Urls,
};
use chrono::{DateTime, Utc};
use std::{fmt, path::Path, time::Duration};

/// How long one check may wait on a server.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Clock differences: warned beyond the first, failed beyond the second (signatures carry
/// the time; Mastodon refuses a `Date` more than an hour off, Herald likewise).
const CLOCK_WARN: chrono::Duration = chrono::Duration::seconds(30);
const CLOCK_FAIL: chrono::Duration = chrono::Duration::seconds(300);
/// Free space: warned below the first, failed below the second.
const DISK_WARN_BYTES: u64 = 1 << 30;
const DISK_FAIL_BYTES: u64 = 100 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but something deserves attention.
    Warn,
    Fail,
    /// Not applicable here (said why).
    Skipped,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skip",
        })
    }
}

/// One check's result.
#[derive(Clone, Debug)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, verdict: Verdict, detail: impl Into<String>) -> Check {
        Check {
            name,
            verdict,
            detail: detail.into(),
        }
    }
}

/// Runs every check on `config` (which loaded, so the configuration itself is valid).
pub async fn run(config: &Config) -> Vec<Check> {
    let mut checks = vec![check_config(config)];
    let (database, queue) = tokio::join!(open_database(config), open_queue(config));
    let (db, db_check) = database;
    checks.push(db_check);
    let (queue, redis_check) = queue;
    checks.push(redis_check);
    checks.push(check_clocks(db.as_ref(), queue.as_ref()).await);
    checks.push(check_disk("data disk", &config.data_dir));
    checks.push(check_disk("media disk", &config.posts.media_dir));
    checks.push(check_public_address(config, db.as_ref()).await);
    checks.push(integrations::check_integrations(db.as_ref()).await);
    checks
}

fn check_config(config: &Config) -> Check {
    let database = if db::is_sqlite(config.database_url.expose()) {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let redis = match config.redis {
        RedisSetting::Managed => "a private redis-server",
        RedisSetting::Url(_) => "the configured Redis",
    };
    let summary = format!("valid: {} on {database} with {redis}", config.base_url());
    if config.debug {
        return Check::new(
            "config",
            Verdict::Warn,
            format!("{summary}; debug mode is on: never on a public server (it lets anyone make Herald connect into your network)"),
        );
    }
    Check::new("config", Verdict::Ok, summary)
}

async fn open_database(config: &Config) -> (Option<db::DatabaseConnection>, Check) {
    let connected = tokio::time::timeout(
        CHECK_TIMEOUT,
        db::connect_with(config.database_url.expose(), config.database.pool()),
    )
    .await;
    let db = match connected {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            return (
                None,
                Check::new(
                    "database",
                    Verdict::Fail,
                    format!("cannot connect: {}", crate::error_chain(&e)),
                ),
            )
        }
        Err(_) => {
            return (
                None,
                Check::new("database", Verdict::Fail, "no answer within 10 s"),
            )
        }
    };
    let check = match db::pending_migrations(&db).await {
        Ok(0) => Check::new("database", Verdict::Ok, "answers; the schema is up to date"),
        Ok(n) => Check::new(
            "database",
            Verdict::Warn,
            format!("answers; {n} migration(s) pending: `herald migrate` (or `herald serve`) applies them"),
        ),
        Err(e) => Check::new(
            "database",
            Verdict::Fail,
            format!("connected, but cannot read the schema: {}", crate::error_chain(&e)),
        ),
    };
    (Some(db), check)
}

async fn open_queue(config: &Config) -> (Option<Queue>, Check) {
    let url = match &config.redis {
        RedisSetting::Url(url) => url.expose().to_string(),
        RedisSetting::Managed => {
            let socket = config.managed_redis_socket();
            if !socket.exists() {
                let installed = std::env::var_os("PATH").is_some_and(|paths| {
                    std::env::split_paths(&paths).any(|dir| dir.join("redis-server").is_file())
                });
                let (verdict, detail) = if installed {
                    (
                        Verdict::Ok,
                        "the private redis-server is not running; `herald serve` starts it",
                    )
                } else {
                    (
                        Verdict::Fail,
                        "redis_url is empty, so Herald runs its own redis-server, but none is installed (apt-get install redis-server)",
                    )
                };
                return (None, Check::new("redis", verdict, detail));
            }
            let socket = std::fs::canonicalize(&socket).unwrap_or(socket);
            format!("redis+unix://{}", socket.display())
        }
    };
    match tokio::time::timeout(CHECK_TIMEOUT, Queue::connect(&url)).await {
        Ok(Ok(queue)) => match queue.stats().await {
            Ok(stats) => (
                Some(queue),
                Check::new(
                    "redis",
                    Verdict::Ok,
                    format!(
                        "answers; {} delivery and {} fan-out entries queued, {} waiting to retry",
                        stats.delivery_length, stats.fanout_length, stats.retry_waiting
                    ),
                ),
            ),
            Err(e) => (
                Some(queue),
                Check::new(
                    "redis",
                    Verdict::Fail,
                    format!("connected, but cannot read the queue: {e}"),
                ),
            ),
        },
        Ok(Err(e)) => (
            None,
            Check::new(
                "redis",
                Verdict::Fail,
                format!("cannot connect: {}", crate::error_chain(&e)),
            ),
        ),
        Err(_) => (
            None,
            Check::new("redis", Verdict::Fail, "no answer within 10 s"),
        ),
    }
}

/// Compares this machine's clock with the database server's and Redis's.
async fn check_clocks(db: Option<&db::DatabaseConnection>, queue: Option<&Queue>) -> Check {
    let mut others: Vec<(&str, DateTime<Utc>)> = Vec::new();
    if let Some(db) = db {
        if let Ok(Some(time)) = db::server_time(db).await {
            others.push(("the database server", time));
        }
    }
    if let Some(queue) = queue {
        if let Ok(time) = queue.server_time().await {
            others.push(("Redis", time));
        }
    }
    clock_verdict(Utc::now(), &others)
}

fn clock_verdict(now: DateTime<Utc>, others: &[(&str, DateTime<Utc>)]) -> Check {
    let Some((worst, offset)) = others
        .iter()
        .map(|(name, time)| (*name, *time - now))
        .max_by_key(|(_, offset)| offset.num_milliseconds().abs())
    else {
        return Check::new(
            "clock",
            Verdict::Skipped,
            "no other server's clock to compare with",
        );
    };
    let seconds = offset.num_milliseconds() as f64 / 1000.0;
    let detail = format!(
        "{:+.1} s from {worst} (the largest difference); signatures carry the time, keep the clock synchronised (NTP)",
        seconds
    );
    let off = offset.abs();
    let verdict = if off > CLOCK_FAIL {
        Verdict::Fail
    } else if off > CLOCK_WARN {
        Verdict::Warn
    } else {
        Verdict::Ok
    };
    Check::new("clock", verdict, detail)
}

/// Free space where `dir` lives (its nearest existing ancestor), and that it is writable.
fn check_disk(name: &'static str, dir: &Path) -> Check {
    let existing = dir
        .ancestors()
        .find(|p| p.exists() && !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stats = match rustix::fs::statvfs(existing) {
        Ok(stats) => stats,
        Err(e) => {
            return Check::new(
                name,
                Verdict::Fail,
                format!("cannot read the file system of {}: {e}", dir.display()),
            )
        }
    };
    let free = stats.f_bavail.saturating_mul(stats.f_frsize);
    let total = stats.f_blocks.saturating_mul(stats.f_frsize);
    let space = format!(
        "{} free of {} at {}",
        human_bytes(free),
        human_bytes(total),
        dir.display()
    );
    if dir.exists() {
        let probe = dir.join(format!(".herald-doctor-{}", std::process::id()));
        if let Err(e) = std::fs::write(&probe, b"") {
            return Check::new(
                name,
                Verdict::Fail,
                format!("{space}; cannot write there: {e}"),
            );
        }
        let _ = std::fs::remove_file(&probe);
    }
    let verdict = if free < DISK_FAIL_BYTES {
        Verdict::Fail
    } else if free < DISK_WARN_BYTES {
        Verdict::Warn
    } else {
        Verdict::Ok
    };
    Check::new(name, verdict, space)
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Asks the public address for this instance's WebFinger and actor, as another server
/// would, and compares the actor's key with the one in this database: the same key means
/// the proxy reaches this Herald with the right `Host`.
async fn check_public_address(config: &Config, db: Option<&db::DatabaseConnection>) -> Check {
    const NAME: &str = "public address";
    let Some(db) = db else {
        return Check::new(NAME, Verdict::Skipped, "needs the database");
    };
    let stored = match crate::app::stored_instance_public_key(db).await {
        Ok(Some(key)) => key,
        Ok(None) => {
            return Check::new(
                NAME,
                Verdict::Skipped,
                "Herald has not started on this database yet (no instance key)",
            )
        }
        Err(e) => {
            return Check::new(
                NAME,
                Verdict::Fail,
                format!("cannot read the instance key: {e}"),
            )
        }
    };
    let urls = match Urls::new(config) {
        Ok(urls) => urls,
        Err(e) => return Check::new(NAME, Verdict::Fail, e.to_string()),
    };
    match fetch_instance_key(config, &urls).await {
        Ok(served) if served.trim() == stored.trim() => Check::new(
            NAME,
            Verdict::Ok,
            format!(
                "{} answers WebFinger and serves this Herald's instance actor",
                urls.base()
            ),
        ),
        Ok(_) => Check::new(
            NAME,
            Verdict::Fail,
            format!(
                "{} answers, but with another server's instance key: the proxy sends the domain elsewhere, or another Herald database is in use",
                urls.base()
            ),
        ),
        Err(why) => Check::new(NAME, Verdict::Fail, why),
    }
}

async fn fetch_instance_key(config: &Config, urls: &Urls) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .user_agent(herald_base::user_agent(config))
        .build()
        .map_err(|e| e.to_string())?;
    let authority = urls.authority();
    let mut webfinger = urls.base().clone();
    webfinger.set_path("/.well-known/webfinger");
    webfinger
        .query_pairs_mut()
        .append_pair("resource", &format!("acct:{authority}@{authority}"));
    let get = |url: url::Url, accept: &'static str| {
        let client = client.clone();
        async move {
            let response = client
                .get(url.clone())
                .header(reqwest::header::ACCEPT, accept)
                .send()
                .await
                .map_err(|e| format!("{url} does not answer: {}", crate::error_chain(&e)))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("{url} answers {status}: is the proxy passing requests to Herald, with the Host header?"));
            }
            response
                .json::<serde_json::Value>()
                .await
                .map_err(|e| format!("{url} does not answer JSON: {e}"))
        }
    };
    let jrd = get(webfinger, "application/jrd+json").await?;
    let actor = jrd["links"]
        .as_array()
        .and_then(|links| {
            links
                .iter()
                .find(|l| l["rel"] == "self")
                .and_then(|l| l["href"].as_str())
        })
        .ok_or("WebFinger answered without a `self` link: not Herald?")?;
    let actor = url::Url::parse(actor).map_err(|e| format!("WebFinger's self link: {e}"))?;
    if actor != urls.instance_actor() {
        return Err(format!(
            "WebFinger names {actor} instead of {}: the proxy does not pass the Host header, or another server answers",
            urls.instance_actor()
        ));
    }
    let document = get(actor, "application/activity+json").await?;
    document["publicKey"]["publicKeyPem"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "the instance actor has no public key".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_are_judged_by_the_largest_difference() {
        let now = Utc::now();
        let close = [("Redis", now + chrono::Duration::seconds(2))];
        assert_eq!(clock_verdict(now, &close).verdict, Verdict::Ok);
        let off = [
            ("Redis", now),
            ("the database server", now - chrono::Duration::seconds(90)),
        ];
        let check = clock_verdict(now, &off);
        assert_eq!(check.verdict, Verdict::Warn);
        assert!(
            check.detail.contains("-90.0 s from the database server"),
            "{}",
            check.detail
        );
        let far = [("Redis", now + chrono::Duration::hours(1))];
        assert_eq!(clock_verdict(now, &far).verdict, Verdict::Fail);
        assert_eq!(clock_verdict(now, &[]).verdict, Verdict::Skipped);
    }

    #[test]
    fn sizes_read_like_df() {
        assert_eq!(human_bytes(512), "512.0 B");
        assert_eq!(human_bytes(3 << 30), "3.0 GB");
    }

    #[test]
    fn an_unwritable_or_missing_directory_is_judged_by_its_file_system() {
        let dir = tempfile::tempdir().unwrap();
        let check = check_disk("data disk", dir.path());
        assert_ne!(check.verdict, Verdict::Fail, "{}", check.detail);
        // Not created yet: its parent's file system is measured, nothing is written.
        let missing = dir.path().join("not/yet");
        let check = check_disk("data disk", &missing);
        assert!(check.detail.contains("not/yet"), "{}", check.detail);
        assert!(!missing.exists());
    }
}

//! `herald bench …`: the benchmarks of the delivery engine. Each prints its figures, the
//! last line one JSON object, so results can be compared across runs and machines.
//!
//! An entry point like `cli`: it starts Herald in-process (`app`) and in child processes
//! (`herald worker`, `herald bench sink`), and talks to it over HTTP as an owner would.

mod expand;
mod fanout;
mod sign;
pub mod sink;

pub use expand::{expand, ExpandArgs};
pub use fanout::{fanout, instance_kind, FanoutArgs};
pub use sign::sign;

use crate::{
    config::Config,
    db::{self, Channel, ChannelId, ChannelName, NewChannel, NewRemoteActor},
    delivery::signing,
};
use std::path::{Path, PathBuf};
use url::Url;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BenchError(pub String);

impl BenchError {
    pub fn from(what: &str, e: impl std::fmt::Display) -> BenchError {
        BenchError(format!("{what}: {e}"))
    }
}

/// A scratch directory removed when dropped.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Result<Scratch, BenchError> {
        let dir =
            std::env::temp_dir().join(format!("herald-bench-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| BenchError::from("scratch directory", e))?;
        Ok(Scratch(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The configuration of a benchmark Herald: debug mode (loopback), data in `dir`, and the
/// database at `database_url` (a fresh SQLite file when `None`).
pub(crate) fn bench_env(
    dir: &Path,
    port: u16,
    database_url: Option<&str>,
) -> Vec<(String, String)> {
    let database = database_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("sqlite://{}/herald.db?mode=rwc", dir.display()));
    [
        ("HERALD_DOMAIN", format!("localhost:{port}")),
        ("HERALD_LISTEN", format!("127.0.0.1:{port}")),
        ("HERALD_DATA_DIR", dir.display().to_string()),
        ("HERALD_DATABASE_URL", database),
        ("HERALD_DEBUG", "true".to_string()),
        ("HERALD_LOG", "warn".to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .to_vec()
}

pub(crate) fn bench_config(env: &[(String, String)]) -> Result<Config, BenchError> {
    Config::from_sources(None, env.to_vec()).map_err(|e| BenchError::from("configuration", e))
}

pub(crate) async fn create_channel(
    db: &db::DatabaseConnection,
    name: &str,
) -> Result<Channel, BenchError> {
    let (public_key_pem, private_key_pem) =
        signing::generate_keypair().map_err(|e| BenchError::from("key", e))?;
    db::create_channel(
        db,
        NewChannel {
            name: ChannelName::parse(name).map_err(BenchError)?,
            display_name: name.to_string(),
            summary: String::new(),
            bot: false,
            public_key_pem,
            private_key_pem,
        },
    )
    .await
    .map_err(|e| BenchError::from("channel", e))
}

/// Seeds `followers` followers of `channel` spread evenly over `instances` servers named
/// `i{k}.localhost:{port}`, each with a shared inbox; `port_of(k)` picks each server's port.
pub async fn seed_followers(
    db: &db::DatabaseConnection,
    channel: ChannelId,
    followers: u64,
    instances: u64,
    port_of: impl Fn(u64) -> u16,
) -> Result<(), BenchError> {
    const BATCH: u64 = 5_000;
    let url = |s: String| Url::parse(&s).map_err(|e| BenchError::from("URL", e));
    let mut start = 0;
    while start < followers {
        let end = (start + BATCH).min(followers);
        let mut actors = Vec::new();
        for n in start..end {
            let k = n % instances.max(1);
            let base = format!("http://i{k}.localhost:{}", port_of(k));
            actors.push(NewRemoteActor {
                uri: url(format!("{base}/users/u{n}"))?,
                inbox: url(format!("{base}/users/u{n}/inbox"))?,
                shared_inbox: Some(url(format!("{base}/inbox"))?),
                public_key_pem: String::new(),
                key_id: None,
                also_known_as: Vec::new(),
            });
        }
        db::add_followers_in_bulk(db, channel, &actors)
            .await
            .map_err(|e| BenchError::from("seeding followers", e))?;
        start = end;
    }
    Ok(())
}

/// Peak resident memory of process `pid` in MB (Linux `VmHWM`).
pub(crate) fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds (user + system) process `pid` has used (Linux `/proc/PID/stat`; clock ticks
/// are USER_HZ, 100 a second on every mainstream Linux).
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

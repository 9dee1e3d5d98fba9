//! The private Redis of the embedded default: when no `redis_url` is configured, Herald
//! runs `redis-server` itself on a unix socket under `data_dir` (no TCP port), with
//! append-only persistence (`appendfsync everysec`, which Debian's package leaves off) and
//! `noeviction`, so queued work survives restarts and is never evicted. A second Herald
//! process (`herald worker`) finds the running server on the socket and shares it.

use super::QueueError;
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};
use tokio::process::{Child, Command};

/// How long to wait for a freshly started redis-server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A redis-server Herald started (stopped when dropped), or one it found running.
pub struct ManagedRedis {
    child: Option<Child>,
    url: String,
}

impl ManagedRedis {
    /// Uses the private Redis under `data_dir`, starting it when none answers.
    pub async fn start_or_attach(data_dir: &Path) -> Result<ManagedRedis, QueueError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| QueueError::Spawn(format!("cannot create {}: {e}", data_dir.display())))?;
        let dir = std::fs::canonicalize(data_dir).map_err(|e| {
            QueueError::Spawn(format!("cannot resolve {}: {e}", data_dir.display()))
        })?;
        let socket = dir.join("redis.sock");
        let url = format!("redis+unix://{}", socket.display());
        if answers(&url).await {
            return Ok(ManagedRedis { child: None, url });
        }
        // A socket left by a server that died is in the way of a new one.
        let _ = std::fs::remove_file(&socket);
        let child = spawn(&dir, &socket)?;
        let mut managed = ManagedRedis {
            child: Some(child),
            url,
        };
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            if answers(&managed.url).await {
                return Ok(managed);
            }
            if let Some(child) = managed.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(QueueError::Spawn(format!(
                        "redis-server exited with {status}; see {}",
                        dir.join("redis.log").display()
                    )));
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(QueueError::Spawn(format!(
            "redis-server did not answer on {} within {START_TIMEOUT:?}",
            socket.display()
        )))
    }

    /// The URL to connect to it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True when this process started the server (and stops it when dropped).
    pub fn owned(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for ManagedRedis {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // SIGKILL is safe for the queue: with appendfsync everysec, a kill loses at most
            // the last second of writes, and every write is rebuilt from the database.
            let _ = child.start_kill();
        }
    }
}

fn spawn(dir: &Path, socket: &PathBuf) -> Result<Child, QueueError> {
    Command::new("redis-server")
        .current_dir(dir)
        .args(["--port", "0", "--unixsocket"])
        .arg(socket)
        .args(["--unixsocketperm", "700", "--dir"])
        .arg(dir)
        .args([
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            QueueError::Spawn(format!(
                "could not run redis-server ({e}); install it (Debian: apt-get install \
                 redis-server) or set redis_url to an existing Redis"
            ))
        })
}

async fn answers(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let Ok(Ok(mut conn)) = tokio::time::timeout(
        Duration::from_millis(500),
        client.get_multiplexed_async_connection(),
    )
    .await
    else {
        return false;
    };
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .is_ok()
}

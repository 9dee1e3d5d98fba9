//! The private Redis of the embedded default: when no `redis_url` is configured, Herald
//! runs `redis-server` itself on a unix socket under `data_dir` (no TCP port), with
//! append-only persistence (`appendfsync everysec`, which Debian's package leaves off) and
//! `noeviction`, so queued work survives restarts and is never evicted. Other Herald
//! processes on the same `data_dir` (`herald worker`) find it on the socket and share it.
//!
//! Processes that start together must not each start a server (each would then hold
//! its own queue): starting is serialised by an exclusive lock on `redis.start.lock`.
//! Every process using the server holds a shared lock on `redis.users.lock`; whichever
//! process finds itself the last user when it stops shuts the server down — not
//! necessarily the one that started it, which may stop first while others still work.

use super::QueueError;
use rustix::{
    fs::{flock, FlockOperation},
    process::{kill_process, Pid, Signal},
};
use std::{
    fs::File,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};
use tokio::process::{Child, Command};

/// How long to wait for a freshly started redis-server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A redis-server Herald started or found running, shut down when the last process
/// using it drops its `ManagedRedis`.
pub struct ManagedRedis {
    child: Option<Child>,
    url: String,
    /// The shared lock that says this process uses the server.
    users: File,
    socket: PathBuf,
}

/// Opens (creating) a lock file under `dir`.
fn lock_file(dir: &Path, name: &str) -> Result<File, QueueError> {
    let path = dir.join(name);
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| QueueError::Spawn(format!("cannot open {}: {e}", path.display())))
}

/// Takes `operation` (a non-blocking lock) on `file`, retrying until `timeout`.
async fn lock(file: &File, operation: FlockOperation, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if flock(file, operation).is_ok() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
        let users = lock_file(&dir, "redis.users.lock")?;
        if !lock(&users, FlockOperation::NonBlockingLockShared, START_TIMEOUT).await {
            return Err(QueueError::Spawn(
                "the private Redis is being shut down by another Herald process".into(),
            ));
        }
        // One process at a time looks for a server and starts one when none answers.
        let starting = lock_file(&dir, "redis.start.lock")?;
        if !lock(
            &starting,
            FlockOperation::NonBlockingLockExclusive,
            START_TIMEOUT * 2,
        )
        .await
        {
            return Err(QueueError::Spawn(
                "another Herald process is starting the private Redis and has not finished".into(),
            ));
        }
        if answers(&url).await {
            return Ok(ManagedRedis {
                child: None,
                url,
                users,
                socket,
            });
        }
        // A socket left by a server that died is in the way of a new one.
        let _ = std::fs::remove_file(&socket);
        let child = spawn(&dir, &socket)?;
        let mut managed = ManagedRedis {
            child: Some(child),
            url,
            users,
            socket: socket.clone(),
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
        // Another process still holds its shared lock: it still needs the server.
        if flock(&self.users, FlockOperation::NonBlockingLockExclusive).is_err() {
            return;
        }
        // The last user: SHUTDOWN writes the append-only file and stops the server.
        let stopped = redis::Client::open(self.url.as_str())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(1)))
            .map(|mut conn| {
                let _: Result<(), _> = redis::cmd("SHUTDOWN").query(&mut conn);
            })
            .is_ok();
        if stopped {
            return;
        }
        // The socket is gone (its directory removed): SIGTERM to the server on it, on
        // which Redis also writes its append-only file and exits.
        for pid in servers_on(&self.socket) {
            let _ = kill_process(pid, Signal::TERM);
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
        // Its own process group: a Ctrl-C in the terminal stops Herald, and Herald stops
        // the server when no other process uses it.
        .process_group(0)
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| {
            QueueError::Spawn(format!(
                "could not run redis-server ({e}); install it (Debian: apt-get install \
                 redis-server) or set redis_url to an existing Redis"
            ))
        })
}

/// The redis-server processes started on `socket` (Linux: read from /proc).
fn servers_on(socket: &Path) -> Vec<Pid> {
    let socket = socket.to_string_lossy();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline);
            // The title redis-server gives itself: `redis-server unixsocket:PATH`.
            (cmdline.starts_with("redis-server") && cmdline.contains(&*socket))
                .then(|| Pid::from_raw(pid))
                .flatten()
        })
        .collect()
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

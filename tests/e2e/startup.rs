//! Herald processes starting at the same moment on a fresh installation (as systemd or a
//! compose file starts them): one migrates while the others wait, one private Redis is
//! started and shared, and it stops only when the last process using it stops.

use crate::harness::{
    eventually, free_port, herald_binary, instance::PostgresDatabase, Backend, WAIT,
};
use crate::processes::Killed;
use std::{path::Path, process::Command, time::Duration};

/// A fresh, unmigrated database: SQLite under `dir`, or PostgreSQL for the PostgreSQL
/// run (`HERALD_TEST_BACKEND=postgres`).
async fn fresh_database(dir: &Path) -> (String, Option<PostgresDatabase>) {
    match Backend::from_env() {
        Backend::Sqlite => (
            format!("sqlite://{}/herald.db?mode=rwc", dir.display()),
            None,
        ),
        Backend::Postgres => {
            let admin = Backend::postgres_url().expect("PostgreSQL URL");
            let database = PostgresDatabase::create(&admin).await;
            (database.url.clone(), Some(database))
        }
    }
}

/// `herald ARGS` with only these settings (and a private Redis under `dir`).
fn herald(dir: &Path, database_url: &str, port: u16, args: &[&str]) -> Command {
    let mut command = herald_binary();
    command
        .env("HERALD_DOMAIN", format!("localhost:{port}"))
        .env("HERALD_LISTEN", format!("127.0.0.1:{port}"))
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_DATABASE_URL", database_url)
        .env("HERALD_DEBUG", "true")
        .env("HERALD_LOG", "warn")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

/// The redis-server processes serving the socket under `dir`.
fn redis_servers(dir: &Path) -> usize {
    let socket = std::fs::canonicalize(dir).unwrap().join("redis.sock");
    let socket = socket.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| cmdline.starts_with("redis-server") && cmdline.contains(&socket))
        .count()
}

fn terminate(child: &mut Killed) {
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_started_together_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _database) = fresh_database(dir.path()).await;
    let port = free_port();
    let children: Vec<_> = (0..3)
        .map(|_| {
            herald(dir.path(), &url, port, &["migrate"])
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let conn = herald::db::connect(&url).await.unwrap();
    assert_eq!(herald::db::pending_migrations(&conn).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_together_share_one_private_redis_until_the_last_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _database) = fresh_database(dir.path()).await;
    let port = free_port();
    let spawn = |args: &[&str]| Killed(herald(dir.path(), &url, port, args).spawn().unwrap());
    // All at once, on a database nobody has migrated and with no Redis running.
    let mut web = spawn(&["serve", "--no-workers"]);
    let mut first = spawn(&["worker"]);
    let mut second = spawn(&["worker"]);
    let ready = format!("http://127.0.0.1:{port}/readyz");
    eventually("the web process is ready", WAIT, || async {
        let response = reqwest::get(&ready).await.ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
    // Give a late starter time to start a second server, if it were going to.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for process in [&mut web, &mut first, &mut second] {
        assert!(
            process.0.try_wait().unwrap().is_none(),
            "every process is up"
        );
    }
    assert_eq!(redis_servers(dir.path()), 1, "one private Redis for all");

    // Whoever started it, it runs while any process still uses it.
    terminate(&mut web);
    assert_eq!(redis_servers(dir.path()), 1);
    terminate(&mut first);
    assert_eq!(redis_servers(dir.path()), 1);
    terminate(&mut second);
    eventually("the last process stopped the server", WAIT, || async {
        (redis_servers(dir.path()) == 0).then_some(())
    })
    .await;
}

//! The `herald` command as an operator uses it: clear output, clear errors, exit codes.
//!
//! This lives beside the binary rather than in `tests/`: cargo builds a package's binary
//! (and names it in `CARGO_BIN_EXE_herald`) only for that package's own integration tests.
//! It runs the binary and uses none of the library, so it links fast.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn herald_bin() -> &'static str {
    env!("CARGO_BIN_EXE_herald")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn herald(dir: &tempfile::TempDir, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = Command::new(herald_bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("HERALD_") {
            command.env_remove(key);
        }
    }
    command
        .env("HERALD_DATA_DIR", dir.path())
        .env(
            "HERALD_DATABASE_URL",
            format!("sqlite://{}/herald.db?mode=rwc", dir.path().display()),
        )
        .env("HERALD_LOG", "warn")
        .envs(env.iter().copied())
        .args(args);
    let output = command.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn channels_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let help = herald(&dir, &[], &["--help"]);
    assert_eq!(help.code, 0);
    for command in ["serve", "worker", "migrate", "channel", "token"] {
        assert!(
            help.stdout.contains(command),
            "{command} missing from --help"
        );
    }

    let created = herald(
        &dir,
        &[],
        &["channel", "create", "ceo", "--display-name", "The CEO"],
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(
        created.stdout.contains("@ceo@localhost:8080"),
        "{}",
        created.stdout
    );
    let again = herald(&dir, &[], &["channel", "create", "ceo"]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let bad_name = herald(&dir, &[], &["channel", "create", "Bad Name"]);
    assert_ne!(bad_name.code, 0);
    assert!(
        bad_name.stderr.starts_with("error: "),
        "{}",
        bad_name.stderr
    );

    // The token alone on stdout, so scripts can capture it.
    let token = herald(&dir, &[], &["token", "issue", "ceo", "--expires-in", "90d"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    let lines: Vec<&str> = token.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", token.stdout);
    assert_eq!(lines[0].split('.').count(), 3, "a JWT: {}", lines[0]);
    let unknown = herald(&dir, &[], &["token", "issue", "nobody"]);
    assert_ne!(unknown.code, 0);
    assert!(
        unknown.stderr.contains("no channel named `nobody`"),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stdout.is_empty());
    let bad_scope = herald(&dir, &[], &["token", "issue", "ceo", "--scope", "admin"]);
    assert_ne!(bad_scope.code, 0);

    let list = herald(&dir, &[], &["token", "list", "ceo"]);
    assert_eq!(list.code, 0);
    let id = list
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let revoke = herald(&dir, &[], &["token", "revoke", &id]);
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    let list = herald(&dir, &[], &["token", "list", "ceo"]);
    let row: Vec<&str> = list.stdout.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(
        row.len(),
        7,
        "ID SCOPES CREATED EXPIRES REVOKED USER LABEL: {row:?}"
    );
    assert_ne!(row[4], "-", "revoked date shown");
    assert_eq!(
        (row[5], row[6]),
        ("-", "-"),
        "a channel token without a label"
    );

    let show = herald(&dir, &[], &["channel", "show", "ceo"]);
    assert!(show.stdout.contains("The CEO") && show.stdout.contains("followers:    0"));
    assert_eq!(herald(&dir, &[], &["channel", "delete", "ceo"]).code, 0);
    assert_eq!(herald(&dir, &[], &["channel", "list"]).stdout, "");
}

#[test]
fn bad_configuration_is_reported_whole() {
    let dir = tempfile::tempdir().unwrap();
    let run = herald(
        &dir,
        &[
            ("HERALD_DOMAIN", "127.0.0.1"),
            ("HERALD_DELIVERY__CONCURRENCY", "0"),
        ],
        &["channel", "list"],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("domain:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("delivery.concurrency:"),
        "{}",
        run.stderr
    );

    // Unreachable database and Redis: both named, and serve exits.
    let run = herald(
        &dir,
        &[
            ("HERALD_LISTEN", "127.0.0.1:0"),
            (
                "HERALD_DATABASE_URL",
                "postgres://nobody:x@127.0.0.1:1/herald",
            ),
            ("HERALD_REDIS_URL", "redis://127.0.0.1:1"),
        ],
        &["serve"],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("database_url:"), "{}", run.stderr);
    assert!(run.stderr.contains("redis_url:"), "{}", run.stderr);
}

#[test]
fn logs_are_json_lines_when_asked() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let bad = herald(&dir, &[("HERALD_LOG_FORMAT", "xml")], &["channel", "list"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("log_format:"), "{}", bad.stderr);

    let mut command = Command::new(herald_bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("HERALD_") {
            command.env_remove(key);
        }
    }
    let mut child = command
        .env("HERALD_DATA_DIR", dir.path())
        .env(
            "HERALD_DATABASE_URL",
            format!("sqlite://{}/herald.db?mode=rwc", dir.path().display()),
        )
        .env("HERALD_LISTEN", "127.0.0.1:0")
        .env("HERALD_LOG", "info")
        .env("HERALD_LOG_FORMAT", "json")
        .args(["serve", "--no-workers"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // The first log line of a starting server, read on a thread so a silent server
    // cannot hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let line = std::io::BufReader::new(stderr).lines().next();
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("serve logs within 30 s")
        .expect("a line")
        .unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let json: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(json["level"], "INFO", "{line}");
    assert!(json["fields"]["message"].is_string(), "{line}");
    assert!(json["timestamp"].is_string(), "{line}");
}

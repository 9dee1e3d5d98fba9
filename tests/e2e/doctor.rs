//! `herald doctor` on a running instance: every check passes; and when Redis is gone,
//! the domain leads to another Herald, or the configuration is wrong, the check at fault
//! fails with why, and the command exits non-zero.

use crate::harness::TestInstance;

/// The line of check `name` in doctor's output.
pub(crate) fn line<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
        .unwrap_or_else(|| panic!("no `{name}` check in:\n{stdout}"))
}

fn verdict<'a>(stdout: &'a str, name: &str) -> &'a str {
    line(stdout, name)
        .split_whitespace()
        .next()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_instance_passes_every_check() {
    let herald = TestInstance::start().await;
    let (code, stdout, stderr) = herald.run_herald(&["doctor"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // Debug mode is on in tests: a warning, not a failure.
    assert_eq!(verdict(&stdout, "config"), "warn", "{stdout}");
    assert!(line(&stdout, "config").contains("debug mode is on"));
    for name in [
        "database",
        "redis",
        "data disk",
        "media disk",
        "public address",
        "sources and webhooks",
    ] {
        assert_eq!(verdict(&stdout, name), "ok", "{stdout}");
    }
    assert!(line(&stdout, "public address").contains("serves this Herald's instance actor"));
    // SQLite runs in-process; Redis has a clock to compare.
    assert_eq!(verdict(&stdout, "clock"), "ok", "{stdout}");
    assert!(stdout.contains("doctor: no check failed; 1 warning(s) above"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_is_named_by_its_check() {
    let herald = TestInstance::start().await;
    let other = TestInstance::start().await;
    // Redis on a closed port; the public domain served by another Herald.
    let redis_url = format!("redis://127.0.0.1:{}", crate::harness::free_port());
    let (code, stdout, stderr) = herald.run_herald_with(
        &["doctor"],
        &[
            ("HERALD_REDIS_URL", &redis_url),
            ("HERALD_DOMAIN", &other.domain),
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(verdict(&stdout, "redis"), "FAIL", "{stdout}");
    assert!(line(&stdout, "redis").contains("cannot connect"));
    assert_eq!(verdict(&stdout, "public address"), "FAIL", "{stdout}");
    assert!(
        line(&stdout, "public address").contains("another server's instance key"),
        "{stdout}"
    );
    assert_eq!(verdict(&stdout, "database"), "ok", "{stdout}");
    assert!(stderr.contains("doctor: 2 of 8 checks failed"), "{stderr}");

    // A configuration that does not load fails first, with its key.
    let (code, stdout, _) =
        herald.run_herald_with(&["doctor"], &[("HERALD_LISTEN", "not-an-address")]);
    assert_eq!(code, 1);
    assert_eq!(verdict(&stdout, "config"), "FAIL", "{stdout}");
    assert!(stdout.contains("listen"), "{stdout}");
}

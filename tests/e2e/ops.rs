//! Health, readiness and metrics, as a load balancer and Prometheus see them; request
//! ids; and the shutdown bound.

use crate::harness::{
    eventually, followed, free_port, instance::Options, Followed, Mode, TestInstance, WAIT,
};
use crate::processes::Killed;
use serde_json::{json, Value};
use std::time::Duration;

const METRICS_TOKEN: &str = "a-scraper-token-of-some-length";

/// Kills a process by id when dropped (a test that panics leaves no server behind).
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// GET `url` with extra headers; status and body (status 0 and the error when nothing
/// answers, as for a process still starting).
async fn get(herald: &TestInstance, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = herald.client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// The value of the sample `series` (name and labels, exactly as written) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

async fn probe(herald: &TestInstance, path: &str) -> (u16, Value) {
    let response = herald.client.get(herald.url(path)).send().await.unwrap();
    assert!(!response.headers().contains_key("set-cookie"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_while_database_and_redis_answer_and_not_after() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let (status, body) = probe(&herald, "/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = probe(&herald, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["redis"], "ok");

    // Redis dies: still alive, no longer ready, and the answer says which part failed.
    crate::crash::kill_redis(&herald).await;
    let body = eventually(
        "readyz reports Redis down",
        Duration::from_secs(20),
        || async {
            let (status, body) = probe(&herald, "/readyz").await;
            (status == 503).then_some(body)
        },
    )
    .await;
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "ok");
    assert_ne!(body["redis"], "ok");
    let (status, _) = probe(&herald, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_machinery_and_name_no_reader() {
    let Followed {
        herald,
        token,
        remote,
    } = followed(
        Options {
            workers: false,
            metrics_token: Some(METRICS_TOKEN),
            ..Options::default()
        },
        true,
        "alice",
    )
    .await;
    let inbox: url::Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let (status, _) = herald
        .post("ceo", Some(&token), &json!({"text": "counted"}))
        .await;
    assert_eq!(status, 201);
    // An unsigned Like is refused, and counted as such.
    let response = herald
        .client
        .post(inbox.clone())
        .header("content-type", "application/activity+json")
        .body(r#"{"type": "Like", "id": "https://x.example/1", "actor": "https://x.example/u"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    herald.worker().drain().await.unwrap();
    assert_eq!(remote.received_of("Create").len(), 1);

    let url = herald.url("/metrics");
    let response = herald.client.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    // The Accept and the Create.
    assert_eq!(
        sample(&text, r#"herald_deliveries_total{outcome="delivered"}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "herald_delivery_duration_seconds_count"),
        Some(2.0)
    );
    assert_eq!(sample(&text, "herald_fanout_lag_seconds_count"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            r#"herald_inbox_activities_total{type="Follow",outcome="processed"}"#
        ),
        Some(1.0)
    );
    assert!(
        text.lines()
            .any(|l| l
                .starts_with(r#"herald_inbox_activities_total{type="Like",outcome="signature_"#)),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"herald_http_request_duration_seconds_count{method="POST",route="/api/v1/channels/{name}/posts",status="201"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"herald_queue_entries{stream="delivery"}"#),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, r#"herald_delivery_backlog{state="pending"}"#),
        Some(0.0)
    );
    assert_eq!(sample(&text, "herald_dead_letters"), Some(0.0));
    // No series names a reader, a server or a concrete path.
    let remote_host = remote.base().host_str().unwrap().to_string();
    for secret in [remote_host.as_str(), "alice", "127.0.0.1", "/channels/ceo"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // Through a proxy (forwarding headers), only the token opens it.
    let forwarded = ("X-Forwarded-For", "203.0.113.7");
    let (status, body) = get(&herald, &url, &[forwarded]).await;
    assert_eq!(status, 403);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    let wrong = "Bearer not-the-scraper-token-at-all";
    let (status, _) = get(&herald, &url, &[forwarded, ("Authorization", wrong)]).await;
    assert_eq!(status, 403);
    let right = format!("Bearer {METRICS_TOKEN}");
    let (status, text) = get(&herald, &url, &[forwarded, ("Authorization", &right)]).await;
    assert_eq!(status, 200);
    assert!(text.contains("herald_deliveries_total"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_an_id_into_the_logs_and_the_answer() {
    let herald = TestInstance::start().await;
    let response = herald
        .client
        .get(herald.url("/healthz"))
        .header("X-Request-Id", "proxy-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "proxy-id-42");
    let first = herald
        .client
        .get(herald.url("/healthz"))
        .send()
        .await
        .unwrap();
    let second = herald
        .client
        .get(herald.url("/nowhere"))
        .send()
        .await
        .unwrap();
    let (a, b) = (
        &first.headers()["x-request-id"],
        &second.headers()["x-request-id"],
    );
    assert_eq!(a.len(), 16);
    assert_ne!(a, b);

    // A log line written while handling a request names its id: a worker process's
    // metrics requests are logged at debug level with it.
    let port = free_port();
    let serve = herald.spawn_herald_logged(
        &["serve", "--no-workers"],
        &[
            ("HERALD_LISTEN", &format!("127.0.0.1:{port}")),
            ("HERALD_LOG", "info,herald::http=debug"),
            ("HERALD_LOG_FORMAT", "json"),
        ],
    );
    let guard = KillOnDrop(serve.id());
    let url = format!("http://127.0.0.1:{port}/healthz");
    eventually("the second server answers", WAIT, || async {
        let response = reqwest::Client::new()
            .get(&url)
            .header("X-Request-Id", "trace-me-7")
            .header("User-Agent", "ReaderBrowser/9.9")
            .header("X-Forwarded-For", "198.51.100.23")
            .send()
            .await
            .ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
    std::process::Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || serve.wait_with_output().unwrap())
        .await
        .unwrap();
    drop(guard);
    let log = String::from_utf8_lossy(&output.stderr);
    let line = log
        .lines()
        .find(|line| line.contains("trace-me-7"))
        .unwrap_or_else(|| panic!("no log line names the request id: {log}"));
    let line: Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["span"]["id"], "trace-me-7", "{line}");
    assert_eq!(line["fields"]["route"], "/healthz");
    // Nothing of the reader: not its address, not its user agent.
    assert!(
        !log.contains("198.51.100.23") && !log.contains("ReaderBrowser"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_address_also_from_worker_processes() {
    let port = free_port();
    let Followed {
        herald,
        token,
        remote,
    } = followed(
        Options {
            workers: false,
            metrics_port: Some(port),
            ..Options::default()
        },
        true,
        "bob",
    )
    .await;
    // Not on the main address once it has its own.
    let (status, _) = get(&herald, &herald.url("/metrics"), &[]).await;
    assert_eq!(status, 404);
    let own = format!("http://127.0.0.1:{port}/metrics");
    let text = eventually("metrics on their own address", WAIT, || async {
        let response = herald.client.get(&own).send().await.ok()?;
        (response.status() == 200).then_some(response.text().await.ok()?)
    })
    .await;
    assert!(text.contains("herald_dead_letters"));

    remote.set_mode(Mode::Fail);
    let worker_port = free_port();
    let _worker = Killed(herald.spawn_herald(
        &["worker"],
        &[(
            "HERALD_METRICS__LISTEN",
            &format!("127.0.0.1:{worker_port}"),
        )],
    ));
    herald
        .post("ceo", Some(&token), &json!({"text": "to a broken server"}))
        .await;
    let worker_metrics = format!("http://127.0.0.1:{worker_port}/metrics");
    // The counter moves first, then the database and Redis: wait for all three.
    eventually("the worker counts the failures", WAIT, || async {
        let (status, text) = get(&herald, &worker_metrics, &[]).await;
        (status == 200
            && sample(&text, r#"herald_deliveries_total{outcome="retrying"}"#) >= Some(1.0)
            && sample(&text, r#"herald_delivery_backlog{state="retrying"}"#) >= Some(1.0)
            && sample(&text, "herald_retry_scheduled") >= Some(1.0))
        .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stops_within_the_shutdown_bound_even_with_hanging_deliveries() {
    let Followed {
        herald,
        token,
        remote,
    } = followed(
        Options {
            workers: false,
            ..Options::default()
        },
        true,
        "carol",
    )
    .await;
    herald.worker().drain().await.unwrap();
    remote.set_mode(Mode::Hang);
    // Deliveries may hang for a minute; the bound is one second.
    let mut worker = Killed(herald.spawn_herald(
        &["worker"],
        &[
            ("HERALD_DELIVERY__TIMEOUT_SECS", "60"),
            ("HERALD_SHUTDOWN_TIMEOUT_SECS", "1"),
        ],
    ));
    herald
        .post("ceo", Some(&token), &json!({"text": "into the void"}))
        .await;
    // The Accept was the first request; the Create hangs.
    eventually("the delivery is in flight", WAIT, || async {
        (remote.inbox_hits() >= 2).then_some(())
    })
    .await;
    std::process::Command::new("kill")
        .args(["-TERM", &worker.0.id().to_string()])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    // Within the 1 s bound and some slack: far sooner than the hanging request's 60 s,
    // and than the default 30 s bound (or the fixed 15 s grace that came before it).
    let within = Duration::from_secs(8);
    let exited = eventually("the worker exits", within, || {
        let status = worker.0.try_wait().unwrap();
        async move { status }
    })
    .await;
    assert!(exited.success(), "{exited:?}");
    assert!(started.elapsed() < within);
    // The unfinished delivery stays unacknowledged, for another worker to claim.
    let queue = herald.state().queue.stats().await.unwrap();
    assert_eq!(queue.in_flight, 1, "{queue:?}");
}

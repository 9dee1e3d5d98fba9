//! Health and readiness, as a load balancer sees them.

use crate::harness::{eventually, instance::Options, TestInstance};
use serde_json::Value;
use std::time::Duration;

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

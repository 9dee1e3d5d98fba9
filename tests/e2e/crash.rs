//! Crashes in the middle of a fan-out lose nothing: worker processes killed with SIGKILL
//! at random points, and Redis killed and restarted. Every server gets the post at least
//! once, and duplicates stay within what was in flight.

use crate::{
    harness::{eventually, instance::Options, TestInstance},
    processes::Killed,
};
use herald::bench::sink::{self, SinkStats};
use rand::Rng;
use serde_json::json;
use std::{net::TcpListener, time::Duration};

/// Servers in the fan-out.
const SERVERS: u64 = 120;
/// Deliveries in flight per worker process.
const CONCURRENCY: &str = "4";
/// How slowly the fake servers answer, so the fan-out lasts long enough to be interrupted.
const SLOW: Duration = Duration::from_millis(100);

struct Setup {
    herald: TestInstance,
    token: String,
    sink_port: u16,
}

async fn setup() -> Setup {
    let herald = TestInstance::with(Options {
        workers: false,
        timeout_secs: 1,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_port = listener.local_addr().unwrap().port();
    let key = channel.public_key_pem.clone();
    tokio::spawn(sink::start(listener, &key, Default::default(), SLOW).unwrap());
    herald::bench::seed_followers(&herald.state().db, channel.id, SERVERS * 2, SERVERS, |_| {
        sink_port
    })
    .await
    .unwrap();
    Setup {
        herald,
        token,
        sink_port,
    }
}

async fn stats(port: u16) -> SinkStats {
    reqwest::get(format!("http://127.0.0.1:{port}/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn worker(herald: &TestInstance) -> Killed {
    Killed(herald.spawn_herald(
        &["worker"],
        &[("HERALD_DELIVERY__CONCURRENCY", CONCURRENCY)],
    ))
}

async fn every_server_delivered(port: u16) -> SinkStats {
    eventually(
        "every server has the post",
        Duration::from_secs(60),
        || async {
            let stats = stats(port).await;
            (stats.instances == SERVERS).then_some(stats)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_mid_fanout_lose_nothing() {
    let Setup {
        herald,
        token,
        sink_port,
    } = setup().await;
    let (status, _) = herald
        .post("ceo", Some(&token), &json!({"text": "crash test"}))
        .await;
    assert_eq!(status, 201);
    let kills = 3;
    for _ in 0..kills {
        let mut process = worker(&herald);
        let after = rand::thread_rng().gen_range(150..900);
        tokio::time::sleep(Duration::from_millis(after)).await;
        process.0.kill().unwrap();
        process.0.wait().unwrap();
    }
    let before = stats(sink_port).await;
    assert!(
        before.instances < SERVERS,
        "the kills came too late to interrupt anything"
    );
    let _last = worker(&herald);
    let stats = every_server_delivered(sink_port).await;
    let bound = kills * CONCURRENCY.parse::<u64>().unwrap();
    assert!(
        stats.duplicates <= bound,
        "{} duplicates > {bound}",
        stats.duplicates
    );
    assert_eq!(stats.refused, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_crash_mid_fanout_loses_nothing() {
    let Setup {
        herald,
        token,
        sink_port,
    } = setup().await;
    let _worker = worker(&herald);
    let (status, _) = herald
        .post("ceo", Some(&token), &json!({"text": "crash test"}))
        .await;
    assert_eq!(status, 201);
    tokio::time::sleep(Duration::from_millis(
        rand::thread_rng().gen_range(200..800),
    ))
    .await;

    // SIGKILL the Redis server, as a power cut would, and start it again on its data.
    let socket = herald
        .herald
        .managed_redis
        .as_ref()
        .unwrap()
        .url()
        .to_string();
    let client = redis::Client::open(socket.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .unwrap();
    let pid = info
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .unwrap()
        .trim()
        .to_string();
    std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap();
    let before = stats(sink_port).await;
    assert!(
        before.instances < SERVERS,
        "Redis died too late to interrupt anything"
    );
    let _restarted =
        herald::delivery::ManagedRedis::start_or_attach(herald.state().config.data_dir.as_path())
            .await
            .unwrap();

    // Whatever the last second of writes lost, the database still has: the sweep, run as
    // if a few minutes had passed, puts it back.
    let offset = std::sync::Arc::new(std::sync::Mutex::new(chrono::Duration::minutes(5)));
    eventually(
        "the queue answers again",
        Duration::from_secs(10),
        || async {
            herald
                .worker_with_clock(offset.clone())
                .sweep_now()
                .await
                .ok()
        },
    )
    .await;
    let stats = every_server_delivered(sink_port).await;
    let bound = CONCURRENCY.parse::<u64>().unwrap();
    assert!(
        stats.duplicates <= bound,
        "{} duplicates > {bound}",
        stats.duplicates
    );
}

/// A connection to the instance's private Redis.
async fn redis_connection(herald: &TestInstance) -> redis::aio::MultiplexedConnection {
    let socket = herald
        .herald
        .managed_redis
        .as_ref()
        .unwrap()
        .url()
        .to_string();
    let client = redis::Client::open(socket.as_str()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

/// SIGKILLs the instance's private redis-server.
pub(crate) async fn kill_redis(herald: &TestInstance) {
    let mut conn = redis_connection(herald).await;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .unwrap();
    let pid = info
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .unwrap()
        .trim()
        .to_string();
    std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_committed_while_redis_is_down_still_federates() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    // The private Redis keeps its data: append-only, fsync every second, never evicting.
    let mut conn = redis_connection(&herald).await;
    for (key, value) in [
        ("appendonly", "yes"),
        ("appendfsync", "everysec"),
        ("maxmemory-policy", "noeviction"),
    ] {
        let got: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(got, [key, value]);
    }
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = crate::harness::FakeRemote::start(false).await;
    let alice = remote.add_user("alice");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    remote
        .send(
            &alice,
            remote.follow(&alice, &actor),
            &herald.url("/inbox").parse().unwrap(),
        )
        .await;
    herald.worker().drain().await.unwrap();

    // Redis dies; the API still answers at once, and the post is committed.
    kill_redis(&herald).await;
    let started = std::time::Instant::now();
    let (status, post) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "while Redis was down"}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the API waited {:?} on Redis",
        started.elapsed()
    );

    // Redis comes back without the fan-out; the sweeper finds it in the database.
    let _restarted =
        herald::delivery::ManagedRedis::start_or_attach(herald.state().config.data_dir.as_path())
            .await
            .unwrap();
    let offset = std::sync::Arc::new(std::sync::Mutex::new(chrono::Duration::minutes(5)));
    let worker = herald.worker_with_clock(offset);
    let swept = eventually(
        "the queue answers again",
        Duration::from_secs(10),
        || async { worker.sweep_now().await.ok() },
    )
    .await;
    assert_eq!(swept.fanouts, 1, "{swept:?}");
    worker.drain().await.unwrap();
    let creates = remote.received_of("Create");
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0].activity["object"]["id"], post["uri"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_with_sigterm_finishes_what_it_started() {
    let Setup {
        herald,
        token,
        sink_port,
    } = setup().await;
    let mut process = worker(&herald);
    let (status, _) = herald
        .post("ceo", Some(&token), &json!({"text": "stop test"}))
        .await;
    assert_eq!(status, 201);
    eventually(
        "some deliveries are done",
        Duration::from_secs(20),
        || async { (stats(sink_port).await.instances >= 8).then_some(()) },
    )
    .await;
    std::process::Command::new("kill")
        .args(["-TERM", &process.0.id().to_string()])
        .status()
        .unwrap();
    let exit = tokio::task::spawn_blocking(move || {
        let status = process.0.wait().unwrap();
        (status, process)
    })
    .await
    .unwrap()
    .0;
    assert!(exit.success(), "{exit:?}");
    // It acknowledged everything it took: nothing is left in flight for another to claim.
    let queue = herald.state().queue.stats().await.unwrap();
    assert_eq!(queue.in_flight, 0, "{queue:?}");
    let stopped_at = stats(sink_port).await.instances;
    assert!(
        stopped_at < SERVERS,
        "the stop came too late to test anything"
    );
    // The next worker does the rest, with no duplicates.
    let _next = worker(&herald);
    let stats = every_server_delivered(sink_port).await;
    assert_eq!(stats.duplicates, 0);
}

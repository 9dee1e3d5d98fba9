//! `herald bench fanout`: a post to N followers on K servers, end to end. The fake inboxes
//! run in a child process (`herald bench sink`) that verifies every signature; the
//! delivery worker runs in another (`herald worker`), so its peak memory is its own.

use super::{
    bench_config, bench_env, cpu_seconds, create_channel, peak_rss_mb, seed_followers,
    sign::sign_rate,
};
use super::{sink::SinkStats, BenchError, Scratch};
use crate::app::Herald;
use serde_json::json;
use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct FanoutArgs {
    pub followers: u64,
    pub instances: u64,
    /// Percent of servers that refuse connections.
    pub dead_percent: u64,
    /// Percent of servers that accept requests and never answer.
    pub hang_percent: u64,
    pub database_url: Option<String>,
    /// Give up waiting for deliveries after this long.
    pub wait: Duration,
    /// Extra `HERALD_*` settings for the worker (`HERALD_DELIVERY__CONCURRENCY=…`).
    pub worker_env: Vec<(String, String)>,
}

/// Whether server `k` is dead, hanging or live, spread evenly over the servers.
pub fn instance_kind(k: u64, dead_percent: u64, hang_percent: u64) -> &'static str {
    let slot = k % 100;
    if slot < dead_percent {
        "dead"
    } else if slot < dead_percent + hang_percent {
        "hang"
    } else {
        "live"
    }
}

/// A child process killed when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub async fn fanout(args: FanoutArgs) -> Result<(), BenchError> {
    let exe = std::env::current_exe().map_err(|e| BenchError::from("own path", e))?;
    let scratch = Scratch::new()?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| BenchError::from("bind", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| BenchError::from("bind", e))?
        .port();
    let env = bench_env(scratch.path(), port, args.database_url.as_deref());
    let herald = Herald::start(bench_config(&env)?)
        .await
        .map_err(|e| BenchError::from("start", e))?;
    let db = herald.state.db.clone();
    let channel = create_channel(&db, "bench").await?;
    create_channel(&db, "empty").await?;

    // The fake inboxes, in a child process: it prints its port on its first line.
    let key_file = scratch.path().join("channel.pem");
    std::fs::write(&key_file, &channel.public_key_pem)
        .map_err(|e| BenchError::from("key file", e))?;
    let mut sink = ChildGuard(
        Command::new(&exe)
            .args(["bench", "sink", "--public-key-file"])
            .arg(&key_file)
            .args(["--instances", &args.instances.to_string()])
            .args(["--dead-percent", &args.dead_percent.to_string()])
            .args(["--hang-percent", &args.hang_percent.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| BenchError::from("sink", e))?,
    );
    let sink_port: u16 = {
        let stdout = sink
            .0
            .stdout
            .take()
            .ok_or_else(|| BenchError("sink has no stdout".into()))?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| BenchError::from("sink", e))?;
        line.trim()
            .parse()
            .map_err(|e| BenchError::from("sink port", e))?
    };
    // Dead servers: a port that was free a moment ago and now refuses connections.
    let dead_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| BenchError::from("dead port", e))?
        .port();

    let seeding = Instant::now();
    let (dead, hang) = (args.dead_percent, args.hang_percent);
    seed_followers(&db, channel.id, args.followers, args.instances, |k| {
        if instance_kind(k, dead, hang) == "dead" {
            dead_port
        } else {
            sink_port
        }
    })
    .await?;
    let live = (0..args.instances.min(args.followers))
        .filter(|k| instance_kind(*k, dead, hang) == "live")
        .count() as u64;
    eprintln!(
        "seeded {} followers on {} servers ({live} live) in {:.1} s",
        args.followers,
        args.instances,
        seeding.elapsed().as_secs_f64()
    );

    let (stop, stopped) = watch::channel(false);
    let server = {
        let herald = std::sync::Arc::new(herald);
        let serving = herald.clone();
        tokio::spawn(async move { serving.serve(listener, false, stopped).await })
    };
    let mut worker = ChildGuard(
        Command::new(&exe)
            .arg("worker")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(
                args.worker_env
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| BenchError::from("worker", e))?,
    );
    let worker_pid = worker.0.id();

    let keys = crate::api::TokenKeys::load(&bench_config(&env)?)
        .map_err(|e| BenchError::from("token", e))?;
    let empty = crate::db::channel_by_name(&db, "empty")
        .await
        .map_err(|e| BenchError::from("channel", e))?;
    let (bench_token, _) = keys
        .issue(&db, &channel, &crate::api::Scope::ALL, None, None, None)
        .await
        .map_err(|e| BenchError::from("token", e))?;
    let (empty_token, _) = keys
        .issue(&db, &empty, &crate::api::Scope::ALL, None, None, None)
        .await
        .map_err(|e| BenchError::from("token", e))?;
    let client = reqwest::Client::new();
    let post = |name: &'static str, token: String| {
        let client = client.clone();
        async move {
            let started = Instant::now();
            let response = client
                .post(format!(
                    "http://127.0.0.1:{port}/api/v1/channels/{name}/posts"
                ))
                .bearer_auth(token)
                .json(&json!({"text": "Benchmark post: **hello**, followers."}))
                .send()
                .await
                .map_err(|e| BenchError::from("post", e))?;
            if response.status().as_u16() != 201 {
                return Err(BenchError(format!("post answered {}", response.status())));
            }
            Ok::<f64, BenchError>(started.elapsed().as_secs_f64() * 1000.0)
        }
    };

    // The API's answer time with no followers: the baseline.
    let mut baseline = Vec::new();
    for _ in 0..30 {
        baseline.push(post("empty", empty_token.clone()).await?);
    }
    baseline.sort_by(f64::total_cmp);

    let sink_stats = || {
        let client = client.clone();
        async move {
            client
                .get(format!("http://127.0.0.1:{sink_port}/stats"))
                .send()
                .await
                .ok()?
                .json::<SinkStats>()
                .await
                .ok()
        }
    };
    let start_ms = now_ms();
    let api_ms = post("bench", bench_token).await?;
    let deadline = Instant::now() + args.wait;
    let mut stats = SinkStats::default();
    let mut peak_rss = 0.0_f64;
    while Instant::now() < deadline {
        if let Some(s) = sink_stats().await {
            stats = s;
        }
        peak_rss = peak_rss.max(peak_rss_mb(worker_pid).unwrap_or(0.0));
        if stats.instances >= live {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A moment for stragglers, so duplicates would show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    if let Some(s) = sink_stats().await {
        stats = s;
    }
    peak_rss = peak_rss.max(peak_rss_mb(worker_pid).unwrap_or(0.0));
    let worker_cpu = cpu_seconds(worker_pid).unwrap_or(0.0);
    let sink_cpu = cpu_seconds(sink.0.id()).unwrap_or(0.0);
    // Reaped before this process stops its Herald, which then is the private Redis's
    // last user and stops it.
    let _ = worker.0.kill();
    let _ = worker.0.wait();
    let _ = stop.send(true);
    let _ = server.await;

    let first_ms = stats
        .first_ms
        .map(|t| t.saturating_sub(start_ms))
        .unwrap_or(0);
    let last_ms = stats
        .last_ms
        .map(|t| t.saturating_sub(start_ms))
        .unwrap_or(0);
    let rate = if last_ms > 0 {
        stats.instances as f64 / (last_ms as f64 / 1000.0)
    } else {
        0.0
    };
    let sign_per_s = sign_rate(1.0)?;
    let all_delivered = stats.instances >= live;
    println!(
        "followers {} on {} servers ({} dead, {} hanging): {} of {live} live servers delivered{}",
        args.followers,
        args.instances,
        (0..args.instances)
            .filter(|k| instance_kind(*k, dead, hang) == "dead")
            .count(),
        (0..args.instances)
            .filter(|k| instance_kind(*k, dead, hang) == "hang")
            .count(),
        stats.instances,
        if all_delivered { "" } else { " (timed out)" }
    );
    println!(
        "API answer: {api_ms:.1} ms with followers; with none: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&baseline, 50.0),
        percentile(&baseline, 99.0)
    );
    println!("first delivery after {first_ms} ms, last after {last_ms} ms: {rate:.0} deliveries/s");
    println!(
        "POSTs per server: at most {} (duplicates {}, refused signatures {})",
        stats.max_per_instance, stats.duplicates, stats.refused
    );
    let per_cpu = if worker_cpu > 0.0 {
        stats.posts as f64 / worker_cpu
    } else {
        0.0
    };
    println!(
        "worker CPU {worker_cpu:.2} s ({per_cpu:.0} deliveries per worker CPU-second), fake inboxes' CPU {sink_cpu:.2} s"
    );
    println!("worker peak RSS {peak_rss:.1} MB; signer {sign_per_s:.0} signatures/s per core");
    println!(
        "{}",
        json!({
            "followers": args.followers,
            "instances": args.instances,
            "live_instances": live,
            "delivered_instances": stats.instances,
            "duplicates": stats.duplicates,
            "max_posts_per_instance": stats.max_per_instance,
            "refused_signatures": stats.refused,
            "api_ms": (api_ms * 10.0).round() / 10.0,
            "api_p50_ms_no_followers": (percentile(&baseline, 50.0) * 10.0).round() / 10.0,
            "api_p99_ms_no_followers": (percentile(&baseline, 99.0) * 10.0).round() / 10.0,
            "first_ms": first_ms,
            "last_ms": last_ms,
            "deliveries_per_s": rate.round(),
            "sign_per_s": sign_per_s.round(),
            "worker_cpu_s": (worker_cpu * 100.0).round() / 100.0,
            "sink_cpu_s": (sink_cpu * 100.0).round() / 100.0,
            "deliveries_per_worker_cpu_s": per_cpu.round(),
            "peak_rss_mb": (peak_rss * 10.0).round() / 10.0,
        })
    );
    if all_delivered {
        Ok(())
    } else {
        Err(BenchError(format!(
            "only {} of {live} live servers got the post",
            stats.instances
        )))
    }
}

//! The benchmark's fake inboxes: one HTTP server standing in for thousands of servers
//! (told apart by the `Host` header: `i42.localhost:PORT`), verifying every request's
//! Digest and HTTP signature against the channel's key before counting it. Instances
//! listed as hanging accept the request and never answer. It runs in a child process
//! (`herald bench sink`), so its CPU and memory are not the worker's.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use openssl::{
    hash::MessageDigest,
    pkey::{PKey, Public},
    sign::Verifier,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    collections::{HashMap, HashSet},
    net::TcpListener,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// What the sink counted, served at `GET /stats`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SinkStats {
    /// Distinct instances (Host headers) that received at least one verified POST.
    pub instances: u64,
    /// Verified POSTs in all.
    pub posts: u64,
    /// POSTs of an activity an instance had already received.
    pub duplicates: u64,
    /// The most POSTs one instance received.
    pub max_per_instance: u64,
    /// POSTs refused: bad digest or signature.
    pub refused: u64,
    /// Unix milliseconds of the first and last verified POST.
    pub first_ms: Option<u64>,
    pub last_ms: Option<u64>,
}

struct Sink {
    key: PKey<Public>,
    hanging: HashSet<String>,
    delay: Duration,
    state: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    per_instance: HashMap<String, u64>,
    seen: HashSet<(String, String)>,
    stats: SinkStats,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// Checks the draft-cavage signature and the Digest of one request.
fn verify(key: &PKey<Public>, request: &HttpRequest, body: &[u8]) -> bool {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let Some(digest) = header("digest") else {
        return false;
    };
    if digest != format!("SHA-256={}", BASE64.encode(Sha256::digest(body))) {
        return false;
    }
    let Some(signature) = header("signature") else {
        return false;
    };
    let field = |name: &str| {
        signature
            .split(',')
            .find_map(|part| part.trim().strip_prefix(&format!("{name}=\"")))
            .and_then(|v| v.strip_suffix('"'))
    };
    let (Some(headers), Some(signed)) = (field("headers"), field("signature")) else {
        return false;
    };
    let mut lines = Vec::new();
    for name in headers.split(' ') {
        if name == "(request-target)" {
            let target = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            lines.push(format!("(request-target): post {target}"));
        } else {
            let Some(value) = header(name) else {
                return false;
            };
            lines.push(format!("{name}: {value}"));
        }
    }
    let Ok(raw) = BASE64.decode(signed) else {
        return false;
    };
    Verifier::new(MessageDigest::sha256(), key)
        .and_then(|mut v| {
            v.update(lines.join("\n").as_bytes())?;
            v.verify(&raw)
        })
        .unwrap_or(false)
}

async fn post_inbox(request: HttpRequest, body: web::Bytes, sink: web::Data<Sink>) -> HttpResponse {
    let host = request
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if sink.hanging.contains(&host) {
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    }
    if !sink.delay.is_zero() {
        tokio::time::sleep(sink.delay).await;
    }
    if !verify(&sink.key, &request, &body) {
        if let Ok(mut counts) = sink.state.lock() {
            counts.stats.refused += 1;
        }
        return HttpResponse::Unauthorized().finish();
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let id = serde_json::from_slice::<Id>(&body)
        .map(|i| i.id)
        .unwrap_or_default();
    let now = now_ms();
    if let Ok(mut counts) = sink.state.lock() {
        let count = counts.per_instance.entry(host.clone()).or_default();
        *count += 1;
        let count = *count;
        let fresh = counts.seen.insert((host, id));
        let stats = &mut counts.stats;
        stats.posts += 1;
        stats.max_per_instance = stats.max_per_instance.max(count);
        if !fresh {
            stats.duplicates += 1;
        }
        stats.first_ms.get_or_insert(now);
        stats.last_ms = Some(now);
    }
    HttpResponse::Accepted().finish()
}

async fn get_stats(sink: web::Data<Sink>) -> HttpResponse {
    let stats = match sink.state.lock() {
        Ok(counts) => SinkStats {
            instances: counts.per_instance.len() as u64,
            ..counts.stats.clone()
        },
        Err(_) => SinkStats::default(),
    };
    HttpResponse::Ok().json(stats)
}

/// The server (to await or spawn) that serves on `listener` until stopped. `hanging` lists the `Host` values that never get
/// an answer; every other answer comes after `delay` (a slow server, for crash tests).
pub fn start(
    listener: TcpListener,
    public_key_pem: &str,
    hanging: HashSet<String>,
    delay: Duration,
) -> std::io::Result<actix_web::dev::Server> {
    let key =
        PKey::public_key_from_pem(public_key_pem.as_bytes()).map_err(std::io::Error::other)?;
    let sink = web::Data::new(Sink {
        key,
        hanging,
        delay,
        state: Mutex::new(Counts::default()),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(sink.clone())
            .app_data(web::PayloadConfig::new(1024 * 1024))
            .route("/inbox", web::post().to(post_inbox))
            .route("/users/{name}/inbox", web::post().to(post_inbox))
            .route("/stats", web::get().to(get_stats))
    })
    .workers(1)
    .backlog(4096)
    .max_connections(100_000)
    .disable_signals()
    .listen(listener)
    .map(|server| server.run())
}

//! A feed server on loopback for the feed-source tests: serves documents the test sets
//! (and changes) at paths, with an `ETag` per version and `304` to a matching
//! `If-None-Match`; counts requests; can answer a status instead; and is a WebSub hub: it
//! records subscriptions, verifies intent at the subscriber's callback, and pushes content
//! signed with the subscriber's `hub.secret`.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Clone)]
struct Document {
    body: Vec<u8>,
    content_type: String,
    version: u64,
}

/// A subscription the hub took.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub callback: String,
    pub topic: String,
    pub secret: String,
    /// What the callback answered to the verification (status, body).
    pub verified: Option<(u16, String)>,
}

#[derive(Default)]
struct Inner {
    documents: HashMap<String, Document>,
    /// Requests per path, and how many were answered 304.
    requests: HashMap<String, (u32, u32)>,
    status: HashMap<String, u16>,
    subscriptions: Vec<Subscription>,
}

#[derive(Clone, Default)]
struct State(Arc<Mutex<Inner>>);

pub struct FeedServer {
    pub base: String,
    state: State,
    _server: actix_web::dev::ServerHandle,
}

async fn serve(request: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let path = request.path().to_string();
    let mut inner = state.0.lock().unwrap();
    let counts = inner.requests.entry(path.clone()).or_default();
    counts.0 += 1;
    if let Some(status) = inner.status.get(&path) {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap())
            .insert_header(("Retry-After", "120"))
            .finish();
    }
    let Some(document) = inner.documents.get(&path).cloned() else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!("\"v{}\"", document.version);
    let matches = request
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str());
    if matches {
        inner.requests.get_mut(&path).unwrap().1 += 1;
        return HttpResponse::NotModified()
            .insert_header(("ETag", etag))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(document.content_type)
        .insert_header(("ETag", etag))
        .body(document.body)
}

async fn hub(form: web::Form<HashMap<String, String>>, state: web::Data<State>) -> HttpResponse {
    let form = form.into_inner();
    let callback = form.get("hub.callback").cloned().unwrap_or_default();
    let topic = form.get("hub.topic").cloned().unwrap_or_default();
    let secret = form.get("hub.secret").cloned().unwrap_or_default();
    let index = {
        let mut inner = state.0.lock().unwrap();
        inner.subscriptions.push(Subscription {
            callback: callback.clone(),
            topic: topic.clone(),
            secret,
            verified: None,
        });
        inner.subscriptions.len() - 1
    };
    // Verification of intent, after answering 202 (as hubs do, asynchronously).
    let state = state.into_inner();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let mut url = url::Url::parse(&callback).unwrap();
        url.query_pairs_mut()
            .append_pair("hub.mode", "subscribe")
            .append_pair("hub.topic", &topic)
            .append_pair("hub.challenge", "a-challenge-of-the-hub")
            .append_pair("hub.lease_seconds", "86400");
        let answer = reqwest::get(url).await.unwrap();
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap_or_default();
        state.0.lock().unwrap().subscriptions[index].verified = Some((status, body));
    });
    HttpResponse::Accepted().finish()
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let state = State::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hub", web::post().to(hub))
                .default_service(web::to(serve))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FeedServer {
            base: format!("http://localhost:{port}"),
            state,
            _server: handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Serves `body` at `path` (a new version: a new ETag).
    pub fn set(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) {
        let mut inner = self.state.0.lock().unwrap();
        let version = inner.documents.get(path).map_or(1, |d| d.version + 1);
        inner.documents.insert(
            path.to_string(),
            Document {
                body: body.into(),
                content_type: content_type.to_string(),
                version,
            },
        );
    }

    /// Answers `status` at `path` (with `Retry-After: 120`), or, with `None`, the document.
    pub fn answer(&self, path: &str, status: Option<u16>) {
        let mut inner = self.state.0.lock().unwrap();
        match status {
            Some(status) => inner.status.insert(path.to_string(), status),
            None => inner.status.remove(path),
        };
    }

    /// (requests, of which 304) at `path`.
    pub fn requests(&self, path: &str) -> (u32, u32) {
        self.state
            .0
            .lock()
            .unwrap()
            .requests
            .get(path)
            .copied()
            .unwrap_or_default()
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.state.0.lock().unwrap().subscriptions.clone()
    }

    /// Pushes `body` to a subscriber as the hub does, signed with its secret (or, with
    /// `signed: false`, with a wrong one); returns the callback's status.
    pub async fn push(&self, subscription: &Subscription, body: &str, signed: bool) -> u16 {
        let secret = if signed {
            subscription.secret.as_str()
        } else {
            "not the secret"
        };
        let key = PKey::hmac(secret.as_bytes()).unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
        signer.update(body.as_bytes()).unwrap();
        let hex: String = signer
            .sign_to_vec()
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        reqwest::Client::new()
            .post(&subscription.callback)
            .header("Content-Type", "application/atom+xml")
            .header("X-Hub-Signature", format!("sha256={hex}"))
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

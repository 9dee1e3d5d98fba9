//! `FakeRemote`: another ActivityPub server on loopback, built on activitypub_federation as
//! an independent implementation. Its actors follow Herald's channels with Follows signed
//! by the federation crate; its inboxes verify Herald's signatures and digests with the
//! federation crate before recording anything; and it can be told to answer 410 or 500, or
//! to hang.

use activitypub_federation::{
    activity_sending::SendActivityTask,
    actix_web::inbox::receive_activity,
    config::{Data, FederationConfig, FederationMiddleware},
    error::Error,
    fetch::webfinger::webfinger_resolve_actor,
    protocol::verification::verify_domains_match,
    traits::{ActivityHandler, Actor, Object},
};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::{
    collections::HashMap,
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};
use url::Url;

/// How the remote's inboxes answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Verify and record (202).
    Accept,
    /// 410 Gone, as for a deleted account.
    Gone,
    /// 500, as for a broken server.
    Fail,
    /// Never answer (until the client gives up).
    Hang,
    /// Answer this status (403, 429 …) without looking at the request.
    Status(u16),
    /// 429 Too Many Requests with `Retry-After: SECONDS`.
    RetryAfter(u64),
}

/// An activity the remote received and verified.
#[derive(Clone, Debug)]
pub struct Received {
    /// The inbox path it arrived at (`/inbox` or `/users/NAME/inbox`).
    pub path: String,
    pub activity: Value,
    /// The `keyId` of the request's signature.
    pub key_id: String,
    pub user_agent: String,
}

#[derive(Clone)]
pub struct RemoteState(Arc<RemoteInner>);

struct RemoteInner {
    base: Url,
    shared_inbox: bool,
    users: Mutex<HashMap<String, LocalUser>>,
    /// Users at other paths than `/users/NAME` (as other softwares lay them out).
    users_by_path: Mutex<HashMap<String, LocalUser>>,
    /// Extra fields of actor documents (`alsoKnownAs` …), by actor id.
    actor_extra: Mutex<HashMap<Url, Map<String, Value>>>,
    peers: Mutex<HashMap<Url, PeerActor>>,
    received: Mutex<Vec<Received>>,
    /// Signature keyIds of the GET requests the remote served (empty string: unsigned).
    fetch_key_ids: Mutex<Vec<String>>,
    mode: Mutex<Mode>,
    /// Requests that reached an inbox, whatever the mode answered.
    inbox_hits: Mutex<u32>,
    /// Inbox requests being handled right now, and the most at once.
    in_flight: Mutex<(u32, u32)>,
    /// How long each inbox request takes to answer.
    delay: Mutex<Duration>,
}

/// One of the remote's own users.
#[derive(Clone, Debug)]
pub struct LocalUser {
    pub id: Url,
    pub inbox: Url,
    pub public_key_pem: String,
    pub private_key_pem: String,
}

pub struct FakeRemote {
    pub state: RemoteState,
    pub config: FederationConfig<RemoteState>,
    pub domain: String,
    handle: actix_web::dev::ServerHandle,
}

impl FakeRemote {
    /// A remote with a shared inbox (Mastodon-like) or without one (GoToSocial-like).
    pub async fn start(shared_inbox: bool) -> FakeRemote {
        FakeRemote::start_at(shared_inbox, "localhost").await
    }

    /// A remote at `host` (`localhost`, or a name under `.localhost`, which Herald's debug
    /// mode resolves to loopback: a domain with a dot, which can be blocked).
    pub async fn start_at(shared_inbox: bool, host: &str) -> FakeRemote {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let domain = format!("{host}:{port}");
        let state = RemoteState(Arc::new(RemoteInner {
            base: Url::parse(&format!("http://{domain}/")).expect("base"),
            shared_inbox,
            users: Mutex::default(),
            users_by_path: Mutex::default(),
            actor_extra: Mutex::default(),
            peers: Mutex::default(),
            received: Mutex::default(),
            fetch_key_ids: Mutex::default(),
            mode: Mutex::new(Mode::Accept),
            inbox_hits: Mutex::new(0),
            in_flight: Mutex::new((0, 0)),
            delay: Mutex::new(Duration::ZERO),
        }));
        let config = FederationConfig::builder()
            .domain(domain.clone())
            .app_data(state.clone())
            .debug(true)
            .http_signature_compat(true)
            .build()
            .await
            .expect("federation config");
        let app_config = config.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(FederationMiddleware::new(app_config.clone()))
                .route("/.well-known/webfinger", web::get().to(get_webfinger))
                .route("/users/{name}", web::get().to(get_user))
                .route("/users/{name}/inbox", web::post().to(post_inbox))
                .route("/inbox", web::post().to(post_inbox))
                .default_service(web::to(by_path))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeRemote {
            state,
            config,
            domain,
            handle,
        }
    }

    pub fn data(&self) -> Data<RemoteState> {
        self.config.to_request_data()
    }

    /// Adds a user `name` with a fresh RSA key.
    pub fn add_user(&self, name: &str) -> LocalUser {
        let (public_key_pem, private_key_pem) =
            herald::delivery::signing::generate_keypair().expect("keypair");
        let base = &self.state.0.base;
        let user = LocalUser {
            id: base.join(&format!("users/{name}")).expect("id"),
            inbox: base.join(&format!("users/{name}/inbox")).expect("inbox"),
            public_key_pem,
            private_key_pem,
        };
        self.state
            .0
            .users
            .lock()
            .expect("lock")
            .insert(name.to_string(), user.clone());
        user
    }

    /// Adds a user whose actor is at `path` (`/u/name`, `/profile/name` …), its inbox at
    /// `PATH/inbox`.
    pub fn add_user_at(&self, path: &str) -> LocalUser {
        let (public_key_pem, private_key_pem) =
            herald::delivery::signing::generate_keypair().expect("keypair");
        let base = &self.state.0.base;
        let user = LocalUser {
            id: base.join(path).expect("id"),
            inbox: base.join(&format!("{path}/inbox")).expect("inbox"),
            public_key_pem,
            private_key_pem,
        };
        self.state
            .0
            .users_by_path
            .lock()
            .expect("lock")
            .insert(user.id.path().to_string(), user.clone());
        user
    }

    /// Gives `user` a new key pair (served from now on), as an account whose key rotated;
    /// returns the user with the new key.
    pub fn rotate_key(&self, user: &LocalUser) -> LocalUser {
        let (public_key_pem, private_key_pem) =
            herald::delivery::signing::generate_keypair().expect("keypair");
        let rotated = LocalUser {
            public_key_pem,
            private_key_pem,
            ..user.clone()
        };
        for map in [&self.state.0.users, &self.state.0.users_by_path] {
            for stored in map.lock().expect("lock").values_mut() {
                if stored.id == user.id {
                    *stored = rotated.clone();
                }
            }
        }
        rotated
    }

    /// Sets `field` of `user`'s actor document (served from now on).
    pub fn set_actor_field(&self, user: &LocalUser, field: &str, value: Value) {
        self.state
            .0
            .actor_extra
            .lock()
            .expect("lock")
            .entry(user.id.clone())
            .or_default()
            .insert(field.to_string(), value);
    }

    /// This remote's base URL (`http://HOST:PORT/`).
    pub fn base(&self) -> &Url {
        &self.state.0.base
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.0.mode.lock().expect("lock") = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.0.received.lock().expect("lock").clone()
    }

    /// Received activities of `kind` (`Create`, `Accept` …).
    pub fn received_of(&self, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.activity["type"] == kind)
            .collect()
    }

    /// Makes every inbox request take `delay` before it is answered.
    pub fn set_delay(&self, delay: Duration) {
        *self.state.0.delay.lock().expect("lock") = delay;
    }

    /// The most inbox requests the remote was handling at once.
    pub fn max_in_flight(&self) -> u32 {
        self.state.0.in_flight.lock().expect("lock").1
    }

    pub fn inbox_hits(&self) -> u32 {
        *self.state.0.inbox_hits.lock().expect("lock")
    }

    pub fn fetch_key_ids(&self) -> Vec<String> {
        self.state.0.fetch_key_ids.lock().expect("lock").clone()
    }

    /// Resolves `acct` (`name@domain`) by WebFinger and fetches the actor, as a remote
    /// server does when its user searches for the handle.
    pub async fn resolve(&self, acct: &str) -> PeerActor {
        webfinger_resolve_actor::<RemoteState, PeerActor>(acct, &self.data())
            .await
            .expect("WebFinger and actor fetch succeed")
    }

    /// Sends `activity` (JSON with `id` and `actor`) from `user` to `inbox`, signed by the
    /// federation crate. The crate hides 4xx answers, so callers check effects instead.
    pub async fn send(&self, user: &LocalUser, activity: Value, inbox: &Url) {
        let activity: AnyActivity = serde_json::from_value(activity).expect("activity shape");
        let data = self.data();
        let tasks = SendActivityTask::prepare(&activity, user, vec![inbox.clone()], &data)
            .await
            .expect("prepare");
        for task in tasks {
            task.sign_and_send(&data).await.expect("sent");
        }
    }

    /// A Follow of `actor` by `user`.
    pub fn follow(&self, user: &LocalUser, actor: &Url) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.state.0.base.join(&format!("follows/{}", uuid::Uuid::now_v7())).expect("id"),
            "type": "Follow",
            "actor": user.id,
            "object": actor,
        })
    }

    /// An Undo of `follow` by its actor.
    pub fn undo(&self, user: &LocalUser, follow: &Value) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/undo", follow["id"].as_str().expect("follow id")),
            "type": "Undo",
            "actor": user.id,
            "object": follow,
        })
    }
}

impl Drop for FakeRemote {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

fn key_id(request: &HttpRequest) -> String {
    request
        .headers()
        .get("Signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("keyId=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .unwrap_or_default()
        .to_string()
}

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: String,
}

/// WebFinger for the remote's users, so Herald can resolve `@name@domain` mentions.
async fn get_webfinger(query: web::Query<WebfingerQuery>, data: Data<RemoteState>) -> HttpResponse {
    let acct = query.resource.trim_start_matches("acct:");
    let Some((name, _)) = acct.split_once('@') else {
        return HttpResponse::BadRequest().finish();
    };
    let Some(user) = data.0.users.lock().expect("lock").get(name).cloned() else {
        return HttpResponse::NotFound().finish();
    };
    HttpResponse::Ok()
        .content_type("application/jrd+json")
        .json(json!({
            "subject": format!("acct:{acct}"),
            "links": [
                { "rel": "self", "type": "application/activity+json", "href": user.id },
                {
                    "rel": "http://ostatus.org/schema/1.0/subscribe",
                    "template": format!("{}share/follow?uri={{uri}}", data.0.base),
                },
            ],
        }))
}

async fn get_user(
    name: web::Path<String>,
    request: HttpRequest,
    data: Data<RemoteState>,
) -> HttpResponse {
    data.0
        .fetch_key_ids
        .lock()
        .expect("lock")
        .push(key_id(&request));
    let Some(user) = data
        .0
        .users
        .lock()
        .expect("lock")
        .get(name.as_str())
        .cloned()
    else {
        return HttpResponse::NotFound().finish();
    };
    actor_response(&data, &user, &name)
}

/// Actors at other paths (GET) and their inboxes (POST).
async fn by_path(request: HttpRequest, body: web::Bytes, data: Data<RemoteState>) -> HttpResponse {
    let path = request.path().to_string();
    if request.method() == actix_web::http::Method::POST && path.ends_with("/inbox") {
        return post_inbox(request, body, data).await;
    }
    data.0
        .fetch_key_ids
        .lock()
        .expect("lock")
        .push(key_id(&request));
    // A stand-alone key document at `ACTOR/main-key`, as GoToSocial serves.
    if let Some(owner) = path.strip_suffix("/main-key") {
        let users = data.0.users.lock().expect("lock");
        let by_path = data.0.users_by_path.lock().expect("lock");
        let Some(user) = users
            .values()
            .chain(by_path.values())
            .find(|u| u.id.path() == owner)
        else {
            return HttpResponse::NotFound().finish();
        };
        return HttpResponse::Ok()
            .content_type("application/activity+json")
            .json(json!({
                "@context": "https://w3id.org/security/v1",
                "id": format!("{}/main-key", user.id),
                "owner": user.id,
                "publicKeyPem": user.public_key_pem,
            }));
    }
    let Some(user) = data
        .0
        .users_by_path
        .lock()
        .expect("lock")
        .get(&path)
        .cloned()
    else {
        return HttpResponse::NotFound().finish();
    };
    let name = path.rsplit('/').next().unwrap_or("user").to_string();
    actor_response(&data, &user, &name)
}

fn actor_response(data: &Data<RemoteState>, user: &LocalUser, name: &str) -> HttpResponse {
    let mut actor = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": user.id,
        "type": "Person",
        "preferredUsername": name,
        "inbox": user.inbox,
        "publicKey": {
            "id": format!("{}#main-key", user.id),
            "owner": user.id,
            "publicKeyPem": user.public_key_pem,
        },
    });
    if data.0.shared_inbox {
        actor["endpoints"] = json!({ "sharedInbox": data.0.base.join("inbox").expect("inbox") });
    }
    if let Some(extra) = data.0.actor_extra.lock().expect("lock").get(&user.id) {
        for (key, value) in extra {
            actor[key] = value.clone();
        }
    }
    HttpResponse::Ok()
        .content_type("application/activity+json")
        .json(actor)
}

async fn post_inbox(
    request: HttpRequest,
    body: web::Bytes,
    data: Data<RemoteState>,
) -> HttpResponse {
    *data.0.inbox_hits.lock().expect("lock") += 1;
    {
        let mut in_flight = data.0.in_flight.lock().expect("lock");
        in_flight.0 += 1;
        in_flight.1 = in_flight.1.max(in_flight.0);
    }
    let delay = *data.0.delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    let response = handle_inbox(request, body, &data).await;
    data.0.in_flight.lock().expect("lock").0 -= 1;
    response
}

async fn handle_inbox(
    request: HttpRequest,
    body: web::Bytes,
    data: &Data<RemoteState>,
) -> HttpResponse {
    let mode = *data.0.mode.lock().expect("lock");
    match mode {
        Mode::Accept => {}
        Mode::Gone => return HttpResponse::Gone().finish(),
        Mode::Fail => return HttpResponse::InternalServerError().finish(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return HttpResponse::Ok().finish();
        }
        Mode::Status(status) => {
            let status = actix_web::http::StatusCode::from_u16(status).expect("status");
            return HttpResponse::build(status).finish();
        }
        Mode::RetryAfter(seconds) => {
            return HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", seconds.to_string()))
                .finish();
        }
    }
    let activity: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = request.path().to_string();
    let key_id = key_id(&request);
    let user_agent = request
        .headers()
        .get("User-Agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // The federation crate checks the Digest and the signature against the sender's
    // actor, which it fetches from Herald, before `receive` records anything.
    match receive_activity::<AnyActivity, PeerActor, RemoteState>(request, body, data).await {
        Ok(_) => {
            data.0.received.lock().expect("lock").push(Received {
                path,
                activity,
                key_id,
                user_agent,
            });
            HttpResponse::Accepted().finish()
        }
        Err(e) => {
            eprintln!("fake remote refused an activity: {e}");
            HttpResponse::Unauthorized().body(e.to_string())
        }
    }
}

/// An actor on another server (Herald's channels, from the remote's side).
#[derive(Clone, Debug)]
pub struct PeerActor {
    pub id: Url,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    pub public_key_pem: String,
    pub json: Value,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerActorJson {
    id: Url,
    inbox: Url,
    #[serde(default)]
    endpoints: Option<Value>,
    public_key: PeerKey,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct PeerKey {
    id: String,
    owner: Url,
    public_key_pem: String,
}

#[async_trait]
impl Object for PeerActor {
    type DataType = RemoteState;
    type Kind = PeerActorJson;
    type Error = Error;

    async fn read_from_id(id: Url, data: &Data<RemoteState>) -> Result<Option<Self>, Error> {
        Ok(data.0.peers.lock().expect("lock").get(&id).cloned())
    }

    async fn into_json(self, _data: &Data<RemoteState>) -> Result<PeerActorJson, Error> {
        Err(Error::NotFound)
    }

    async fn verify(
        json: &PeerActorJson,
        expected: &Url,
        _data: &Data<RemoteState>,
    ) -> Result<(), Error> {
        verify_domains_match(&json.id, expected)?;
        if json.public_key.owner != json.id {
            return Err(Error::Other("key owner mismatch".into()));
        }
        Ok(())
    }

    async fn from_json(json: PeerActorJson, data: &Data<RemoteState>) -> Result<Self, Error> {
        let shared_inbox = json
            .endpoints
            .as_ref()
            .and_then(|e| e["sharedInbox"].as_str())
            .and_then(|s| Url::parse(s).ok());
        let actor = PeerActor {
            id: json.id.clone(),
            inbox: json.inbox.clone(),
            shared_inbox,
            public_key_pem: json.public_key.public_key_pem.clone(),
            json: serde_json::to_value(&json).map_err(|e| Error::Other(e.to_string()))?,
        };
        data.0
            .peers
            .lock()
            .expect("lock")
            .insert(actor.id.clone(), actor.clone());
        Ok(actor)
    }
}

impl Actor for PeerActor {
    fn id(&self) -> Url {
        self.id.clone()
    }
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }
    fn private_key_pem(&self) -> Option<String> {
        None
    }
    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

#[async_trait]
impl Object for LocalUser {
    type DataType = RemoteState;
    type Kind = Value;
    type Error = Error;

    async fn read_from_id(_id: Url, _data: &Data<RemoteState>) -> Result<Option<Self>, Error> {
        Ok(None)
    }
    async fn into_json(self, _data: &Data<RemoteState>) -> Result<Value, Error> {
        Err(Error::NotFound)
    }
    async fn verify(
        _json: &Value,
        _expected: &Url,
        _data: &Data<RemoteState>,
    ) -> Result<(), Error> {
        Err(Error::NotFound)
    }
    async fn from_json(_json: Value, _data: &Data<RemoteState>) -> Result<Self, Error> {
        Err(Error::NotFound)
    }
}

impl Actor for LocalUser {
    fn id(&self) -> Url {
        self.id.clone()
    }
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }
    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_key_pem.clone())
    }
    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

/// Any activity, kept whole.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AnyActivity {
    id: Url,
    actor: Url,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[async_trait]
impl ActivityHandler for AnyActivity {
    type DataType = RemoteState;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }
    fn actor(&self) -> &Url {
        &self.actor
    }
    async fn verify(&self, _data: &Data<RemoteState>) -> Result<(), Error> {
        Ok(())
    }
    async fn receive(self, _data: &Data<RemoteState>) -> Result<(), Error> {
        Ok(())
    }
}

/// How [`FakeRemote::post_signed`] spoils a request, to test refusals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// A correct request.
    Nothing,
    /// Digest but no Signature header.
    Unsigned,
    /// Signed, but without a Digest header.
    NoDigest,
    /// Signed with a key that is not the actor's.
    WrongKey,
    /// A Digest (signed) that does not match the body.
    WrongDigest,
}

/// Forged details of a signed request, for [`FakeRemote::post_forged`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Forgery<'a> {
    /// Sign with this user's key and key id instead (a key of another actor).
    pub signer: Option<&'a LocalUser>,
    /// The `Date` header and signed date.
    pub date: Option<std::time::SystemTime>,
    /// The body actually sent, after signing the other one.
    pub sent_body: Option<&'a str>,
    /// The `keyId` (default: `SIGNER#main-key`).
    pub key_id: Option<&'a str>,
    /// Sign as RFC 9421 (`Signature-Input`, `Content-Digest`) instead of draft-cavage, as
    /// Mastodon 4.5 and Fedify-based servers do.
    pub rfc9421: bool,
}

impl FakeRemote {
    /// POSTs `body` to `inbox` as `user`, signed with Herald's own signer (so the answer
    /// is visible, unlike the federation crate's sender), spoiled as `tamper` says.
    pub async fn post_signed(
        &self,
        user: &LocalUser,
        inbox: &Url,
        body: &str,
        tamper: Tamper,
    ) -> (u16, Value) {
        self.post_request(user, inbox, body, tamper, Forgery::default(), None)
            .await
    }

    /// Sends `activity` from `user` to `inbox`, signed for `inbox`'s host, over a
    /// connection to `connect` instead: one of several web processes that answer as the
    /// same instance, as behind a load balancer. Returns the status.
    pub async fn send_via(
        &self,
        user: &LocalUser,
        activity: &Value,
        inbox: &Url,
        connect: std::net::SocketAddr,
    ) -> u16 {
        let body = activity.to_string();
        let forgery = Forgery::default();
        self.post_request(user, inbox, &body, Tamper::Nothing, forgery, Some(connect))
            .await
            .0
    }

    /// POSTs `body` as `user`, forged as `forgery` says.
    pub async fn post_forged(
        &self,
        user: &LocalUser,
        inbox: &Url,
        body: &str,
        forgery: Forgery<'_>,
    ) -> (u16, Value) {
        self.post_request(user, inbox, body, Tamper::Nothing, forgery, None)
            .await
    }

    /// `connect`: the address to send to instead of `inbox`'s host (which the request
    /// still names in `Host` and signs).
    async fn post_request(
        &self,
        user: &LocalUser,
        inbox: &Url,
        body: &str,
        tamper: Tamper,
        forgery: Forgery<'_>,
        connect: Option<std::net::SocketAddr>,
    ) -> (u16, Value) {
        use herald::delivery::signing;
        let signer = forgery.signer.unwrap_or(user);
        let digest = if tamper == Tamper::WrongDigest {
            signing::digest_header(b"another body")
        } else {
            signing::digest_header(body.as_bytes())
        };
        let host = match inbox.port() {
            Some(port) => format!("{}:{port}", inbox.host_str().unwrap_or_default()),
            None => inbox.host_str().unwrap_or_default().to_string(),
        };
        let date = httpdate::fmt_http_date(forgery.date.unwrap_or_else(std::time::SystemTime::now));
        let text = signing::signing_string("post", inbox, &host, &date, &digest);
        let pem = if tamper == Tamper::WrongKey {
            signing::generate_keypair().expect("keypair").1
        } else {
            signer.private_key_pem.clone()
        };
        let key = openssl::pkey::PKey::private_key_from_pem(pem.as_bytes()).expect("key");
        let key_id = forgery
            .key_id
            .map_or_else(|| format!("{}#main-key", signer.id), str::to_string);
        let signature = signing::signature_header(&key, &key_id, &text).expect("sign");
        if forgery.rfc9421 {
            use base64::Engine;
            let base64 = base64::engine::general_purpose::STANDARD;
            let digest = {
                use sha2::Digest;
                format!(
                    "sha-256=:{}:",
                    base64.encode(sha2::Sha256::digest(body.as_bytes()))
                )
            };
            let created = chrono::Utc::now().timestamp();
            let params = format!(
                "(\"@method\" \"@target-uri\" \"content-digest\");created={created};keyid=\"{key_id}\";alg=\"rsa-v1_5-sha256\""
            );
            let base = format!(
                "\"@method\": POST\n\"@target-uri\": {inbox}\n\"content-digest\": {digest}\n\"@signature-params\": {params}"
            );
            let mut signer =
                openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key)
                    .expect("signer");
            signer.update(base.as_bytes()).expect("sign");
            let signed = base64.encode(signer.sign_to_vec().expect("sign"));
            let response = reqwest::Client::new()
                .post(inbox.clone())
                .header("Content-Type", "application/activity+json")
                .header("Content-Digest", digest)
                .header("Signature-Input", format!("sig1={params}"))
                .header("Signature", format!("sig1=:{signed}:"))
                .body(forgery.sent_body.unwrap_or(body).to_string())
                .send()
                .await
                .expect("Herald answers");
            let status = response.status().as_u16();
            return (status, response.json().await.unwrap_or(Value::Null));
        }
        let target = match connect {
            Some(address) => {
                let mut target = inbox.clone();
                target.set_ip_host(address.ip()).expect("IP host");
                target.set_port(Some(address.port())).expect("port");
                target
            }
            None => inbox.clone(),
        };
        let mut request = reqwest::Client::new()
            .post(target)
            .header("Date", date)
            .header("Content-Type", "application/activity+json")
            .body(forgery.sent_body.unwrap_or(body).to_string());
        if connect.is_some() {
            request = request.header("Host", &host);
        }
        if tamper != Tamper::NoDigest {
            request = request.header("Digest", digest);
        }
        if tamper != Tamper::Unsigned {
            request = request.header("Signature", signature);
        }
        let response = request.send().await.expect("Herald answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

impl FakeRemote {
    /// GETs `url` as ActivityPub JSON, signed by `user` (cavage, `(request-target) host
    /// date`, as Mastodon signs fetches in authorized-fetch mode); returns the status.
    pub async fn get_signed(&self, user: &LocalUser, url: &Url) -> u16 {
        use base64::Engine;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let text = format!(
            "(request-target): get {}\nhost: {host}\ndate: {date}",
            url.path()
        );
        let key = openssl::pkey::PKey::private_key_from_pem(user.private_key_pem.as_bytes())
            .expect("key");
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key)
            .expect("signer");
        signer.update(text.as_bytes()).expect("sign");
        let signature =
            base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().expect("sign"));
        let header = format!(
            "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{signature}\"",
            user.id
        );
        reqwest::Client::new()
            .get(url.clone())
            .header("Accept", "application/activity+json")
            .header("Date", date)
            .header("Signature", header)
            .send()
            .await
            .expect("Herald answers")
            .status()
            .as_u16()
    }
}

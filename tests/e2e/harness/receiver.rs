//! A webhook receiver on loopback: records every request (headers and body) and answers
//! with the status the test sets (200 by default).

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::{
    atomic::{AtomicU16, Ordering},
    Arc, Mutex,
};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Got {
    /// Lower-case header names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Clone, Default)]
struct State {
    got: Arc<Mutex<Vec<Got>>>,
    status: Arc<AtomicU16>,
}

pub struct Receiver {
    pub url: String,
    state: State,
    _server: actix_web::dev::ServerHandle,
}

async fn receive(request: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    state.got.lock().unwrap().push(Got {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let status = state.status.load(Ordering::SeqCst);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = State::default();
        state.status.store(200, Ordering::SeqCst);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://localhost:{port}/hooks/herald"),
            state,
            _server: handle,
        }
    }

    /// What arrived so far.
    pub fn got(&self) -> Vec<Got> {
        self.state.got.lock().unwrap().clone()
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }
}

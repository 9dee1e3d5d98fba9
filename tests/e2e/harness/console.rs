//! A browser's side of the console, without a browser: a client that keeps the session
//! cookie it is given (for `/console` only, as a browser would), reads the CSRF token from
//! pages, and sends forms; and helpers that make a person with a role and their token.

use super::TestInstance;
use herald::{
    api::Scope,
    db::{self, Channel, Role, User},
    people,
};
use reqwest::{header, redirect::Policy, StatusCode};

/// A password long enough for the console.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestInstance {
    /// A person with `PASSWORD` and `role` in `channel` (made through the service, as the
    /// CLI and the console make them).
    pub async fn person(&self, email: &str, name: &str, channel: &Channel, role: Role) -> User {
        let db = &self.state().db;
        let user = match db::user_by_email(db, email).await {
            Ok(user) => user,
            Err(_) => people::create_user(db, email, name, Some(PASSWORD))
                .await
                .expect("person created"),
        };
        people::grant(db, &db::Actor::CommandLine, channel, &user, role)
            .await
            .expect("role granted");
        user
    }

    /// A personal token of `user` for `channel`, with every scope.
    pub async fn person_token(&self, channel: &Channel, user: &User) -> String {
        self.herald
            .token_keys
            .issue(
                &self.state().db,
                channel,
                &Scope::ALL,
                None,
                Some(user),
                None,
            )
            .await
            .expect("token issued")
            .0
    }

    /// A console client, not signed in.
    pub fn console(&self) -> Console {
        Console {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }
}

/// An answer: status, `Set-Cookie` and `Location` headers, body.
pub struct Page {
    pub status: StatusCode,
    pub set_cookie: Option<String>,
    pub location: Option<String>,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The CSRF token in the page's forms.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .expect("the page has a form with a CSRF token")
            + marker.len();
        let end = self.body[start..].find('"').expect("the token ends") + start;
        self.body[start..end].to_string()
    }
}

pub struct Console {
    base: String,
    client: reqwest::Client,
    /// The session cookie (`name=value`).
    pub cookie: Option<String>,
}

impl Console {
    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let set_cookie = headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(set) = &set_cookie {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Page {
            status,
            set_cookie,
            location,
            headers,
            body: response.text().await.expect("body"),
        }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(cookie) => request.header(header::COOKIE, cookie),
            None => request,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.with_cookie(self.client.get(format!("{}{path}", self.base)));
        let response = request.send().await.expect("console answers");
        self.read(response).await
    }

    /// POSTs a urlencoded form.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.with_cookie(self.client.post(format!("{}{path}", self.base)).form(form));
        let response = request.send().await.expect("console answers");
        self.read(response).await
    }

    /// POSTs a multipart form.
    pub async fn post_multipart(&mut self, path: &str, form: reqwest::multipart::Form) -> Page {
        let request = self.with_cookie(
            self.client
                .post(format!("{}{path}", self.base))
                .multipart(form),
        );
        let response = request.send().await.expect("console answers");
        self.read(response).await
    }

    /// Signs in with `PASSWORD`, asserting it works.
    pub async fn sign_in(&mut self, email: &str) -> Page {
        let page = self
            .post(
                "/console/sign-in",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(self.cookie.is_some(), "a session cookie is set");
        page
    }

    /// The CSRF token of the signed-in session (from the console's home page).
    pub async fn csrf(&mut self) -> String {
        self.get("/console").await.csrf()
    }
}

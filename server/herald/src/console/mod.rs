//! The team console under `/console`: people sign in with a password and post, schedule,
//! check delivery, read replies and reports, answer follow requests, edit the profile and
//! manage people and tokens, each as their role in the channel allows. Server-rendered
//! like the public pages, no scripts, nothing from another origin, a strict
//! Content-Security-Policy.
//!
//! The session cookie is a random secret (only its hash is stored) set on `/console`
//! paths alone (`Path=/console; HttpOnly; SameSite=Strict`, `Secure` outside debug): public
//! pages, feeds and ActivityPub answers still set and read no cookie. Every form carries
//! the session's CSRF token, checked before anything changes; every action checks the
//! person's role on the server.
//!
//! An entry point: calls the services (`people`, `posts`, `moderation`), `db` and the
//! API's media and token helpers; it shares the post lifecycle with every other way in.

mod compose;
mod followers;
mod home;
mod layout;
mod posts;
mod profile;
mod sign_in;
mod team;

use crate::{
    db::{self, Actor, Channel, DbError, Role, Session, User},
    people,
    secrets::same_secret,
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{
    dev::Payload,
    http::{header, StatusCode},
    web, FromRequest, HttpRequest, HttpResponse, ResponseError,
};
use futures::future::LocalBoxFuture;

/// The session cookie's name.
pub const COOKIE: &str = "herald_console";

/// The largest form without files.
const TEXT_LIMIT: usize = 256 * 1024;

/// The console's one script (the composer's live preview), built in, at a versioned path.
const SCRIPT: &str = include_str!("static/console.js");
pub(crate) const SCRIPT_PATH: &str =
    concat!("/console/static/console-", env!("CARGO_PKG_VERSION"), ".js");

async fn get_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(SCRIPT)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .route("", web::get().to(home::home))
            .route("/", web::get().to(home::home))
            .route("/sign-in", web::get().to(sign_in::page))
            .route("/sign-in", web::post().to(sign_in::submit))
            .route("/sign-out", web::post().to(sign_in::sign_out))
            .route("/welcome/{secret}", web::get().to(sign_in::welcome_page))
            .route("/welcome/{secret}", web::post().to(sign_in::welcome_submit))
            .route("/channels/{name}", web::get().to(posts::channel_page))
            .route(
                SCRIPT_PATH.trim_start_matches("/console"),
                web::get().to(get_script),
            )
            .route("/channels/{name}/compose", web::post().to(compose::compose))
            .route(
                "/channels/{name}/preview",
                web::post().to(compose::live_preview),
            )
            .route(
                "/channels/{name}/posts/{id}",
                web::get().to(posts::post_page),
            )
            .route(
                "/channels/{name}/posts/{id}/edit",
                web::post().to(posts::edit),
            )
            .route(
                "/channels/{name}/posts/{id}/delete",
                web::post().to(posts::delete),
            )
            .route(
                "/channels/{name}/posts/{id}/pin",
                web::post().to(posts::pin),
            )
            .route("/channels/{name}/inbox", web::get().to(home::inbox))
            .route(
                "/channels/{name}/followers",
                web::get().to(followers::followers),
            )
            .route(
                "/channels/{name}/followers/{id}",
                web::post().to(followers::answer_follower),
            )
            .route(
                "/channels/{name}/profile",
                web::get().to(profile::profile_page),
            )
            .route(
                "/channels/{name}/profile",
                web::post().to(profile::profile_submit),
            )
            .route("/channels/{name}/people", web::get().to(team::people))
            .route(
                "/channels/{name}/people",
                web::post().to(team::people_submit),
            )
            .route("/channels/{name}/tokens", web::get().to(team::tokens))
            .route(
                "/channels/{name}/tokens",
                web::post().to(team::tokens_submit),
            )
            .route("/channels/{name}/audit", web::get().to(home::audit))
            .default_service(web::to(|| async {
                ConsoleError::NotFound.error_response()
            })),
    );
}

/// What a console request can end in besides its page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No (live) session: to the sign-in page.
    #[error("sign in first")]
    SignInNeeded,
    /// The person's role does not allow this (403 page).
    #[error("{0}")]
    Forbidden(String),
    /// A form without the session's CSRF token (403, nothing changed).
    #[error("this form is out of date or did not come from the console; nothing was changed. Go back, reload the page and try again")]
    Csrf,
    #[error("there is nothing here")]
    NotFound,
    /// A form that could not be read (400), or over its size limit (413).
    #[error("{1}")]
    BadForm(StatusCode, String),
    #[error("an internal error occurred")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ConsoleError {
    pub(crate) fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ConsoleError {
        ConsoleError::Internal(Box::new(e))
    }
}

impl From<crate::form::FormError> for ConsoleError {
    fn from(err: crate::form::FormError) -> Self {
        match err {
            crate::form::FormError::TooLarge { message, .. } => {
                ConsoleError::BadForm(StatusCode::PAYLOAD_TOO_LARGE, message)
            }
            crate::form::FormError::Invalid(message) => {
                ConsoleError::BadForm(StatusCode::BAD_REQUEST, message)
            }
        }
    }
}

impl From<DbError> for ConsoleError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => ConsoleError::NotFound,
            other => ConsoleError::Internal(Box::new(other)),
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignInNeeded => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden(_) | ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::NotFound => StatusCode::NOT_FOUND,
            ConsoleError::BadForm(status, _) => *status,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignInNeeded => redirect("/console/sign-in"),
            ConsoleError::Internal(err) => {
                tracing::error!(error = %crate::error_chain(err.as_ref()), "console request failed");
                layout::message(
                    self.status_code(),
                    "Something went wrong",
                    &self.to_string(),
                )
            }
            ConsoleError::Forbidden(_) => {
                layout::message(self.status_code(), "Not allowed", &self.to_string())
            }
            ConsoleError::Csrf | ConsoleError::BadForm(..) => {
                layout::message(self.status_code(), "Not sent", &self.to_string())
            }
            ConsoleError::NotFound => {
                layout::message(self.status_code(), "Not found", "There is nothing here.")
            }
        }
    }
}

/// A `303 See Other` to `to` (after a form, so a reload does not send it again).
pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The session cookie's value in `request`, if any.
fn session_cookie(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value that starts a session (for `console.session_hours`, as the
/// session on the server) or, with `None`, ends it.
fn set_cookie(data: &HeraldState, value: Option<&str>) -> String {
    let secure = if data.config.debug { "" } else { "; Secure" };
    match value {
        Some(value) => {
            let max_age = data.config.console.session_ttl.as_secs();
            format!("{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
        }
        None => format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// A signed-in person: the extractor every console page but sign-in takes. Without a
/// live session the request goes to the sign-in page.
pub struct Visitor {
    pub user: User,
    pub session: Session,
    cookie: String,
}

impl Visitor {
    pub fn actor(&self) -> Actor {
        Actor::Person(self.user.clone())
    }

    /// Refuses (403, nothing changed) a form whose `csrf` field is not this session's.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), ConsoleError> {
        match sent {
            Some(sent) if same_secret(sent, &self.session.csrf) => Ok(()),
            _ => Err(ConsoleError::Csrf),
        }
    }

    /// A text form about channel `name`: the channel and this person's role there (which
    /// must include `needed`), and the form, once its CSRF token is this session's.
    pub(crate) async fn channel_form(
        &self,
        data: &HeraldState,
        request: &HttpRequest,
        payload: web::Payload,
        name: &str,
        needed: Role,
    ) -> Result<(Channel, Role, crate::form::Form), ConsoleError> {
        let (channel, role) = self.member(data, name, needed).await?;
        let form = sign_in::text_form(request, payload).await?;
        self.check_csrf(form.get("csrf"))?;
        Ok((channel, role, form))
    }

    /// The channel `name` and this person's role in it, if it allows `needed`: else 404
    /// (no role: the channel is not theirs to see) or 403.
    pub async fn member(
        &self,
        data: &HeraldState,
        name: &str,
        needed: Role,
    ) -> Result<(Channel, Role), ConsoleError> {
        let channel = db::channel_by_name(&data.db, name).await?;
        let role = db::role_of(&data.db, channel.id, self.user.id)
            .await?
            .ok_or(ConsoleError::NotFound)?;
        if !role.includes(needed) {
            return Err(ConsoleError::Forbidden(format!(
                "This needs the {needed} role in {}; you are {role}. Ask one of its owners.",
                channel.name
            )));
        }
        Ok((channel, role))
    }
}

impl FromRequest for Visitor {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let cookie = session_cookie(&request).ok_or(ConsoleError::SignInNeeded)?;
            let data = Data::<HeraldState>::extract(&request)
                .await
                .map_err(|e| ConsoleError::Internal(e.to_string().into()))?;
            let (user, session) = people::session_user(&data, &cookie)
                .await?
                .ok_or(ConsoleError::SignInNeeded)?;
            Ok(Visitor {
                user,
                session,
                cookie,
            })
        })
    }
}

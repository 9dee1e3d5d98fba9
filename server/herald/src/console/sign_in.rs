//! Signing in and out, and the one-time welcome link where a new person (or one who
//! forgot their password) chooses a password.

use super::{layout, redirect, set_cookie, ConsoleError, Visitor, TEXT_LIMIT};
use crate::{
    db::{self, DbError},
    form,
    people::{self, SignInError, SignedIn, MIN_PASSWORD_CHARS},
    secrets::sha256_hex,
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use maud::{html, Markup};

/// Reads a text-only console form.
pub(super) async fn text_form(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<form::Form, ConsoleError> {
    Ok(form::read(request, payload, &[], 0, TEXT_LIMIT).await?)
}

/// Refuses a form posted from another site: the sign-in forms have no session, hence no
/// CSRF token, to check. Browsers say where a request came from in `Sec-Fetch-Site`; the
/// `Origin` header, where it names one (the pages' `no-referrer` policy makes Chromium send
/// `null`), must be this instance's.
fn same_origin(request: &HttpRequest, data: &HeraldState) -> Result<(), ConsoleError> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    if matches!(header("sec-fetch-site"), Some("cross-site" | "same-site")) {
        return Err(ConsoleError::Csrf);
    }
    match header("origin") {
        Some(origin) if origin != "null" && origin != data.config.base_url() => {
            Err(ConsoleError::Csrf)
        }
        _ => Ok(()),
    }
}

fn sign_in_form(email: &str, problem: Option<&str>) -> Markup {
    html! {
        h1 { "Sign in" }
        form.console-form method="post" action="/console/sign-in" {
            (layout::problem("sign-in-problem", problem))
            label for="email" { "Email" }
            @if problem.is_some() {
                input #email type="email" name="email" value=(email) autocomplete="username" required
                    aria-invalid="true" aria-describedby="sign-in-problem";
            } @else {
                input #email type="email" name="email" value=(email) autocomplete="username" required;
            }
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p.console-hint { "No account yet, or a forgotten password? The operator prints you a sign-in link with "
            code { "herald user create" } " or " code { "herald user link" } "." }
    }
}

/// The address a sign-in attempt came from, for its per-client limit: the peer's, or, when
/// the peer is a proxy on this machine or the private network, the last address that
/// proxy added to `X-Forwarded-For` (the one a client cannot forge).
fn client_address(request: &HttpRequest) -> Option<String> {
    let peer = request.peer_addr()?.ip();
    let proxied = match peer {
        std::net::IpAddr::V4(ip) => ip.is_loopback() || ip.is_private(),
        std::net::IpAddr::V6(ip) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
    };
    if proxied {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .last();
        if let Some(forwarded) = forwarded {
            return Some(forwarded.to_string());
        }
    }
    Some(peer.to_string())
}

/// A page for someone not signed in.
fn anonymous_page(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    layout::frame(
        status,
        title,
        html! { main.console.console-narrow { (body) } },
    )
}

/// `GET /console/sign-in`.
pub async fn page(
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(cookie) = super::session_cookie(&request) {
        if people::session_user(&data, &cookie).await?.is_some() {
            return Ok(redirect("/console"));
        }
    }
    Ok(anonymous_page(
        StatusCode::OK,
        "Sign in",
        sign_in_form("", None),
    ))
}

fn signed_in(data: &HeraldState, signed: &SignedIn) -> HttpResponse {
    let mut response = redirect("/console");
    if let Ok(value) = header::HeaderValue::from_str(&set_cookie(data, Some(&signed.cookie))) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /console/sign-in`: the same answer for an unknown email and a wrong password,
/// after the same delay.
pub async fn submit(
    request: HttpRequest,
    payload: web::Payload,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    same_origin(&request, &data)?;
    let form = text_form(&request, payload).await?;
    let email = form.get("email").unwrap_or_default().trim().to_string();
    let password = form.get("password").unwrap_or_default();
    let client = client_address(&request);
    match people::sign_in(&data, &email, password, client.as_deref()).await {
        Ok(signed) => Ok(signed_in(&data, &signed)),
        Err(SignInError::Failed(e)) => Err(ConsoleError::Internal(Box::new(e))),
        Err(e) => {
            let status = match e {
                SignInError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            Ok(anonymous_page(
                status,
                "Sign in",
                sign_in_form(&email, Some(&e.to_string())),
            ))
        }
    }
}

/// `POST /console/sign-out`.
pub async fn sign_out(
    request: HttpRequest,
    payload: web::Payload,
    visitor: Visitor,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let form = text_form(&request, payload).await?;
    visitor.check_csrf(form.get("csrf"))?;
    people::sign_out(&data, &visitor.cookie).await?;
    let mut response = redirect("/console/sign-in");
    if let Ok(value) = header::HeaderValue::from_str(&set_cookie(&data, None)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn welcome_form(secret: &str, name: &str, problem: Option<&str>) -> Markup {
    html! {
        h1 { "Welcome, " (name) }
        p { "Choose a password (at least " (MIN_PASSWORD_CHARS) " characters). This link works once." }
        form.console-form method="post" action=(format!("/console/welcome/{secret}")) {
            (layout::problem("welcome-problem", problem))
            label for="password" { "New password" }
            input #password type="password" name="password" autocomplete="new-password" required
                minlength=(MIN_PASSWORD_CHARS) aria-describedby="welcome-problem";
            label for="again" { "The same again" }
            input #again type="password" name="again" autocomplete="new-password" required;
            button type="submit" { "Set password and sign in" }
        }
    }
}

fn link_invalid() -> HttpResponse {
    layout::message(
        StatusCode::NOT_FOUND,
        "Link not valid",
        &SignInError::LinkInvalid.to_string(),
    )
}

/// `GET /console/welcome/{secret}`.
pub async fn welcome_page(
    path: web::Path<String>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    let secret = path.into_inner();
    let user = match db::sign_in_link_user(&data.db, &sha256_hex(&secret), false).await {
        Ok(user) => user,
        Err(DbError::NotFound) => return Ok(link_invalid()),
        Err(e) => return Err(e.into()),
    };
    Ok(anonymous_page(
        StatusCode::OK,
        "Welcome",
        welcome_form(&secret, &user.display_name, None),
    ))
}

/// `POST /console/welcome/{secret}`.
pub async fn welcome_submit(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    data: Data<HeraldState>,
) -> Result<HttpResponse, ConsoleError> {
    same_origin(&request, &data)?;
    let secret = path.into_inner();
    let form = text_form(&request, payload).await?;
    let password = form.get("password").unwrap_or_default();
    let again = |problem: &str, name: &str| {
        anonymous_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Welcome",
            welcome_form(&secret, name, Some(problem)),
        )
    };
    let user = match db::sign_in_link_user(&data.db, &sha256_hex(&secret), false).await {
        Ok(user) => user,
        Err(DbError::NotFound) => return Ok(link_invalid()),
        Err(e) => return Err(e.into()),
    };
    if form.get("again") != Some(password) {
        return Ok(again("The two passwords differ.", &user.display_name));
    }
    match people::use_sign_in_link(&data, &secret, password).await {
        Ok(signed) => Ok(signed_in(&data, &signed)),
        Err(SignInError::Failed(people::PeopleError::Invalid(problem))) => {
            Ok(again(&problem, &user.display_name))
        }
        Err(SignInError::LinkInvalid) => Ok(link_invalid()),
        Err(SignInError::Failed(e)) => Err(ConsoleError::Internal(Box::new(e))),
        Err(e) => Ok(again(&e.to_string(), &user.display_name)),
    }
}

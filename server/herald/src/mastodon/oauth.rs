//! OAuth 2 the way Mastodon apps do it: an app registers (`POST /api/v1/apps`), sends the
//! owner to `/oauth/authorize`, where the owner proves they own the channel by pasting
//! one of its API tokens (no password, no cookie), and trades the one-time code for an
//! access token at `/oauth/token` (PKCE S256 checked when the app sent a challenge; Elk
//! sends none and uses its secret). The access token is a Herald API token of that
//! channel, with the Herald scopes the Mastodon scopes grant, never more than the pasted
//! token has. Errors on these endpoints are OAuth's `{"error", "error_description"}`.

use super::scopes;
use crate::{
    api::{Scope, TokenGrant, TokenKeys},
    db::{self, DbError, NewOauthApp, NewOauthCode},
    secrets::{random_secret, sha256_hex},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use base64::Engine;
use maud::html;
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The redirect URI of apps without a web page: the code is shown to paste back.
const OUT_OF_BAND: &str = "urn:ietf:wg:oauth:2.0:oob";
/// How long a code may wait before it is traded for a token.
const CODE_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// An OAuth error: `{"error": code, "error_description": text}` (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, code: &str, description: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "error": code, "error_description": description.into() }))
}

fn server_error() -> HttpResponse {
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "an internal error occurred",
    )
}

fn db_failed(e: DbError) -> HttpResponse {
    tracing::error!(error = %crate::error_chain(&e), "OAuth request failed");
    server_error()
}

/// A body in either shape apps send, or the OAuth refusal of it.
fn parse_body<T: DeserializeOwned>(
    request: &HttpRequest,
    body: &[u8],
) -> Result<T, Box<HttpResponse>> {
    super::body::parse(request, body)
        .map_err(|e| Box::new(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", e)))
}

/// `redirect_uris` as one string (one URI a line, or space-separated) or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum RedirectUris {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
pub struct NewApp {
    client_name: Option<String>,
    redirect_uris: Option<RedirectUris>,
    scopes: Option<String>,
    website: Option<String>,
}

/// `POST /api/v1/apps`: registers a client app; its secret is shown this once.
pub async fn create_app(
    request: HttpRequest,
    body: web::Bytes,
    data: Data<HeraldState>,
) -> HttpResponse {
    let app: NewApp = match parse_body(&request, &body) {
        Ok(app) => app,
        Err(response) => return *response,
    };
    let name = app.client_name.unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return super::MastodonError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: client_name must be 1 to 100 characters",
        )
        .into();
    }
    let redirect_uris: Vec<String> = match app.redirect_uris {
        Some(RedirectUris::One(text)) => text.split_whitespace().map(str::to_string).collect(),
        Some(RedirectUris::Many(list)) => list,
        None => Vec::new(),
    };
    let malformed = |u: &String| {
        u.chars().any(|c| c.is_whitespace() || c.is_control()) || url::Url::parse(u).is_err()
    };
    if redirect_uris.is_empty() || redirect_uris.iter().any(malformed) {
        return super::MastodonError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: redirect_uris must be absolute URIs",
        )
        .into();
    }
    let (scopes, _) = match scopes::parse(app.scopes.as_deref()) {
        Ok(parsed) => parsed,
        Err(bad) => {
            return super::MastodonError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Validation failed: unknown scope {bad}"),
            )
            .into()
        }
    };
    let (Some(client_id), Some(client_secret)) = (random_secret(), random_secret()) else {
        return server_error();
    };
    let stored = db::insert_oauth_app(
        &data.db,
        NewOauthApp {
            client_id: client_id.clone(),
            secret_hash: sha256_hex(&client_secret),
            name,
            website: app.website.filter(|w| !w.is_empty()),
            redirect_uris,
            scopes,
        },
    )
    .await;
    match stored {
        Ok(app) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({
                "id": app.id.to_string(),
                "name": app.name,
                "website": app.website,
                "scopes": app.scopes,
                "redirect_uri": app.redirect_uris.join("\n"),
                "redirect_uris": app.redirect_uris,
                "client_id": client_id,
                "client_secret": client_secret,
                "vapid_key": "",
            })),
        Err(e) => db_failed(e),
    }
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414), which apps read to find the
/// endpoints and whether PKCE S256 is supported.
pub async fn get_server_metadata(data: Data<HeraldState>) -> HttpResponse {
    let base = data.urls.base().as_str().trim_end_matches('/').to_string();
    HttpResponse::Ok().json(json!({
        "issuer": format!("{base}/"),
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "scopes_supported": ["read", "write", "follow", "push", "profile", "read:accounts", "read:statuses", "write:accounts", "write:media", "write:statuses"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "service_documentation": format!("{base}/"),
    }))
}

/// The parameters of an authorization request, carried through the consent form.
#[derive(Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// The pasted API token (the form's answer).
    token: Option<String>,
}

/// A checked authorization request: its app, where the code goes, the scopes asked for.
struct Checked {
    app: db::OauthApp,
    redirect_uri: String,
    scopes: Vec<String>,
    herald_scopes: std::collections::BTreeSet<Scope>,
}

/// Checks an authorization request. Errors before the redirect URI is known to be the
/// app's are shown on a page, never redirected (RFC 6749 §4.1.2.1).
async fn check(data: &HeraldState, query: &AuthorizeQuery) -> Result<Checked, HttpResponse> {
    let refuse = |message: &str| consent_page(StatusCode::BAD_REQUEST, None, query, Some(message));
    let Some(client_id) = query.client_id.as_deref() else {
        return Err(refuse("The request names no app (client_id)."));
    };
    let app = match db::oauth_app_by_client_id(&data.db, client_id).await {
        Ok(app) => app,
        Err(DbError::NotFound) => {
            return Err(refuse("No app with this client_id is registered here."))
        }
        Err(e) => return Err(db_failed(e)),
    };
    let redirect_uri = query.redirect_uri.clone().unwrap_or_default();
    if !app.redirect_uris.contains(&redirect_uri) {
        return Err(refuse("The redirect_uri is not one the app registered."));
    }
    if query.response_type.as_deref() != Some("code") {
        return Err(refuse("Only response_type=code is supported."));
    }
    if query.code_challenge.is_some() && query.code_challenge_method.as_deref() != Some("S256") {
        return Err(refuse("Only the S256 code challenge method is supported."));
    }
    let (scopes, herald_scopes) = scopes::parse(query.scope.as_deref())
        .map_err(|bad| refuse(&format!("The scope {bad} does not exist.")))?;
    if let Some(extra) = scopes
        .iter()
        .find(|s| !app.scopes.contains(s) && !covered(&app.scopes, s))
    {
        return Err(refuse(&format!(
            "The app did not register the scope {extra}."
        )));
    }
    Ok(Checked {
        app,
        redirect_uri,
        scopes,
        herald_scopes,
    })
}

/// Whether `scope` (`read:statuses`) falls under one the app registered (`read`).
fn covered(registered: &[String], scope: &str) -> bool {
    scope
        .split_once(':')
        .is_some_and(|(parent, _)| registered.iter().any(|r| r == parent))
}

/// The consent page: which app asks for what, and a field for one of the channel's API
/// tokens. Carries the request's parameters in hidden fields; sets no cookie.
fn consent_page(
    status: StatusCode,
    app: Option<&db::OauthApp>,
    query: &AuthorizeQuery,
    error: Option<&str>,
) -> HttpResponse {
    let hidden = [
        ("client_id", &query.client_id),
        ("redirect_uri", &query.redirect_uri),
        ("response_type", &query.response_type),
        ("scope", &query.scope),
        ("state", &query.state),
        ("code_challenge", &query.code_challenge),
        ("code_challenge_method", &query.code_challenge_method),
    ];
    let body = html! {
        main.oauth {
            h1 { "Sign in an app" }
            @if let Some(error) = error {
                p role="alert" id="oauth-error" { strong { (error) } }
            }
            @if let Some(app) = app {
                p { strong { (app.name) } " asks to act as a channel here, with the scopes "
                    code { (query.scope.as_deref().unwrap_or("read")) } "." }
                form method="post" action="/oauth/authorize" {
                    @for (name, value) in &hidden {
                        @if let Some(value) = value {
                            input type="hidden" name=(name) value=(value);
                        }
                    }
                    label for="token" { "An API token of the channel (" code { "herald token issue NAME" } ")" }
                    textarea id="token" name="token" rows="3" required autocomplete="off"
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "oauth-error")] {}
                    button type="submit" { "Authorize" }
                }
            }
        }
    };
    let mut response = crate::web::page(status, "Sign in an app", html! {}, body);
    let headers = response.headers_mut();
    headers.insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    // The form's answer redirects to the app, which browsers check against `form-action`:
    // an app's own scheme (`elk:`) or plain-http origin must be allowed on this page.
    if let Some(csp) = app.and_then(consent_policy) {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&csp) {
            headers.insert(actix_web::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// The pages' policy with `form-action` widened to the app's redirect targets that
/// `https:` does not cover; `None` when there are none.
fn consent_policy(app: &db::OauthApp) -> Option<String> {
    let extra: Vec<String> = app
        .redirect_uris
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .filter_map(|u| match u.scheme() {
            "https" | "urn" => None,
            "http" => Some(u.origin().ascii_serialization()),
            scheme => Some(format!("{scheme}:")),
        })
        .collect();
    (!extra.is_empty()).then(|| {
        crate::web::CONTENT_SECURITY_POLICY.replace(
            "form-action 'self' https:",
            &format!("form-action 'self' https: {}", extra.join(" ")),
        )
    })
}

/// `GET /oauth/authorize`: the consent page.
pub async fn get_authorize(
    query: web::Query<AuthorizeQuery>,
    data: Data<HeraldState>,
) -> HttpResponse {
    match check(&data, &query).await {
        Ok(checked) => consent_page(StatusCode::OK, Some(&checked.app), &query, None),
        Err(response) => response,
    }
}

/// `POST /oauth/authorize`: the owner's consent, proven by a pasted API token of the
/// channel. Redirects to the app with the code (or shows it, out of band).
pub async fn post_authorize(
    body: web::Form<AuthorizeQuery>,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let query = body.into_inner();
    let checked = match check(&data, &query).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let again = |message: &str| {
        consent_page(
            StatusCode::BAD_REQUEST,
            Some(&checked.app),
            &query,
            Some(message),
        )
    };
    let token = query.token.as_deref().unwrap_or_default().trim();
    let pasted = match keys.channel_of(&data.db, token).await {
        Ok(found) => found,
        Err(_) => return again("That is not a valid, unexpired API token of a channel here."),
    };
    if let Some(missing) = checked
        .herald_scopes
        .iter()
        .find(|s| pasted.allows(**s).is_err())
    {
        return again(&format!(
            "That token (or its person's role) lacks {}, which the scopes asked for need.",
            missing.as_str()
        ));
    }
    let (channel, record) = (&pasted.channel, &pasted.record);
    let Some(code) = random_secret() else {
        return server_error();
    };
    let stored = db::insert_oauth_code(
        &data.db,
        NewOauthCode {
            code_hash: sha256_hex(&code),
            app_id: checked.app.id,
            channel_id: channel.id,
            scopes: checked.scopes.clone(),
            redirect_uri: checked.redirect_uri.clone(),
            code_challenge: query.code_challenge.clone(),
            token_expires_at: record.expires_at,
            expires_at: db::now() + CODE_LIFETIME,
            user_id: record.user_id,
        },
    )
    .await;
    if let Err(e) = stored {
        return db_failed(e);
    }
    if checked.redirect_uri == OUT_OF_BAND {
        let body = html! {
            main.oauth {
                h1 { "Authorization code" }
                p { "Copy this code into " (checked.app.name) ":" }
                p { code id="code" { (code) } }
            }
        };
        return crate::web::page(StatusCode::OK, "Authorization code", html! {}, body);
    }
    let Ok(mut target) = url::Url::parse(&checked.redirect_uri) else {
        return server_error();
    };
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = &query.state {
        target.query_pairs_mut().append_pair("state", state);
    }
    HttpResponse::SeeOther()
        .insert_header(("Location", target.as_str()))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .finish()
}

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    scope: Option<String>,
}

fn invalid_client() -> HttpResponse {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "the client is not known or its secret is wrong",
    )
}

/// The app a token request names, and whether it proved itself with its secret. An
/// unknown client, or a secret that is given and wrong, is refused here.
async fn requesting_app(
    form: &TokenRequest,
    data: &HeraldState,
) -> Result<(db::OauthApp, bool), HttpResponse> {
    let Some(client_id) = form.client_id.as_deref() else {
        return Err(invalid_client());
    };
    let app = match db::oauth_app_by_client_id(&data.db, client_id).await {
        Ok(app) => app,
        Err(DbError::NotFound) => return Err(invalid_client()),
        Err(e) => return Err(db_failed(e)),
    };
    match form.client_secret.as_deref() {
        Some(secret) if sha256_hex(secret) == app.secret_hash => Ok((app, true)),
        Some(_) => Err(invalid_client()),
        None => Ok((app, false)),
    }
}

/// `POST /oauth/token`: trades a code for an access token (a Herald API token).
pub async fn post_token(
    request: HttpRequest,
    body: web::Bytes,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let form: TokenRequest = match parse_body(&request, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let bad = |code: &str, text: &str| oauth_error(StatusCode::BAD_REQUEST, code, text);
    match form.grant_type.as_deref() {
        Some("authorization_code") => {}
        Some("client_credentials") => return client_credentials(&form, &data).await,
        Some(_) => {
            return bad(
                "unsupported_grant_type",
                "only authorization_code and client_credentials are supported",
            )
        }
        None => return bad("invalid_request", "grant_type is missing"),
    }
    let (app, secret_ok) = match requesting_app(&form, &data).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let verifier = form.code_verifier.as_deref();
    // A public client (PKCE, no secret) or a confidential one (its secret).
    if !secret_ok && verifier.is_none() {
        return invalid_client();
    }
    let invalid_grant = |text: &str| bad("invalid_grant", text);
    let Some(code) = form.code.as_deref() else {
        return bad("invalid_request", "code is missing");
    };
    let grant = match db::take_oauth_code(&data.db, &sha256_hex(code), app.id).await {
        Ok(grant) => grant,
        Err(DbError::NotFound) => return invalid_grant("the code is unknown or was used already"),
        Err(e) => return db_failed(e),
    };
    if grant.app_id != app.id {
        return invalid_grant("the code was given to another app");
    }
    if grant.expires_at <= db::now() {
        return invalid_grant("the code has expired");
    }
    if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return invalid_grant("the redirect_uri differs from the authorization request's");
    }
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()));
            if &computed != challenge {
                return invalid_grant("the code_verifier does not match the code_challenge");
            }
        }
        (Some(_), None) => return invalid_grant("the code_verifier is missing"),
        // A verifier without a challenge proves nothing: the secret must have been right.
        (None, _) if !secret_ok => return invalid_client(),
        (None, _) => {}
    }
    let channel = match db::channel_by_id(&data.db, grant.channel_id).await {
        Ok(channel) => channel,
        Err(DbError::NotFound) => return invalid_grant("the channel no longer exists"),
        Err(e) => return db_failed(e),
    };
    let (_, herald_scopes) = match scopes::parse(Some(&grant.scopes.join(" "))) {
        Ok(parsed) => parsed,
        Err(_) => return server_error(),
    };
    let herald_scopes: Vec<Scope> = herald_scopes.into_iter().collect();
    // Never longer-lived than the token the owner pasted, and acting as its person.
    let person = match grant.user_id.map(|id| db::user_by_id(&data.db, id)) {
        Some(found) => match found.await {
            Ok(user) if user.is_active() => Some(user),
            Ok(_) | Err(DbError::NotFound) => {
                return invalid_grant("the consenting person is disabled")
            }
            Err(e) => return db_failed(e),
        },
        None => None,
    };
    if let Some(person) = &person {
        match db::role_of(&data.db, channel.id, person.id).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return invalid_grant("the consenting person no longer has a role in the channel")
            }
            Err(e) => return db_failed(e),
        }
    }
    match keys
        .issue(
            &data.db,
            &channel,
            &herald_scopes,
            grant.token_expires_at,
            person.as_ref(),
            Some(format!("app: {}", app.name)),
        )
        .await
    {
        Ok((token, record)) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({
                "access_token": token,
                "token_type": "Bearer",
                "scope": grant.scopes.join(" "),
                "created_at": record.created_at.timestamp(),
            })),
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "could not issue a token");
            server_error()
        }
    }
}

/// The client credentials grant: a token of the app itself, bound to no channel, for
/// what apps ask before anyone signs in (`GET /api/v1/apps/verify_credentials`). A new
/// grant replaces the app's previous token.
async fn client_credentials(form: &TokenRequest, data: &HeraldState) -> HttpResponse {
    let app = match requesting_app(form, data).await {
        Ok((app, true)) => app,
        Ok((_, false)) => return invalid_client(),
        Err(response) => return response,
    };
    let (scopes, _) = match scopes::parse(form.scope.as_deref()) {
        Ok(parsed) => parsed,
        Err(bad) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("the scope {bad} does not exist"),
            )
        }
    };
    if let Some(extra) = scopes
        .iter()
        .find(|s| !app.scopes.contains(s) && !covered(&app.scopes, s))
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("the app did not register the scope {extra}"),
        );
    }
    let Some(token) = random_secret() else {
        return server_error();
    };
    let token = format!("app.{token}");
    if let Err(e) = db::set_app_token(&data.db, app.id, Some(sha256_hex(&token))).await {
        return db_failed(e);
    }
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "scope": scopes.join(" "),
            "created_at": db::now().timestamp(),
        }))
}

/// `GET /api/v1/apps/verify_credentials`: the app an app token belongs to. A channel's
/// token answers too (Herald does not record which app a channel token went to).
pub async fn verify_app(
    request: HttpRequest,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, super::MastodonError> {
    let token = crate::http::bearer_token(&request).ok_or(crate::api::ApiError::TokenMissing)?;
    if token.starts_with("app.") {
        let app = db::oauth_app_by_token(&data.db, &sha256_hex(token))
            .await
            .map_err(|_| crate::api::ApiError::TokenRevoked)?;
        return Ok(HttpResponse::Ok().json(json!({
            "id": app.id.to_string(),
            "name": app.name,
            "website": app.website,
            "scopes": app.scopes,
            "redirect_uri": app.redirect_uris.join("\n"),
            "redirect_uris": app.redirect_uris,
            "vapid_key": "",
        })));
    }
    keys.channel_of(&data.db, token).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "name": "Herald API token", "website": null, "vapid_key": "" })))
}

#[derive(Deserialize)]
pub struct RevokeRequest {
    token: Option<String>,
}

/// `POST /oauth/revoke`: revokes an access token (RFC 7009: answered 200 whether or not
/// the token was valid, so it reveals nothing).
pub async fn post_revoke(
    request: HttpRequest,
    body: web::Bytes,
    keys: web::Data<TokenKeys>,
    data: Data<HeraldState>,
) -> HttpResponse {
    let form: RevokeRequest = match parse_body(&request, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    if let Some(token) = form.token.as_deref().filter(|t| t.starts_with("app.")) {
        if let Ok(app) = db::oauth_app_by_token(&data.db, &sha256_hex(token)).await {
            if let Err(e) = db::set_app_token(&data.db, app.id, None).await {
                return db_failed(e);
            }
        }
    } else if let Some(token) = form.token.as_deref() {
        if let Ok(TokenGrant { record, .. }) = keys.channel_of(&data.db, token).await {
            if let Err(e) = db::revoke_token(&data.db, record.id).await {
                return db_failed(e);
            }
        }
    }
    HttpResponse::Ok().json(json!({}))
}

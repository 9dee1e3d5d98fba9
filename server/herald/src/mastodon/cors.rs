//! CORS for the client API: web apps (Phanpy, Elk) run on their own origins and call the
//! API from the reader's browser, so `/api/*` and the OAuth token endpoints answer any
//! origin, as Mastodon's do. It is safe because nothing there rides on ambient
//! credentials: every request carries its bearer token, and Herald sets no cookie there.
//! Preflight requests are answered here, before routing.

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderValue},
        Method,
    },
    middleware::Next,
    HttpResponse,
};

/// How long a browser may keep a preflight answer.
const PREFLIGHT_MAX_AGE: &str = "86400";

/// The paths that answer any origin.
fn cross_origin(path: &str) -> bool {
    path.starts_with("/api/")
        || matches!(
            path,
            "/oauth/token" | "/oauth/revoke" | "/.well-known/oauth-authorization-server"
        )
}

pub async fn cors(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !cross_origin(request.path()) {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    if request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let preflight = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            ))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, Idempotency-Key, Accept",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE))
            .finish();
        return Ok(request.into_response(preflight).map_into_right_body());
    }
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Link"),
    );
    Ok(response.map_into_left_body())
}

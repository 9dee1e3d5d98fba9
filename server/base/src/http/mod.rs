//! HTTP plumbing shared by the entry points (`api`, `federation`, `web`): the one JSON
//! error shape, actix's own rejections rendered in it, and the privacy-keeping request log.
//! A leaf module: it calls no other part of Herald.

mod error;
mod request_log;

pub use error::{json_config, not_found_route, path_config, query_config, ErrorBody, ErrorDetail};
pub use request_log::RequestLog;

/// The ActivityPub media type Herald answers with (Mastodon sends the same).
pub const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";

/// The token of an `Authorization: Bearer TOKEN` header (the scheme in any case).
pub fn bearer_token(request: &actix_web::HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// True when a request asks for a page rather than ActivityPub JSON: its `Accept` names
/// `text/html` and none of the JSON types (`application/activity+json`,
/// `application/ld+json`, `application/json`). Browsers send the first; servers the
/// others; `*/*` alone (curl) gets JSON.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let types: Vec<String> = accept
        .split(',')
        .map(|range| {
            range
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    let json = types.iter().any(|t| {
        t == "application/activity+json" || t == "application/ld+json" || t == "application/json"
    });
    !json
        && types
            .iter()
            .any(|t| t == "text/html" || t == "application/xhtml+xml")
}

/// A route guard for [`prefers_html`], so an id can answer a page to browsers and JSON to
/// servers.
pub struct HtmlGuard;

impl actix_web::guard::Guard for HtmlGuard {
    fn check(&self, ctx: &actix_web::guard::GuardContext<'_>) -> bool {
        prefers_html(
            ctx.head()
                .headers()
                .get(actix_web::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::prefers_html;

    #[test]
    fn browsers_get_pages_and_servers_get_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
        assert!(prefers_html(Some(browser)));
        for server in [
            "application/activity+json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "application/activity+json, application/ld+json, text/html;q=0.1",
            "*/*",
            "application/json",
        ] {
            assert!(!prefers_html(Some(server)), "{server}");
        }
        assert!(!prefers_html(None));
    }
}

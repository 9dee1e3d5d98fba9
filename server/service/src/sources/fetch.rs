//! One conditional GET of a feed: validators sent, the answer's size capped while it is
//! read, and what the server said about when to come back (`Cache-Control: max-age`,
//! `Retry-After` on 429 and 503).

use futures::StreamExt;
use reqwest::{header, StatusCode};
use std::time::{Duration, SystemTime};

/// What the feeds' servers are asked for, best first.
const ACCEPT: &str = "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1";

/// What one fetch came to.
pub enum Fetched {
    /// 304: unchanged since the validators.
    NotModified { max_age: Option<Duration> },
    /// The feed's bytes, its new validators and how long it may be cached.
    Body {
        bytes: Vec<u8>,
        content_type: String,
        etag: Option<String>,
        last_modified: Option<String>,
        max_age: Option<Duration>,
    },
    /// The server asked to wait (429, or 503 with `Retry-After`).
    Throttled { wait: Option<Duration>, status: u16 },
    /// Larger than the cap: refused, not read further.
    TooLarge { max: u64 },
    /// Any other failure, with the status when there was an answer.
    Failed { status: Option<u16>, reason: String },
}

fn max_age(headers: &header::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|d| {
        let d = d.trim();
        d.strip_prefix("max-age=")
            .or_else(|| d.strip_prefix("s-maxage="))
            .and_then(|n| n.parse::<u64>().ok())
            .map(Duration::from_secs)
            .map(|d| d.min(MAX_WAIT))
    })
}

fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    crate::delivery::outcome::parse_retry_after(value, SystemTime::now()).map(|d| d.min(MAX_WAIT))
}

/// The longest a feed's server may ask to be left alone (its `max-age` or `Retry-After`).
pub const MAX_WAIT: Duration = Duration::from_secs(86400);

/// GETs `url` with the stored validators, reading at most `max_bytes`. The URL is
/// checked first (https and a public address, outside debug mode), whoever named it.
pub async fn fetch(
    client: &reqwest::Client,
    debug: bool,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
    max_bytes: u64,
) -> Fetched {
    let checked = url::Url::parse(url)
        .map_err(|e| e.to_string())
        .and_then(|u| crate::guard::check_redirect(&u, 0, debug).map_err(|r| r.to_string()));
    if let Err(refusal) = checked {
        return Fetched::Failed {
            status: None,
            reason: format!("refused: {refusal}"),
        };
    }
    let mut request = client.get(url).header(header::ACCEPT, ACCEPT);
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    if let Some(last_modified) = last_modified {
        request = request.header(header::IF_MODIFIED_SINCE, last_modified);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            // The cause alone: reqwest's own text names the URL, which may carry a secret.
            let reason = if crate::guard::is_refusal(&e) {
                "refused: the host has no public address".to_string()
            } else if e.is_timeout() {
                "timed out".to_string()
            } else {
                format!("could not fetch: {}", crate::error_chain(&e.without_url()))
            };
            return Fetched::Failed {
                status: None,
                reason,
            };
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    if status == StatusCode::NOT_MODIFIED {
        return Fetched::NotModified {
            max_age: max_age(&headers),
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::SERVICE_UNAVAILABLE && headers.contains_key(header::RETRY_AFTER))
    {
        return Fetched::Throttled {
            wait: retry_after(&headers),
            status: status.as_u16(),
        };
    }
    if !status.is_success() {
        return Fetched::Failed {
            status: Some(status.as_u16()),
            reason: format!("HTTP {}", status.as_u16()),
        };
    }
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Fetched::TooLarge { max: max_bytes };
    }
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                if (bytes.len() + chunk.len()) as u64 > max_bytes {
                    return Fetched::TooLarge { max: max_bytes };
                }
                bytes.extend_from_slice(&chunk);
            }
            Err(e) => {
                return Fetched::Failed {
                    status: Some(status.as_u16()),
                    reason: format!("the answer broke off: {e}"),
                }
            }
        }
    }
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Fetched::Body {
        bytes,
        content_type: text(header::CONTENT_TYPE).unwrap_or_default(),
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
        max_age: max_age(&headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feed, the image an entry names and a hub are all fetched through here: outside
    /// debug mode, no private address and no plain http, whoever named the URL.
    #[tokio::test]
    async fn private_addresses_are_refused_whoever_names_them() {
        let client = reqwest::Client::new();
        for url in [
            "https://127.0.0.1/feed",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/x.png",
            "http://blog.example.com/feed",
        ] {
            match fetch(&client, false, url, None, None, 1024).await {
                Fetched::Failed {
                    status: None,
                    reason,
                } => {
                    assert!(reason.starts_with("refused"), "{url}: {reason}")
                }
                _ => panic!("{url} was fetched"),
            }
        }
    }
}

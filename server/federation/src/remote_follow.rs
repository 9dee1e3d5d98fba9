//! "Follow from your server": the reader names their account (`you@their.server`) or just
//! their server; Herald asks that server, by WebFinger, where it follows remote accounts
//! (the `http://ostatus.org/schema/1.0/subscribe` template) and sends the reader there;
//! without an account or an answer, Mastodon's `/authorize_interaction?uri=` is the
//! fallback. The lookup goes through the guarded client (no private addresses outside
//! debug mode) and stores nothing. The web page's form calls this.

use crate::{db::Channel, guard, state::HeraldState};
use std::time::Duration;
use url::Url;

/// How long the reader's server has to answer WebFinger.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// The WebFinger relation of a server's remote-follow page.
const SUBSCRIBE_REL: &str = "http://ostatus.org/schema/1.0/subscribe";

/// The reader's account, read leniently.
#[derive(Debug, PartialEq, Eq)]
pub struct Reader {
    user: Option<String>,
    /// Host, with port when given.
    server: String,
}

pub fn parse_reader(raw: &str) -> Option<Reader> {
    let raw = raw.trim().trim_start_matches('@');
    let raw = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(raw)
        .trim_end_matches('/');
    let (user, server) = match raw.split_once('@') {
        Some((user, server)) => (Some(user.to_string()), server),
        None => (None, raw),
    };
    let valid_user = user.as_ref().is_none_or(|u| {
        !u.is_empty()
            && u.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
    });
    let host = server.split(':').next().unwrap_or_default();
    let valid_server = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        && server
            .split_once(':')
            .is_none_or(|(_, port)| port.parse::<u16>().is_ok());
    (valid_user && valid_server).then(|| Reader {
        user,
        server: server.to_ascii_lowercase(),
    })
}

/// Where to send the reader: their server's subscribe template, or the fallback.
pub async fn destination(data: &HeraldState, reader: &Reader, channel: &Channel) -> Option<Url> {
    let scheme = if data.config.debug { "http" } else { "https" };
    let actor = data.urls.channel(&channel.name);
    let handle = format!("{}@{}", channel.name, data.urls.authority());
    if let Some(user) = &reader.user {
        if let Some(template) = subscribe_template(data, scheme, user, &reader.server).await {
            // Misskey's template takes a handle (`acct=`), Mastodon's a URI (`uri=`).
            let value = if template.contains("acct=") {
                handle.as_str()
            } else {
                actor.as_str()
            };
            let filled = template.replace("{uri}", &urlencoding(value));
            if let Ok(url) = Url::parse(&filled) {
                if guard::check_url(&url, data.config.debug).is_ok() {
                    return Some(url);
                }
            }
        }
    }
    let mut fallback = Url::parse(&format!(
        "{scheme}://{}/authorize_interaction",
        reader.server
    ))
    .ok()?;
    fallback
        .query_pairs_mut()
        .append_pair("uri", actor.as_str());
    Some(fallback)
}

fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn subscribe_template(
    data: &HeraldState,
    scheme: &str,
    user: &str,
    server: &str,
) -> Option<String> {
    let client = guard::fetch_client(
        data.config.debug,
        LOOKUP_TIMEOUT,
        &herald_base::user_agent(&data.config),
    )
    .ok()?;
    let mut url = Url::parse(&format!("{scheme}://{server}/.well-known/webfinger")).ok()?;
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{user}@{server}"));
    guard::check_url(&url, data.config.debug).ok()?;
    let response = client
        .get(url)
        .header("Accept", "application/jrd+json, application/json")
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    // A WebFinger document is small; a server sending megabytes is not answered.
    let body = response.bytes().await.ok()?;
    if body.len() > 64 * 1024 {
        return None;
    }
    let jrd: serde_json::Value = serde_json::from_slice(&body).ok()?;
    jrd["links"]
        .as_array()?
        .iter()
        .find(|link| link["rel"] == SUBSCRIBE_REL)
        .and_then(|link| link["template"].as_str())
        .filter(|t| t.contains("{uri}"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::{parse_reader, Reader};

    #[test]
    fn readers_are_read_leniently() {
        let r = |user: Option<&str>, server: &str| {
            Some(Reader {
                user: user.map(str::to_string),
                server: server.to_string(),
            })
        };
        assert_eq!(
            parse_reader("you@Social.Example"),
            r(Some("you"), "social.example")
        );
        assert_eq!(
            parse_reader(" @you@social.example "),
            r(Some("you"), "social.example")
        );
        assert_eq!(parse_reader("social.example"), r(None, "social.example"));
        assert_eq!(
            parse_reader("https://social.example/"),
            r(None, "social.example")
        );
        assert_eq!(
            parse_reader("you@localhost:8080"),
            r(Some("you"), "localhost:8080")
        );
        for bad in [
            "",
            "@",
            "you@",
            "a b@c",
            "you@ex ample",
            "you@x:99999",
            "<script>",
            "x/y",
        ] {
            assert_eq!(parse_reader(bad), None, "{bad}");
        }
    }
}

//! The typed ids every layer passes around, and how Herald names a server. Plain values:
//! `db` stores them, `Urls` builds addresses from them, the entry points parse them.

use std::fmt;
use url::Url;
use uuid::Uuid;

/// A channel's database id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelId(pub i64);

/// A channel's name: the part before the `@` in its handle. Lower-case ASCII letters,
/// digits and underscores, 1–30 characters, as Mastodon allows for usernames, so every
/// server can display and mention it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChannelName(String);

/// The longest channel name; Mastodon caps local usernames at 30 characters.
pub const CHANNEL_NAME_MAX: usize = 30;

impl ChannelName {
    pub fn parse(raw: &str) -> Result<ChannelName, String> {
        let name = raw.trim();
        if name.is_empty() || name.len() > CHANNEL_NAME_MAX {
            return Err(format!(
                "a channel name has 1 to {CHANNEL_NAME_MAX} characters, got {}",
                name.len()
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!(
                "`{name}` may contain only lower-case letters a-z, digits and underscores"
            ));
        }
        Ok(ChannelName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A post's id: a UUIDv7, so ids are unique across restarts and machines and sort by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostId(pub Uuid);

impl PostId {
    pub fn new() -> PostId {
        PostId(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Option<PostId> {
        Uuid::parse_str(raw).ok().map(PostId)
    }
}

impl Default for PostId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MediaId(pub Uuid);

impl MediaId {
    pub fn parse(raw: &str) -> Option<MediaId> {
        Uuid::parse_str(raw).ok().map(MediaId)
    }
}

impl fmt::Display for MediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The authority (host, and port when explicit) of a URL: how Herald names a server.
pub fn authority_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::ChannelName;

    #[test]
    fn channel_names_follow_mastodon_username_rules() {
        assert_eq!(ChannelName::parse("ceo").unwrap().as_str(), "ceo");
        assert_eq!(
            ChannelName::parse("news_2026").unwrap().as_str(),
            "news_2026"
        );
        for bad in [
            "",
            "CEO",
            "with space",
            "dash-name",
            "ümlaut",
            &"x".repeat(31),
        ] {
            assert!(ChannelName::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}

//! Small domain values stored with posts and channels: who may interact with a post, how
//! visible it is, and a profile field.

use serde::{Deserialize, Serialize};

/// Who may reply to, quote or boost a post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    #[default]
    Everyone,
    /// Nobody but the channel itself.
    Nobody,
}

/// Who may reply, quote and boost: a channel's default, overridable per post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InteractionPolicy {
    #[serde(default)]
    pub reply: Audience,
    #[serde(default)]
    pub quote: Audience,
    #[serde(default)]
    pub boost: Audience,
}

/// How a post is addressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Public in `to`: home timelines of followers and public timelines.
    #[default]
    Public,
    /// Public in `cc`: followers' home timelines, kept out of public timelines (Mastodon's
    /// "unlisted"), like Telegram's silent posts.
    Quiet,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Quiet => "quiet",
        }
    }

    pub fn parse(raw: &str) -> Option<Visibility> {
        match raw {
            "public" => Some(Visibility::Public),
            "quiet" => Some(Visibility::Quiet),
            _ => None,
        }
    }
}

/// A profile field: a name and a value (Markdown, shown as HTML).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileField {
    pub name: String,
    pub value: String,
}

/// Parses a JSON column, treating a missing or unreadable value as the default.
pub(super) fn from_json<T: serde::de::DeserializeOwned + Default>(raw: Option<&str>) -> T {
    raw.and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

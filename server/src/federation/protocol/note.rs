//! `Note`: a channel post as followers' servers receive and fetch it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteType {
    Note,
}

/// A post. `content` is sanitized HTML; `contentMap` repeats it under the post's language
/// (Mastodon reads the language from the first key). `url` is the HTML permalink, without
/// which clients open the JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: NoteType,
    pub attributed_to: Url,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_map: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub sensitive: bool,
    pub published: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    pub url: Url,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    #[serde(default)]
    pub tag: Vec<Value>,
}

//! Ordered collections and their pages (outbox, followers, following, featured).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderedCollectionType {
    OrderedCollection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderedCollectionPageType {
    OrderedCollectionPage,
}

/// A collection's summary: its size and where its pages start. Collections whose items
/// are private (followers) carry no `first`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollection {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: OrderedCollectionType,
    pub total_items: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Url>,
    /// Small collections (featured posts) carry their items inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<Vec<Value>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollectionPage {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: OrderedCollectionPageType,
    pub part_of: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Url>,
    pub ordered_items: Vec<Value>,
}

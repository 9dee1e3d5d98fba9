//! WebFinger (RFC 7033) JRD documents and NodeInfo.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Jrd {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub links: Vec<JrdLink>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JrdLink {
    pub rel: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// A NodeInfo 2.0/2.1 document (only the fields Herald fills).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub version: String,
    pub software: Value,
    pub protocols: Vec<String>,
    pub services: Value,
    pub open_registrations: bool,
    pub usage: Value,
    pub metadata: Value,
}

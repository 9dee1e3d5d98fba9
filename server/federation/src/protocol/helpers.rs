//! Deserializers for the shapes servers differ on.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use url::Url;

/// An id given either as an IRI string or as an object carrying `id` (Hubzilla and Osada
/// send the actor of a Follow inline; most send the IRI).
pub fn id_or_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Url, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdOrObject {
        Iri(Url),
        Object { id: Url },
    }
    Ok(match IdOrObject::deserialize(deserializer)? {
        IdOrObject::Iri(url) | IdOrObject::Object { id: url } => url,
    })
}

/// An optional URL that is dropped, rather than failing the document, when malformed (an
/// empty `sharedInbox` string, say).
pub fn lenient_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Url>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok()))
}

/// The `type` of an object, whether one string or an array of them (Kroeg).
pub fn types<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// An optional object that is dropped, rather than failing the document, when it has
/// another shape (Kroeg gives `endpoints` as an IRI instead of an object).
pub fn lenient_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// One string or an array of strings (anything else is dropped).
pub fn strings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::String(one)) => vec![one],
        Some(Value::Array(many)) => many
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

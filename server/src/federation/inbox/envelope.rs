//! The outline of an inbound activity: its id, type, actor and object, read leniently
//! (single values or arrays, IRIs or inline objects), before anything is verified.

use serde_json::Value;
use url::Url;

/// An activity as received.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub id: Url,
    /// Its `type`, the first when it lists several (Kroeg).
    pub kind: String,
    pub actor: Url,
    pub object: Value,
    pub json: Value,
}

/// Why an activity is refused before verification (400 activity_invalid).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the activity is not a JSON object")]
    NotAnObject,
    #[error("the activity has no id")]
    NoId,
    #[error("the activity has no type")]
    NoType,
    #[error("the activity has no actor")]
    NoActor,
    #[error("the activity's id is not on its actor's server")]
    ForeignId,
}

/// The id of a value that is an IRI or an object with an `id`.
pub fn id_of(value: &Value) -> Option<Url> {
    match value {
        Value::String(iri) => Url::parse(iri).ok(),
        Value::Object(object) => object
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        // An array of one (some servers wrap single values).
        Value::Array(items) if items.len() == 1 => id_of(&items[0]),
        _ => None,
    }
}

/// The first `type` of an object, whether one string or an array.
pub fn type_of(value: &Value) -> Option<&str> {
    match value.get("type")? {
        Value::String(kind) => Some(kind),
        Value::Array(kinds) => kinds.iter().find_map(Value::as_str),
        _ => None,
    }
}

/// The ids a property holds: one IRI or object, or an array of them (`to`, `cc`, a Flag's
/// `object`).
pub fn ids_of(value: &Value) -> Vec<Url> {
    match value {
        Value::Array(items) => items.iter().filter_map(id_of).collect(),
        other => id_of(other).into_iter().collect(),
    }
}

impl Envelope {
    pub fn parse(json: Value) -> Result<Envelope, EnvelopeError> {
        if !json.is_object() {
            return Err(EnvelopeError::NotAnObject);
        }
        let id = json
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok())
            .ok_or(EnvelopeError::NoId)?;
        let kind = type_of(&json).ok_or(EnvelopeError::NoType)?.to_string();
        let actor = json
            .get("actor")
            .and_then(id_of)
            .ok_or(EnvelopeError::NoActor)?;
        if id.host_str() != actor.host_str() {
            return Err(EnvelopeError::ForeignId);
        }
        Ok(Envelope {
            object: json.get("object").cloned().unwrap_or(Value::Null),
            id,
            kind,
            actor,
            json,
        })
    }

    /// The id of the object (an IRI, or an inline object's id).
    pub fn object_id(&self) -> Option<Url> {
        id_of(&self.object)
    }

    /// The type of an inline object.
    pub fn object_type(&self) -> Option<&str> {
        type_of(&self.object)
    }

    /// The sender's server.
    pub fn authority(&self) -> String {
        crate::db::authority_of(&self.actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let e = Envelope::parse(json!({
            "id": "https://a.example/1", "type": ["Like", "Activity"],
            "actor": {"id": "https://a.example/u"}, "object": ["https://h.example/posts/1"]
        }))
        .unwrap();
        assert_eq!(e.kind, "Like");
        assert_eq!(e.actor.as_str(), "https://a.example/u");
        assert_eq!(e.object_id().unwrap().as_str(), "https://h.example/posts/1");
        assert_eq!(
            Envelope::parse(json!([1])).unwrap_err(),
            EnvelopeError::NotAnObject
        );
        assert_eq!(
            Envelope::parse(json!({"type": "Like"})).unwrap_err(),
            EnvelopeError::NoId
        );
        assert_eq!(
            Envelope::parse(
                json!({"id": "https://a.example/1", "type": "Like", "actor": "https://b.example/u"})
            )
            .unwrap_err(),
            EnvelopeError::ForeignId
        );
    }
}

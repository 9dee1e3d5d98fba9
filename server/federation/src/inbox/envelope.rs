//! The outline of an inbound activity: its id, type, actor and object, read leniently
//! (single values or arrays, IRIs or inline objects), before anything is verified.

use serde_json::Value;
use url::Url;

/// An activity as received.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub id: Url,
    /// Its `type`, the first when it lists several (Kroeg).
    pub kind: Kind,
    pub actor: Url,
    pub object: Value,
    pub json: Value,
}

/// The type of an inbound activity: one variant per kind Herald acts on, and `Other` for
/// the rest, which are accepted and ignored as ActivityPub asks. The inbox dispatches on
/// this (`activities::dispatch`), so adding a kind is adding a variant and its arm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Follow,
    Undo,
    Like,
    /// Misskey's and Pleroma's emoji reactions.
    EmojiReact,
    /// Lemmy's downvote.
    Dislike,
    Announce,
    Create,
    Update,
    Delete,
    Block,
    Move,
    /// A report (Mastodon's `Flag`).
    Flag,
    /// A request to quote a post (FEP-044f, Mastodon 4.5).
    QuoteRequest,
    /// A type Herald does not act on, as it was received.
    Other(String),
}

impl Kind {
    /// The kinds Herald acts on, each with its ActivityStreams type name.
    const KNOWN: [(Kind, &'static str); 13] = [
        (Kind::Follow, "Follow"),
        (Kind::Undo, "Undo"),
        (Kind::Like, "Like"),
        (Kind::EmojiReact, "EmojiReact"),
        (Kind::Dislike, "Dislike"),
        (Kind::Announce, "Announce"),
        (Kind::Create, "Create"),
        (Kind::Update, "Update"),
        (Kind::Delete, "Delete"),
        (Kind::Block, "Block"),
        (Kind::Move, "Move"),
        (Kind::Flag, "Flag"),
        (Kind::QuoteRequest, "QuoteRequest"),
    ];

    /// The kind named by an ActivityStreams type (case-sensitive, as JSON-LD terms are).
    pub fn parse(type_name: &str) -> Kind {
        Kind::KNOWN
            .into_iter()
            .find(|(_, name)| *name == type_name)
            .map_or_else(|| Kind::Other(type_name.to_string()), |(kind, _)| kind)
    }

    /// The ActivityStreams type name, as received.
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Other(name) => name,
            known => Kind::KNOWN
                .iter()
                .find(|(kind, _)| kind == known)
                .map_or("", |(_, name)| name),
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
        let kind = Kind::parse(type_of(&json).ok_or(EnvelopeError::NoType)?);
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
    fn kinds_round_trip_their_type_names() {
        for (kind, name) in Kind::KNOWN {
            assert_eq!(Kind::parse(name), kind);
            assert_eq!(kind.as_str(), name);
        }
        assert_eq!(Kind::parse("like"), Kind::Other("like".into()));
        assert_eq!(Kind::parse("Arrive").as_str(), "Arrive");
    }

    #[test]
    fn shapes() {
        let e = Envelope::parse(json!({
            "id": "https://a.example/1", "type": ["Like", "Activity"],
            "actor": {"id": "https://a.example/u"}, "object": ["https://h.example/posts/1"]
        }))
        .unwrap();
        assert_eq!(e.kind, Kind::Like);
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

    /// Any JSON at all: a value of up to a few levels, with the keys activities use.
    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("id".to_string()),
            Just("type".to_string()),
            Just("actor".to_string()),
            Just("object".to_string()),
            Just("to".to_string()),
            "[a-z]{1,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,40}".prop_map(Value::from),
            "https://[a-c]\\.example/[a-z0-9/#]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_json_is_read_or_refused_without_panic(json in any_json()) {
            if let Ok(envelope) = Envelope::parse(json.clone()) {
                proptest::prop_assert_eq!(envelope.id.host_str(), envelope.actor.host_str());
                let _ = envelope.object_id();
                let _ = envelope.object_type();
                let _ = envelope.authority();
            }
            let _ = ids_of(&json);
            let _ = type_of(&json);
        }

        #[test]
        fn every_reference_shape_is_read(
            host in "[a-c]\\.example",
            actor_shape in 0usize..5,
            kind in proptest::prop_oneof![
                proptest::strategy::Just(json!("Like")),
                proptest::strategy::Just(json!(["Like", "Activity"])),
            ],
            to in proptest::prop_oneof![
                proptest::strategy::Just(json!("as:Public")),
                proptest::strategy::Just(json!(["Public"])),
                proptest::strategy::Just(json!("https://www.w3.org/ns/activitystreams#Public")),
            ],
        ) {
            let actor_iri = format!("https://{host}/users/a");
            // Each shape servers use for a reference: an IRI, an object with an id, an
            // array of one of either, and (wrongly) a number.
            let actor = match actor_shape {
                0 => json!(actor_iri),
                1 => json!({"id": actor_iri}),
                2 => json!([actor_iri]),
                3 => json!([{"id": actor_iri, "type": "Person"}]),
                _ => json!(7),
            };
            let activity = json!({
                "id": format!("https://{host}/activities/1"),
                "type": kind,
                "actor": actor.clone(),
                "object": {"id": "https://h.example/posts/1", "type": "Note"},
                "to": to,
            });
            match Envelope::parse(activity) {
                Ok(envelope) => {
                    proptest::prop_assert_eq!(envelope.kind.as_str(), "Like");
                    proptest::prop_assert_eq!(envelope.actor.as_str(), actor_iri.as_str());
                    proptest::prop_assert_eq!(envelope.object_type(), Some("Note"));
                }
                Err(e) => {
                    // Only a number where the actor belongs is unreadable.
                    proptest::prop_assert!(actor.is_number(), "{e}");
                }
            }
        }
    }
}

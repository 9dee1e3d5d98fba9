//! Activities: the ones Herald sends (`Create`, `Accept`) and receives (`Follow`, `Undo`).

use super::{helpers::id_or_object, note::Note};
use activitypub_federation::kinds::activity::{AcceptType, CreateType, FollowType, UndoType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// `Follow`, as received. `actor` and `object` may be IRIs or inline objects.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Follow {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: FollowType,
    #[serde(deserialize_with = "id_or_object")]
    pub actor: Url,
    #[serde(deserialize_with = "id_or_object")]
    pub object: Url,
}

/// What an `Undo` undoes: an inline activity, or only its IRI (Herald then finds the
/// follow by the Follow's id).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum UndoObject {
    Follow(Follow),
    Iri(Url),
    /// An inline activity of another type (Like, Announce …).
    Other(Value),
}

/// `Undo`, as received.
#[derive(Clone, Debug, Deserialize)]
pub struct Undo {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UndoType,
    #[serde(deserialize_with = "id_or_object")]
    pub actor: Url,
    pub object: UndoObject,
}

/// `Accept` of a Follow, sent to the follower's personal inbox. The Follow is embedded as
/// received, since Mastodon matches it by id and checks its actor and object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Accept {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: AcceptType,
    pub actor: Url,
    pub object: Follow,
}

/// `Create` of a Note, sent to followers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Create {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: CreateType,
    pub actor: Url,
    pub published: DateTime<Utc>,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    pub object: Note,
}

/// An activity Herald sends about an object it owns (`Update`, `Delete`, `Add`, `Remove`):
/// the object is embedded in full (a Note, a Tombstone, the actor).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OwnActivity {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    pub object: Value,
    /// The collection of an `Add` or `Remove` (the featured collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Url>,
}

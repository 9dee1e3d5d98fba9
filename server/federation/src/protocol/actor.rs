//! Actor documents: Herald's channels and instance actor (outbound), and remote actors
//! (inbound, lenient).

use super::helpers::{lenient_object, lenient_url, strings, types};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// The actor types Herald publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorType {
    /// A channel run by people: the default, shown as a normal account.
    Person,
    /// An automated channel: Mastodon shows the "Automated" badge.
    Service,
    /// The instance actor, which signs Herald's own fetches.
    Application,
}

/// `publicKey` of an actor: the key that verifies its HTTP signatures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub owner: Url,
    pub public_key_pem: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub shared_inbox: Url,
}

/// A channel's (or the instance's) actor document as Herald serves it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub preferred_username: String,
    pub name: String,
    pub summary: String,
    pub url: Url,
    pub inbox: Url,
    pub outbox: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<Url>,
    pub endpoints: Endpoints,
    pub public_key: PublicKey,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub published: DateTime<Utc>,
    /// Profile fields as `PropertyValue`s.
    pub attachment: Vec<Value>,
    /// Avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Value>,
    /// Header image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Value>,
    /// `canFeature`: who may add the channel to collections (Mastodon 4.6, FEP-7aa9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_policy: Option<Value>,
    /// The channel's other accounts: a Move from one of them is accepted by followers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_known_as: Vec<Url>,
    /// Where the channel moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<Url>,
}

/// A remote actor document, read leniently: only what federation needs is kept.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteActorDoc {
    pub id: Url,
    #[serde(rename = "type", deserialize_with = "types")]
    pub kind: Vec<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    pub inbox: Url,
    #[serde(default, deserialize_with = "lenient_object")]
    pub endpoints: Option<RemoteEndpoints>,
    /// Misskey and Sharkey also put `sharedInbox` at the top level.
    #[serde(default, deserialize_with = "lenient_url")]
    pub shared_inbox: Option<Url>,
    #[serde(default)]
    pub public_key: Option<PublicKey>,
    /// Other accounts of the same person (a `Move` needs the target to list the source).
    #[serde(default, deserialize_with = "strings")]
    pub also_known_as: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEndpoints {
    #[serde(default, deserialize_with = "lenient_url")]
    pub shared_inbox: Option<Url>,
}

/// Why a remote actor document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorRefusal {
    #[error("the actor has no publicKey, so its signatures cannot be verified")]
    NoPublicKey,
    #[error("the actor's publicKey belongs to another actor")]
    KeyOwnerMismatch,
    #[error("the actor's inbox is on another host than the actor")]
    InboxOnOtherHost,
}

impl RemoteActorDoc {
    /// The shared inbox, from `endpoints` or (Misskey) the top level.
    pub fn shared_inbox(&self) -> Option<&Url> {
        self.endpoints
            .as_ref()
            .and_then(|e| e.shared_inbox.as_ref())
            .or(self.shared_inbox.as_ref())
    }

    /// Checks the document can be followed and verified: it has a key owned by itself, and
    /// its inbox is on its own host (so an actor cannot aim Herald's deliveries elsewhere).
    pub fn check(&self) -> Result<&PublicKey, ActorRefusal> {
        let key = self.public_key.as_ref().ok_or(ActorRefusal::NoPublicKey)?;
        if key.owner != self.id {
            return Err(ActorRefusal::KeyOwnerMismatch);
        }
        if self.inbox.host_str() != self.id.host_str() {
            return Err(ActorRefusal::InboxOnOtherHost);
        }
        Ok(key)
    }
}

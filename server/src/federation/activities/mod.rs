//! Activities: one file per kind, each with how it is built (outbound) or verified and
//! received (inbound). The inbox accepts one enum, [`InboxActivity`].

pub mod accept;
pub mod create;
pub mod follow;
pub mod lifecycle;
pub mod undo;

use crate::{
    federation::protocol::helpers::id_or_object,
    federation::{
        error::FederationError, protocol::activities::Follow, protocol::activities::Undo,
    },
    state::HeraldState,
};
use activitypub_federation::{config::Data, traits::ActivityHandler};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// Every activity the inbox takes. Kinds Herald does not act on yet are accepted after
/// signature verification and ignored, as ActivityPub asks of unknown activities.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum InboxActivity {
    Follow(Follow),
    Undo(Undo),
    Other(OtherActivity),
}

/// An activity of a kind Herald ignores: only what verification needs is read.
#[derive(Debug, Deserialize)]
pub struct OtherActivity {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: Value,
    #[serde(deserialize_with = "id_or_object")]
    pub actor: Url,
}

#[async_trait]
impl ActivityHandler for InboxActivity {
    type DataType = HeraldState;
    type Error = FederationError;

    fn id(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => &a.id,
            InboxActivity::Undo(a) => &a.id,
            InboxActivity::Other(a) => &a.id,
        }
    }

    fn actor(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => &a.actor,
            InboxActivity::Undo(a) => &a.actor,
            InboxActivity::Other(a) => &a.actor,
        }
    }

    async fn verify(&self, data: &Data<HeraldState>) -> Result<(), FederationError> {
        match self {
            InboxActivity::Follow(a) => follow::verify(a, data).await,
            InboxActivity::Undo(a) => undo::verify(a, data).await,
            InboxActivity::Other(_) => Ok(()),
        }
    }

    async fn receive(self, data: &Data<HeraldState>) -> Result<(), FederationError> {
        match self {
            InboxActivity::Follow(a) => follow::receive(a, data).await,
            InboxActivity::Undo(a) => undo::receive(a, data).await,
            InboxActivity::Other(a) => {
                tracing::debug!(kind = %a.kind, "ignoring an activity of a kind Herald does not handle");
                Ok(())
            }
        }
    }
}

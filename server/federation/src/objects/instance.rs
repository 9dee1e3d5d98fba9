//! The instance actor: an `Application` that signs Herald's own GET fetches, so servers
//! that refuse unsigned fetches (GoToSocial always, Mastodon in authorized-fetch mode)
//! answer them. Mastodon does the same with its own instance actor.

use crate::{
    state::{HeraldState, InstanceKeys},
    {
        error::FederationError,
        protocol::{
            actor::{Actor, ActorType, Endpoints, PublicKey},
            context::actor_context,
        },
        Urls,
    },
};
use activitypub_federation::{config::Data, traits};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use url::Url;

#[derive(Clone, Debug)]
pub struct InstanceActor {
    pub id: Url,
    pub inbox: Url,
    pub public_key_pem: String,
    pub private_key_pem: String,
}

impl InstanceActor {
    pub fn new(urls: &Urls, keys: &InstanceKeys) -> InstanceActor {
        InstanceActor {
            id: urls.instance_actor(),
            inbox: urls.instance_inbox(),
            public_key_pem: keys.public_key_pem.clone(),
            private_key_pem: keys.private_key_pem.clone(),
        }
    }

    /// The instance actor's document. Its `preferredUsername` is the domain, as Mastodon's.
    pub fn to_actor(&self, urls: &Urls) -> Actor {
        let authority = urls.authority();
        Actor {
            context: actor_context(),
            id: self.id.clone(),
            kind: ActorType::Application,
            preferred_username: authority.clone(),
            name: authority,
            summary: String::new(),
            url: urls.base().clone(),
            inbox: self.inbox.clone(),
            outbox: urls.instance_outbox(),
            followers: None,
            following: None,
            featured: None,
            endpoints: Endpoints {
                shared_inbox: urls.shared_inbox(),
            },
            public_key: PublicKey {
                id: format!("{}#main-key", self.id),
                owner: self.id.clone(),
                public_key_pem: self.public_key_pem.clone(),
            },
            manually_approves_followers: true,
            discoverable: false,
            indexable: false,
            published: DateTime::<Utc>::UNIX_EPOCH,
            attachment: Vec::new(),
            icon: None,
            image: None,
            interaction_policy: None,
            also_known_as: Vec::new(),
            moved_to: None,
        }
    }
}

#[async_trait]
impl traits::Object for InstanceActor {
    type DataType = HeraldState;
    type Kind = Actor;
    type Error = FederationError;

    async fn read_from_id(
        id: Url,
        data: &Data<HeraldState>,
    ) -> Result<Option<Self>, FederationError> {
        let actor = InstanceActor::new(&data.urls, &data.instance_keys);
        Ok((actor.id == id).then_some(actor))
    }

    async fn into_json(self, data: &Data<HeraldState>) -> Result<Actor, FederationError> {
        Ok(self.to_actor(&data.urls))
    }

    async fn verify(
        _json: &Actor,
        _expected_domain: &Url,
        _data: &Data<HeraldState>,
    ) -> Result<(), FederationError> {
        Err(FederationError::Refused(
            "the instance actor is local".into(),
        ))
    }

    async fn from_json(_json: Actor, _data: &Data<HeraldState>) -> Result<Self, FederationError> {
        Err(FederationError::Refused(
            "the instance actor is local".into(),
        ))
    }
}

impl traits::Actor for InstanceActor {
    fn id(&self) -> Url {
        self.id.clone()
    }

    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_key_pem.clone())
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

//! A channel as an ActivityPub actor.

use crate::protocol::PUBLIC;
use crate::{
    db::{self, Channel, DbError, Media},
    state::HeraldState,
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
use serde_json::json;
use url::Url;

#[derive(Clone, Debug)]
pub struct ApubChannel {
    pub channel: Channel,
    /// The actor id, kept because the crate's `Actor::id` has no access to the state.
    pub id: Url,
    pub inbox: Url,
    pub shared_inbox: Url,
}

impl ApubChannel {
    pub fn new(channel: Channel, urls: &Urls) -> ApubChannel {
        ApubChannel {
            id: urls.channel(&channel.name),
            inbox: urls.channel_inbox(&channel.name),
            shared_inbox: urls.shared_inbox(),
            channel,
        }
    }

    /// The channel's actor document; `images` are its avatar and header, when set.
    pub fn to_actor(&self, urls: &Urls, images: &db::ChannelImages) -> Actor {
        let c = &self.channel;
        let name = &c.name;
        Actor {
            context: actor_context(),
            id: self.id.clone(),
            kind: if c.bot {
                ActorType::Service
            } else {
                ActorType::Person
            },
            preferred_username: name.to_string(),
            name: if c.display_name.is_empty() {
                name.to_string()
            } else {
                c.display_name.clone()
            },
            summary: crate::content::render_markdown(&c.summary),
            url: urls.profile_page(name),
            inbox: self.inbox.clone(),
            outbox: urls.outbox(name),
            followers: Some(urls.followers(name)),
            following: Some(urls.following(name)),
            featured: Some(urls.featured(name)),
            endpoints: Endpoints {
                shared_inbox: self.shared_inbox.clone(),
            },
            public_key: PublicKey {
                id: urls.key_id(name),
                owner: self.id.clone(),
                public_key_pem: c.public_key_pem.clone(),
            },
            manually_approves_followers: c.manually_approves,
            discoverable: true,
            indexable: true,
            published: c.created_at,
            attachment: c
                .fields
                .iter()
                .map(|f| {
                    json!({
                        "type": "PropertyValue",
                        "name": f.name,
                        "value": crate::content::render_field(&f.value),
                    })
                })
                .collect(),
            icon: images.avatar.as_ref().map(|m| image(urls, m)),
            image: images.header.as_ref().map(|m| image(urls, m)),
            interaction_policy: Some(json!({
                "canFeature": { "automaticApproval": [PUBLIC], "manualApproval": [] }
            })),
            also_known_as: c
                .also_known_as
                .iter()
                .filter_map(|a| Url::parse(a).ok())
                .collect(),
            moved_to: c.moved_to.as_deref().and_then(|m| Url::parse(m).ok()),
        }
    }
}

fn image(urls: &Urls, media: &Media) -> serde_json::Value {
    json!({ "type": "Image", "mediaType": media.media_type, "url": urls.media(&media.file_name) })
}

#[async_trait]
impl traits::Object for ApubChannel {
    type DataType = HeraldState;
    type Kind = Actor;
    type Error = FederationError;

    async fn read_from_id(
        id: Url,
        data: &Data<HeraldState>,
    ) -> Result<Option<Self>, FederationError> {
        let Some(name) = data.urls.parse_channel(&id) else {
            return Ok(None);
        };
        match db::channel_by_name(&data.db, name.as_str()).await {
            Ok(channel) => Ok(Some(ApubChannel::new(channel, &data.urls))),
            Err(DbError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn into_json(self, data: &Data<HeraldState>) -> Result<Actor, FederationError> {
        let images = db::ChannelImages::load(&data.db, &self.channel).await?;
        Ok(self.to_actor(&data.urls, &images))
    }

    async fn verify(
        _json: &Actor,
        _expected_domain: &Url,
        _data: &Data<HeraldState>,
    ) -> Result<(), FederationError> {
        Err(FederationError::Refused(
            "channels are local; a remote document cannot become one".into(),
        ))
    }

    async fn from_json(_json: Actor, _data: &Data<HeraldState>) -> Result<Self, FederationError> {
        Err(FederationError::Refused(
            "channels are local; a remote document cannot become one".into(),
        ))
    }
}

impl traits::Actor for ApubChannel {
    fn id(&self) -> Url {
        self.id.clone()
    }

    fn public_key_pem(&self) -> &str {
        &self.channel.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.channel.private_key_pem.clone())
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        Some(self.shared_inbox.clone())
    }
}

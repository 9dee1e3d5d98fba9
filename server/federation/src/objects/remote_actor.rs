//! A remote actor (a follower), fetched once and cached with the fields federation needs.

use crate::{
    db::{self, DbError, NewRemoteActor, RemoteActor},
    state::HeraldState,
    {error::FederationError, protocol::actor::RemoteActorDoc},
};
use activitypub_federation::{config::Data, protocol::verification::verify_domains_match, traits};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use url::Url;

#[derive(Clone, Debug)]
pub struct ApubRemoteActor(pub RemoteActor);

#[async_trait]
impl traits::Object for ApubRemoteActor {
    type DataType = HeraldState;
    type Kind = RemoteActorDoc;
    type Error = FederationError;

    /// When the cached copy was fetched; the federation crate refetches stale actors.
    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        Some(self.0.fetched_at)
    }

    async fn read_from_id(
        id: Url,
        data: &Data<HeraldState>,
    ) -> Result<Option<Self>, FederationError> {
        match db::remote_actor_by_uri(&data.db, &id).await {
            Ok(actor) => Ok(Some(ApubRemoteActor(actor))),
            Err(DbError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn into_json(self, _data: &Data<HeraldState>) -> Result<RemoteActorDoc, FederationError> {
        // Herald never serves other servers' actors.
        Err(FederationError::NotFound)
    }

    async fn verify(
        json: &RemoteActorDoc,
        expected_domain: &Url,
        _data: &Data<HeraldState>,
    ) -> Result<(), FederationError> {
        verify_domains_match(&json.id, expected_domain)?;
        json.check()?;
        Ok(())
    }

    async fn from_json(
        json: RemoteActorDoc,
        data: &Data<HeraldState>,
    ) -> Result<Self, FederationError> {
        let key = json.check()?.clone();
        let shared_inbox = json.shared_inbox().cloned();
        let actor = db::upsert_remote_actor(
            &data.db,
            NewRemoteActor {
                uri: json.id,
                inbox: json.inbox,
                shared_inbox,
                public_key_pem: key.public_key_pem,
                key_id: Some(key.id),
                also_known_as: json.also_known_as,
            },
        )
        .await?;
        Ok(ApubRemoteActor(actor))
    }
}

impl traits::Actor for ApubRemoteActor {
    fn id(&self) -> Url {
        self.0.uri.clone()
    }

    fn public_key_pem(&self) -> &str {
        &self.0.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        None
    }

    fn inbox(&self) -> Url {
        self.0.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.0.shared_inbox.clone()
    }
}

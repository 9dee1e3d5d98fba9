//! Remote actors: the cached fields of followers' actors that federation needs, and no more.

use super::{authority_of, entities::follower, entities::remote_actor, DbError, DbResult};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemoteActorId(pub i64);

/// A remote actor as cached: its id, where to deliver to it, and the key that verifies it.
#[derive(Clone, Debug)]
pub struct RemoteActor {
    pub id: RemoteActorId,
    pub uri: Url,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    pub public_key_pem: String,
    /// The actor's server: host, and port when not the scheme's default.
    pub authority: String,
    pub fetched_at: DateTime<Utc>,
    /// The id of the key its document names (`…#main-key`, GoToSocial's `…/main-key`).
    pub key_id: Option<String>,
    /// Its other accounts (`alsoKnownAs`), which may move to it.
    pub also_known_as: Vec<String>,
}

impl RemoteActor {
    /// Where deliveries to this actor go: the shared inbox of its server when it has one
    /// (one request per server), its own inbox otherwise (GoToSocial has no shared inbox).
    pub fn delivery_inbox(&self) -> &Url {
        self.shared_inbox.as_ref().unwrap_or(&self.inbox)
    }
}

/// What a fetched actor document contributes to the cache.
pub struct NewRemoteActor {
    pub uri: Url,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    pub public_key_pem: String,
    pub key_id: Option<String>,
    pub also_known_as: Vec<String>,
}

fn parse_url(raw: &str) -> DbResult<Url> {
    Url::parse(raw).map_err(|e| DbError::Corrupt(format!("{raw}: {e}")))
}

impl TryFrom<remote_actor::Model> for RemoteActor {
    type Error = DbError;

    fn try_from(m: remote_actor::Model) -> DbResult<RemoteActor> {
        Ok(RemoteActor {
            id: RemoteActorId(m.id),
            uri: parse_url(&m.uri)?,
            inbox: parse_url(&m.inbox)?,
            shared_inbox: m.shared_inbox.as_deref().map(parse_url).transpose()?,
            public_key_pem: m.public_key_pem,
            authority: m.authority,
            fetched_at: m.fetched_at,
            key_id: m.key_id,
            also_known_as: super::policy::from_json(m.also_known_as.as_deref()),
        })
    }
}

pub async fn remote_actor_by_uri(db: &impl ConnectionTrait, uri: &Url) -> DbResult<RemoteActor> {
    remote_actor::Entity::find()
        .filter(remote_actor::Column::Uri.eq(uri.as_str()))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// Inserts or refreshes a remote actor by its id, and points its follows at its current
/// delivery inbox, in one transaction.
pub async fn upsert_remote_actor(
    db: &DatabaseConnection,
    new: NewRemoteActor,
) -> DbResult<RemoteActor> {
    let txn = db.begin().await?;
    let now = Utc::now();
    remote_actor::Entity::insert(remote_actor::ActiveModel {
        uri: Set(new.uri.to_string()),
        inbox: Set(new.inbox.to_string()),
        shared_inbox: Set(new.shared_inbox.as_ref().map(Url::to_string)),
        public_key_pem: Set(new.public_key_pem),
        authority: Set(authority_of(&new.uri)),
        fetched_at: Set(now),
        key_id: Set(new.key_id),
        also_known_as: Set(Some(super::policy::to_json(&new.also_known_as))),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(remote_actor::Column::Uri)
            .update_columns([
                remote_actor::Column::Inbox,
                remote_actor::Column::SharedInbox,
                remote_actor::Column::PublicKeyPem,
                remote_actor::Column::Authority,
                remote_actor::Column::FetchedAt,
                remote_actor::Column::KeyId,
                remote_actor::Column::AlsoKnownAs,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let actor = remote_actor_by_uri(&txn, &new.uri).await?;
    follower::Entity::update_many()
        .col_expr(
            follower::Column::TargetInbox,
            Expr::value(actor.delivery_inbox().to_string()),
        )
        .filter(follower::Column::RemoteActorId.eq(actor.id.0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(actor)
}

/// Removes a deleted actor from the cache (its follows go with it).
pub async fn delete_remote_actor(db: &impl ConnectionTrait, uri: &Url) -> DbResult<bool> {
    Ok(remote_actor::Entity::delete_many()
        .filter(remote_actor::Column::Uri.eq(uri.as_str()))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

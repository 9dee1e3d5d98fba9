//! Channels: the local actors that owners post as.

use super::{
    entities::{audit_entry, channel, membership, webhook},
    policy::{from_json, to_json},
    ChannelId, ChannelName, DbError, DbResult, InteractionPolicy, MediaId, ProfileField,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use std::fmt;

/// A channel as stored.
#[derive(Clone)]
pub struct Channel {
    pub id: ChannelId,
    pub name: ChannelName,
    pub display_name: String,
    pub summary: String,
    /// Marked as automated: published as an ActivityPub `Service`.
    pub bot: bool,
    pub public_key_pem: String,
    pub private_key_pem: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Profile fields (name, Markdown value), at most four.
    pub fields: Vec<ProfileField>,
    /// The language of posts that name none.
    pub default_language: Option<String>,
    /// Who may reply, quote and boost by default.
    pub policy: InteractionPolicy,
    pub avatar: Option<MediaId>,
    pub header: Option<MediaId>,
    /// Follow requests wait for the owner's approval.
    pub manually_approves: bool,
    /// Posts carry their author's name as a signature line (Telegram's "sign messages").
    pub sign_posts: bool,
    /// The channel's other accounts (actor ids): a Move from one of them is accepted.
    pub also_known_as: Vec<String>,
    /// The account the channel moved to (an actor id).
    pub moved_to: Option<String>,
}

/// A change of profile: each `Some` replaces the stored value.
#[derive(Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub summary: Option<String>,
    pub bot: Option<bool>,
    pub fields: Option<Vec<ProfileField>>,
    /// `Some(None)` clears it.
    pub default_language: Option<Option<String>>,
    pub policy: Option<InteractionPolicy>,
    pub avatar: Option<Option<MediaId>>,
    pub header: Option<Option<MediaId>>,
    pub manually_approves: Option<bool>,
    pub sign_posts: Option<bool>,
    pub also_known_as: Option<Vec<String>>,
    pub moved_to: Option<Option<String>>,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("display_name", &self.display_name)
            .field("bot", &self.bot)
            .finish_non_exhaustive()
    }
}

/// The form that creates a channel.
pub struct NewChannel {
    pub name: ChannelName,
    pub display_name: String,
    pub summary: String,
    pub bot: bool,
    pub public_key_pem: String,
    pub private_key_pem: String,
}

impl TryFrom<channel::Model> for Channel {
    type Error = DbError;

    fn try_from(m: channel::Model) -> DbResult<Channel> {
        Ok(Channel {
            id: ChannelId(m.id),
            name: ChannelName::parse(&m.name).map_err(DbError::Corrupt)?,
            display_name: m.display_name,
            summary: m.summary,
            bot: m.bot,
            public_key_pem: m.public_key_pem,
            private_key_pem: m.private_key_pem,
            created_at: m.created_at,
            updated_at: m.updated_at,
            fields: from_json(m.fields.as_deref()),
            default_language: m.default_language,
            policy: from_json(m.policy.as_deref()),
            avatar: m.avatar_id.as_deref().and_then(MediaId::parse),
            header: m.header_id.as_deref().and_then(MediaId::parse),
            manually_approves: m.manually_approves,
            sign_posts: m.sign_posts,
            also_known_as: from_json(m.also_known_as.as_deref()),
            moved_to: m.moved_to,
        })
    }
}

/// Creates a channel; a taken name is [`DbError::Conflict`].
pub async fn create_channel(db: &impl ConnectionTrait, new: NewChannel) -> DbResult<Channel> {
    let now = super::now();
    let model = channel::ActiveModel {
        name: Set(new.name.as_str().to_string()),
        display_name: Set(new.display_name),
        summary: Set(new.summary),
        bot: Set(new.bot),
        public_key_pem: Set(new.public_key_pem),
        private_key_pem: Set(new.private_key_pem),
        created_at: Set(now),
        updated_at: Set(now),
        fields: Set(None),
        default_language: Set(None),
        policy: Set(None),
        avatar_id: Set(None),
        header_id: Set(None),
        manually_approves: Set(false),
        sign_posts: Set(false),
        also_known_as: Set(None),
        moved_to: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    model.try_into()
}

/// Applies a profile change and returns the channel as it now is.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    id: ChannelId,
    changes: ProfileChanges,
) -> DbResult<Channel> {
    let model = channel::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?;
    let mut active = model.into_active_model();
    if let Some(v) = changes.display_name {
        active.display_name = Set(v);
    }
    if let Some(v) = changes.summary {
        active.summary = Set(v);
    }
    if let Some(v) = changes.bot {
        active.bot = Set(v);
    }
    if let Some(v) = changes.fields {
        active.fields = Set(Some(to_json(&v)));
    }
    if let Some(v) = changes.default_language {
        active.default_language = Set(v);
    }
    if let Some(v) = changes.policy {
        active.policy = Set(Some(to_json(&v)));
    }
    if let Some(v) = changes.avatar {
        active.avatar_id = Set(v.map(|m| m.to_string()));
    }
    if let Some(v) = changes.header {
        active.header_id = Set(v.map(|m| m.to_string()));
    }
    if let Some(v) = changes.sign_posts {
        active.sign_posts = Set(v);
    }
    if let Some(v) = changes.also_known_as {
        active.also_known_as = Set(Some(to_json(&v)));
    }
    if let Some(v) = changes.moved_to {
        active.moved_to = Set(v);
    }
    if let Some(v) = changes.manually_approves {
        active.manually_approves = Set(v);
    }
    active.updated_at = Set(super::now());
    active.update(db).await?.try_into()
}

pub async fn channel_by_name(db: &impl ConnectionTrait, name: &str) -> DbResult<Channel> {
    channel::Entity::find()
        .filter(channel::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

pub async fn channel_by_id(db: &impl ConnectionTrait, id: ChannelId) -> DbResult<Channel> {
    channel::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// Every channel, by name.
pub async fn list_channels(db: &impl ConnectionTrait) -> DbResult<Vec<Channel>> {
    channel::Entity::find()
        .order_by_asc(channel::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(Channel::try_from)
        .collect()
}

pub async fn count_channels(db: &impl ConnectionTrait) -> DbResult<u64> {
    Ok(channel::Entity::find().count(db).await?)
}

/// Deletes a channel and, by cascade, its tokens, followers, posts and queue records.
pub async fn delete_channel(db: &impl ConnectionTrait, id: ChannelId) -> DbResult<()> {
    let result = channel::Entity::delete_by_id(id.0).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    // The people's roles and the audit log are the channel's too (no foreign key
    // carries them off).
    membership::Entity::delete_many()
        .filter(membership::Column::ChannelId.eq(id.0))
        .exec(db)
        .await?;
    audit_entry::Entity::delete_many()
        .filter(audit_entry::Column::ChannelId.eq(id.0))
        .exec(db)
        .await?;
    // So are its feed sources with their entries, and its webhooks.
    for source in super::sources_of(db, id).await? {
        super::delete_source(db, source.id).await?;
    }
    webhook::Entity::delete_many()
        .filter(webhook::Column::ChannelId.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

//! Feed sources: the feeds a channel mirrors, what their last fetch left (validators,
//! failures, when to poll next, the WebSub subscription), and the entries already posted
//! or passed over. A poll is claimed by one process (the claim moves `next_poll_at`
//! forward only if nobody else did), and an entry is recorded once per source by its id
//! and by its link (unique indexes), so no process posts an entry twice.

use super::{
    entities::{source, source_entry},
    ChannelId, DbError, DbResult, PostId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceId(pub i64);

#[derive(Clone, Debug)]
pub struct Source {
    pub id: SourceId,
    pub channel_id: ChannelId,
    pub url: String,
    /// How an entry becomes a post (`{title}`, `{link}`, `{summary}` …).
    pub template: String,
    pub interval_secs: u32,
    pub initial_entries: u32,
    pub max_per_poll: u32,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_poll_at: DateTime<Utc>,
    pub last_polled_at: Option<DateTime<Utc>>,
    /// Polls that read the feed (0: the first is still to come).
    pub polls: u64,
    /// Failed polls in a row.
    pub failures: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// The WebSub hub the feed names, and its `self` URL (the topic).
    pub hub: Option<String>,
    pub topic: Option<String>,
    pub websub_secret: Option<String>,
    /// `requested`, `active` or `denied`.
    pub websub_state: Option<String>,
    pub websub_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<source::Model> for Source {
    fn from(m: source::Model) -> Source {
        let count = |v: i32| u32::try_from(v).unwrap_or_default();
        Source {
            id: SourceId(m.id),
            channel_id: ChannelId(m.channel_id),
            url: m.url,
            template: m.template,
            interval_secs: count(m.interval_secs),
            initial_entries: count(m.initial_entries),
            max_per_poll: count(m.max_per_poll),
            etag: m.etag,
            last_modified: m.last_modified,
            next_poll_at: m.next_poll_at,
            last_polled_at: m.last_polled_at,
            polls: u64::try_from(m.polls).unwrap_or_default(),
            failures: count(m.failures),
            last_status: m.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: m.last_error,
            hub: m.hub,
            topic: m.topic,
            websub_secret: m.websub_secret,
            websub_state: m.websub_state,
            websub_until: m.websub_until,
            created_at: m.created_at,
        }
    }
}

pub struct NewSource {
    pub channel_id: ChannelId,
    pub url: String,
    pub template: String,
    pub interval_secs: u32,
    pub initial_entries: u32,
    pub max_per_poll: u32,
}

fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Stores a source, due for its first poll now.
pub async fn create_source(db: &impl ConnectionTrait, new: NewSource) -> DbResult<Source> {
    let now = super::now();
    Ok(source::ActiveModel {
        channel_id: Set(new.channel_id.0),
        url: Set(new.url),
        template: Set(new.template),
        interval_secs: Set(int(new.interval_secs)),
        initial_entries: Set(int(new.initial_entries)),
        max_per_poll: Set(int(new.max_per_poll)),
        etag: Set(None),
        last_modified: Set(None),
        next_poll_at: Set(now),
        last_polled_at: Set(None),
        polls: Set(0),
        failures: Set(0),
        last_status: Set(None),
        last_error: Set(None),
        hub: Set(None),
        topic: Set(None),
        websub_secret: Set(None),
        websub_state: Set(None),
        websub_until: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?
    .into())
}

pub async fn sources_of(db: &impl ConnectionTrait, channel: ChannelId) -> DbResult<Vec<Source>> {
    Ok(source::Entity::find()
        .filter(source::Column::ChannelId.eq(channel.0))
        .order_by_asc(source::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Source::from)
        .collect())
}

pub async fn all_sources(db: &impl ConnectionTrait) -> DbResult<Vec<Source>> {
    Ok(source::Entity::find()
        .order_by_asc(source::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Source::from)
        .collect())
}

pub async fn source_by_id(db: &impl ConnectionTrait, id: SourceId) -> DbResult<Source> {
    Ok(source::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .into())
}

/// Deletes a source with its entries (the posts stay).
pub async fn delete_source(db: &impl ConnectionTrait, id: SourceId) -> DbResult<()> {
    let deleted = source::Entity::delete_by_id(id.0).exec(db).await?;
    if deleted.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    source_entry::Entity::delete_many()
        .filter(source_entry::Column::SourceId.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Claims the source due longest ago for a poll by this process: its `next_poll_at`
/// moves to `lease_until`, so no other process takes it meanwhile. `None`: none is due.
pub async fn claim_due_source(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> DbResult<Option<Source>> {
    for _ in 0..5 {
        let Some(due) = source::Entity::find()
            .filter(source::Column::NextPollAt.lte(now))
            .order_by_asc(source::Column::NextPollAt)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let claimed = source::Entity::update_many()
            .col_expr(source::Column::NextPollAt, Expr::value(lease_until))
            .filter(source::Column::Id.eq(due.id))
            .filter(source::Column::NextPollAt.eq(due.next_poll_at))
            .exec(db)
            .await?;
        if claimed.rows_affected == 1 {
            return Ok(Some(due.into()));
        }
    }
    Ok(None)
}

/// What a poll leaves on its source.
pub struct PollRecord {
    /// `None`: keep the stored validators.
    pub validators: Option<(Option<String>, Option<String>)>,
    pub next_poll_at: DateTime<Utc>,
    /// True when the feed was read (the first poll is then done).
    pub read: bool,
    pub failures: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
}

pub async fn record_poll(
    db: &impl ConnectionTrait,
    id: SourceId,
    record: PollRecord,
) -> DbResult<Source> {
    let model = source::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?;
    let polls = model.polls;
    let mut active = model.into_active_model();
    if let Some((etag, last_modified)) = record.validators {
        active.etag = Set(etag);
        active.last_modified = Set(last_modified);
    }
    active.next_poll_at = Set(record.next_poll_at);
    active.last_polled_at = Set(Some(super::now()));
    if record.read {
        active.polls = Set(polls + 1);
    }
    active.failures = Set(int(record.failures));
    active.last_status = Set(record.status.map(i32::from));
    active.last_error = Set(record.error);
    Ok(active.update(db).await?.into())
}

/// Records the WebSub hub and topic a feed names, and the state of the subscription.
pub async fn set_websub(
    db: &impl ConnectionTrait,
    id: SourceId,
    hub: Option<String>,
    topic: Option<String>,
    secret: Option<String>,
    state: Option<&str>,
    until: Option<DateTime<Utc>>,
) -> DbResult<()> {
    let model = source::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?;
    let mut active = model.into_active_model();
    active.hub = Set(hub);
    active.topic = Set(topic);
    active.websub_secret = Set(secret);
    active.websub_state = Set(state.map(str::to_string));
    active.websub_until = Set(until);
    active.update(db).await?;
    Ok(())
}

/// An entry a source has met.
#[derive(Clone, Debug)]
pub struct SourceEntry {
    pub id: i64,
    pub post_id: Option<PostId>,
    pub updated: Option<DateTime<Utc>>,
}

/// The entry of `source` with this id or, failing that, this link.
pub async fn seen_entry(
    db: &impl ConnectionTrait,
    source: SourceId,
    key: &str,
    link: Option<&str>,
) -> DbResult<Option<SourceEntry>> {
    let mut either = Condition::any().add(source_entry::Column::EntryKey.eq(key));
    if let Some(link) = link {
        either = either.add(source_entry::Column::Link.eq(link));
    }
    Ok(source_entry::Entity::find()
        .filter(source_entry::Column::SourceId.eq(source.0))
        .filter(either)
        .one(db)
        .await?
        .map(|m| SourceEntry {
            id: m.id,
            post_id: m.post_id.as_deref().and_then(PostId::parse),
            updated: m.entry_updated,
        }))
}

/// Records an entry of `source` (posted as `post`, or passed over) and returns its id;
/// `None` when another poll recorded it first.
pub async fn record_entry(
    db: &impl ConnectionTrait,
    source: SourceId,
    key: &str,
    link: Option<&str>,
    post: Option<PostId>,
    updated: Option<DateTime<Utc>>,
) -> DbResult<Option<i64>> {
    let inserted = source_entry::ActiveModel {
        source_id: Set(source.0),
        entry_key: Set(key.to_string()),
        link: Set(link.map(str::to_string)),
        post_id: Set(post.map(|p| p.to_string())),
        entry_updated: Set(updated),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(model) => Ok(Some(model.id)),
        Err(e) => match DbError::from(e) {
            DbError::Conflict(_) => Ok(None),
            other => Err(other),
        },
    }
}

/// Notes an entry's post (once made) and the entry's `updated` time after an edit.
pub async fn update_entry(
    db: &impl ConnectionTrait,
    id: i64,
    post: Option<PostId>,
    updated: Option<DateTime<Utc>>,
) -> DbResult<()> {
    let mut update = source_entry::Entity::update_many()
        .col_expr(source_entry::Column::EntryUpdated, Expr::value(updated));
    if let Some(post) = post {
        update = update.col_expr(source_entry::Column::PostId, Expr::value(post.to_string()));
    }
    update
        .filter(source_entry::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

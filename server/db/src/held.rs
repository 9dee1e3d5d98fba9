//! Held fan-outs: a post that mentions accounts on other servers is stored with its
//! activity at once, but its fan-out waits (state `held`) until those mentions are looked
//! up, off the request path. Releasing one rewrites the post's links and tags and the
//! activity, and makes the fan-out pending, in one transaction that only the first of
//! several releasing processes wins.

use super::{
    entities::{activity, fanout, post},
    policy::to_json,
    DbResult, FanoutId, FanoutState, PostId,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::Value;
use uuid::Uuid;

/// A post's mentions as resolved: its HTML with their links, its `tag` array and the
/// mentioned actors' ids. Written only if the post's Markdown is still `source` (an edit
/// in between keeps its own rendering).
pub struct ResolvedMentions {
    pub post: PostId,
    pub source: String,
    pub content_html: String,
    pub tags: Vec<Value>,
    pub mentions: Vec<String>,
}

/// What releasing a held fan-out writes.
pub struct Release {
    pub fanout: FanoutId,
    pub activity: Uuid,
    /// The activity rebuilt with the resolved mentions.
    pub payload: String,
    /// Every inbox beyond the followers': the mentioned servers and those stored before.
    pub extra_inboxes: Vec<String>,
    pub mentions: Option<ResolvedMentions>,
}

/// Held fan-outs created before `older_than`, oldest first: their releasing process may
/// have stopped, so a sweep releases them.
pub async fn held_fanouts_before(
    db: &impl ConnectionTrait,
    older_than: DateTime<Utc>,
    limit: u64,
) -> DbResult<Vec<FanoutId>> {
    Ok(fanout::Entity::find()
        .select_only()
        .column(fanout::Column::Id)
        .filter(fanout::Column::State.eq(FanoutState::Held.as_str()))
        .filter(fanout::Column::CreatedAt.lt(older_than))
        .order_by_asc(fanout::Column::CreatedAt)
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .map(FanoutId)
        .collect())
}

/// How many fan-outs are held (for tests and tools that wait for every post to be out).
pub async fn count_held_fanouts(db: &impl ConnectionTrait) -> DbResult<u64> {
    Ok(fanout::Entity::find()
        .filter(fanout::Column::State.eq(FanoutState::Held.as_str()))
        .count(db)
        .await?)
}

/// Releases a held fan-out: it becomes pending with `release`'s inboxes, its activity gets
/// the rebuilt payload, and its post the resolved mentions. Returns `false` (and writes
/// nothing) when it was not held any more: another process released it first.
pub async fn release_held_fanout(db: &DatabaseConnection, release: Release) -> DbResult<bool> {
    let txn = db.begin().await?;
    let extra = (!release.extra_inboxes.is_empty()).then(|| to_json(&release.extra_inboxes));
    let released = fanout::Entity::update_many()
        .col_expr(
            fanout::Column::State,
            Expr::value(FanoutState::Pending.as_str()),
        )
        .col_expr(fanout::Column::ExtraInboxes, Expr::value(extra))
        .filter(fanout::Column::Id.eq(release.fanout.0))
        .filter(fanout::Column::State.eq(FanoutState::Held.as_str()))
        .exec(&txn)
        .await?;
    if released.rows_affected == 0 {
        return Ok(false);
    }
    activity::Entity::update_many()
        .col_expr(activity::Column::Payload, Expr::value(release.payload))
        .filter(activity::Column::Id.eq(release.activity.to_string()))
        .exec(&txn)
        .await?;
    if let Some(resolved) = release.mentions {
        post::Entity::update_many()
            .col_expr(
                post::Column::ContentHtml,
                Expr::value(resolved.content_html),
            )
            .col_expr(post::Column::Tags, Expr::value(to_json(&resolved.tags)))
            .col_expr(
                post::Column::Mentions,
                Expr::value(to_json(&resolved.mentions)),
            )
            .filter(post::Column::Id.eq(resolved.post.to_string()))
            .filter(post::Column::Source.eq(resolved.source))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Ends a held fan-out without sending anything (its post was deleted meanwhile).
pub async fn cancel_held_fanout(db: &impl ConnectionTrait, id: FanoutId) -> DbResult<bool> {
    let result = fanout::Entity::update_many()
        .col_expr(
            fanout::Column::State,
            Expr::value(FanoutState::Done.as_str()),
        )
        .col_expr(fanout::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(fanout::Column::Id.eq(id.0))
        .filter(fanout::Column::State.eq(FanoutState::Held.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

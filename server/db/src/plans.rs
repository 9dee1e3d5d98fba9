//! The hot queries and the indexes that serve them, checked with the database's own
//! `EXPLAIN`: a test runs [`hot_query_plans`] on SQLite and PostgreSQL and fails when a
//! query would read its whole table. The queries are built by the same functions the
//! query code uses, so a change to one is checked here too.

use super::{
    delivery_reports::{backlog_counts_query, troubled_deliveries_query},
    fanouts::stale_pending_fanouts_query,
    followers::follower_inbox_page_query,
    post_queries::list_posts_query,
    recovery::{overdue_retries_query, stale_pending_deliveries_query},
    ChannelId, DbResult, PostId,
};
use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, QueryTrait, Statement, TransactionTrait,
};

/// A hot query, the indexes that may serve it, and the plan the database chose.
#[derive(Debug)]
pub struct QueryPlan {
    pub name: &'static str,
    /// Any of these serves the query.
    pub indexes: &'static [&'static str],
    /// The plan, one line per step.
    pub plan: String,
}

impl QueryPlan {
    /// Whether the plan reads one of the expected indexes.
    pub fn uses_an_expected_index(&self) -> bool {
        self.indexes.iter().any(|index| self.plan.contains(index))
    }
}

/// Explains every hot query. On PostgreSQL, sequential scans are discouraged for the
/// check (`enable_seqscan = off`, in a transaction rolled back): with the few rows of a
/// test the planner would rightly scan anyway, and the question is whether an index
/// *could* serve the query.
pub async fn hot_query_plans(db: &DatabaseConnection) -> DbResult<Vec<QueryPlan>> {
    let backend = db.get_database_backend();
    let channel = ChannelId(1);
    let now = Utc::now();
    let queries: Vec<(&'static str, &'static [&'static str], Statement)> = vec![
        (
            "fan-out: the next page of a channel's follower inboxes",
            &["idx_followers_channel_inbox"],
            follower_inbox_page_query(channel, Some("https://a.example/inbox"), 1000)
                .build(backend),
        ),
        (
            "pages, feeds, outbox: a channel's posts, newest first",
            &["idx_posts_channel_id"],
            list_posts_query(channel, Some(PostId::new()), 20).build(backend),
        ),
        (
            "sweeper: fan-outs pending since before",
            &["idx_fanouts_state"],
            stale_pending_fanouts_query(now, 100).build(backend),
        ),
        (
            "sweeper: deliveries pending since before",
            &["idx_deliveries_state"],
            stale_pending_deliveries_query(now, 100).build(backend),
        ),
        (
            "sweeper: retries overdue",
            &["idx_deliveries_state"],
            overdue_retries_query(now, 100).build(backend),
        ),
        (
            "metrics: deliveries not done, by state",
            &["idx_deliveries_state"],
            backlog_counts_query().build(backend),
        ),
        (
            "delivery report: a post's troubled deliveries",
            &["idx_deliveries_activity_inbox", "idx_deliveries_state"],
            troubled_deliveries_query(uuid::Uuid::now_v7(), 50).build(backend),
        ),
    ];
    let txn = db.begin().await?;
    if backend == DatabaseBackend::Postgres {
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await?;
    }
    let mut plans = Vec::new();
    for (name, indexes, statement) in queries {
        let prefix = match backend {
            DatabaseBackend::Sqlite => "EXPLAIN QUERY PLAN",
            _ => "EXPLAIN",
        };
        let explain = Statement {
            sql: format!("{prefix} {}", statement.sql),
            ..statement
        };
        let rows = txn.query_all(explain).await?;
        let lines: Vec<String> = rows
            .iter()
            .filter_map(|row| match backend {
                DatabaseBackend::Sqlite => row.try_get::<String>("", "detail").ok(),
                _ => row.try_get::<String>("", "QUERY PLAN").ok(),
            })
            .collect();
        plans.push(QueryPlan {
            name,
            indexes,
            plan: lines.join("\n"),
        });
    }
    txn.rollback().await?;
    Ok(plans)
}

//! The database: connection, migrations, and every query Herald makes.
//!
//! Only this module names sea-orm. Its entities are private; the rest of Herald calls the
//! query functions here with `&impl ConnectionTrait` (a connection or a transaction) and gets
//! plain row types back (`Channel`, `Post`), passing forms in (`NewChannel`, `NewPost`). A rule
//! that spans tables (a post with its `Create` and its pending fan-out) is one function that
//! owns its transaction. Uniqueness comes from constraints, never check-then-insert.
//! A leaf module: it calls no other part of Herald.

mod activities;
mod actors;
mod audit;
mod backup;
mod channels;
mod deliveries;
mod delivery_reports;
mod entities;
mod fanouts;
mod followers;
mod held;
mod idempotency;
mod inbound;
mod instances;
mod media;
mod moderation;
mod oauth;
mod people;
mod plans;
mod policy;
mod portable;
mod post_queries;
mod posts;
mod queue_states;
mod recent;
mod recovery;
mod sessions;
mod settings;
mod sources;
mod tokens;
mod webhooks;

pub use activities::*;
pub use actors::*;
pub use audit::*;
pub use backup::*;
pub use channels::*;
pub use deliveries::*;
pub use delivery_reports::*;
pub use fanouts::*;
pub use followers::*;
pub use held::*;
pub use idempotency::*;
pub use inbound::*;
pub use instances::*;
pub use media::*;
pub use moderation::*;
pub use oauth::*;
pub use people::*;
pub use plans::{hot_query_plans, QueryPlan};
pub use policy::{Audience, InteractionPolicy, ProfileField, Visibility};
pub use portable::*;
pub use post_queries::*;
pub use posts::*;
pub use queue_states::{DeliveryState, FanoutState};
pub use recent::*;
pub use recovery::*;
pub use sessions::*;
pub use settings::*;
pub use sources::*;
pub use tokens::*;
pub use webhooks::*;

pub use herald_base::{config::PoolOptions, ids::*, now};
pub use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use herald_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DbErr, SqlErr};

/// What can go wrong in a query, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write (a name already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value could not be read back (a corrupt row).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached.
    #[error(transparent)]
    Database(DbErr),
}

impl From<DbErr> for DbError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => DbError::Conflict(detail),
            _ => match err {
                DbErr::RecordNotFound(_) => DbError::NotFound,
                other => DbError::Database(other),
            },
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Opens the database at `url` with a default pool (for tools and tests).
pub async fn connect(url: &str) -> DbResult<DatabaseConnection> {
    connect_with(url, PoolOptions::default()).await
}

/// Opens the database at `url`. For SQLite, the file's directory is created and the
/// journal switched to WAL.
pub async fn connect_with(url: &str, pool: PoolOptions) -> DbResult<DatabaseConnection> {
    if let Some(path) = sqlite_file(url) {
        if let Some(dir) = std::path::Path::new(&path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::Database(DbErr::Custom(format!(
                        "cannot create the database directory {}: {e}",
                        dir.display()
                    )))
                })?;
            }
        }
    }
    let sqlite = is_sqlite(url);
    let max_connections = pool.max_connections.unwrap_or(if sqlite { 1 } else { 20 });
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(max_connections)
        .min_connections(pool.min_connections.min(max_connections))
        .connect_timeout(pool.connect_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .sqlx_logging(false)
        // WAL: readers never wait for the writer. synchronous=NORMAL is what SQLite
        // recommends with WAL: no corruption, durable across a process crash; a power cut
        // may lose the last commits, which for the queue means a few deliveries re-sent.
        .map_sqlx_sqlite_opts(|o| {
            o.pragma("journal_mode", "WAL")
                .pragma("synchronous", "NORMAL")
        });
    // Switching a new SQLite file to WAL needs it to itself for a moment: a process that
    // starts while another migrates may find it locked. It waits its turn, a while.
    let mut attempt = 0;
    loop {
        match Database::connect(options.clone()).await {
            Err(e) if sqlite && attempt < 20 && e.to_string().contains("database is locked") => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            result => return Ok(result?),
        }
    }
}

/// Whether `url` names an SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The file path of a `sqlite://PATH?…` URL, or `None` for other databases and memory.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// The PostgreSQL advisory lock that lets one process migrate at a time ("herald").
const MIGRATION_LOCK: i64 = 0x6865_7261_6c64;

/// Applies every pending migration. Processes that start together take turns: the first
/// migrates, the others then find nothing left to do. The migrations run in one
/// transaction that first takes a lock — an advisory lock on PostgreSQL, the write lock
/// on SQLite (a write that changes nothing) — so a failed migration also leaves the
/// schema as it was.
pub async fn migrate(db: &DatabaseConnection) -> DbResult<()> {
    let backend = db.get_database_backend();
    if backend == sea_orm::DatabaseBackend::Sqlite {
        // The migrations table, to write to; creating it is idempotent.
        Migrator::install(db).await?;
    }
    let txn = db.begin().await?;
    match backend {
        sea_orm::DatabaseBackend::Postgres => {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await?;
        }
        _ => {
            txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 0 = 1")
                .await?;
        }
    }
    Migrator::up(&txn, None).await?;
    txn.commit().await?;
    Ok(())
}

/// How many migrations this database lacks (`herald migrate` applies them).
pub async fn pending_migrations(db: &DatabaseConnection) -> DbResult<usize> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}

/// The database server's clock, or `None` for SQLite (which runs in this process).
pub async fn server_time(
    db: &DatabaseConnection,
) -> DbResult<Option<chrono::DateTime<chrono::Utc>>> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT now() AS now",
        ))
        .await?;
    Ok(row.and_then(|row| row.try_get::<chrono::DateTime<chrono::Utc>>("", "now").ok()))
}

/// Checks the database answers (for readiness and start-up checks).
pub async fn ping(db: &DatabaseConnection) -> DbResult<()> {
    db.ping().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{connect_with, sqlite_file, PoolOptions};

    #[tokio::test]
    async fn sqlite_gets_one_connection_unless_told_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/p.db?mode=rwc", dir.path().display());
        let automatic = connect_with(&url, PoolOptions::default()).await.unwrap();
        let pool = automatic.get_sqlite_connection_pool();
        assert_eq!(pool.options().get_max_connections(), 1);
        let three = PoolOptions {
            max_connections: Some(3),
            ..PoolOptions::default()
        };
        let chosen = connect_with(&url, three).await.unwrap();
        assert_eq!(
            chosen
                .get_sqlite_connection_pool()
                .options()
                .get_max_connections(),
            3
        );
    }

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(
            sqlite_file("sqlite://data/herald.db?mode=rwc").as_deref(),
            Some("data/herald.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://db/herald"), None);
    }
}

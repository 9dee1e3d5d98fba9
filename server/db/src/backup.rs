//! Consistent copies of a running SQLite database.

use super::{DbError, DbResult};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::path::Path;

/// Writes a snapshot of the SQLite database behind `db` to a new file at `path`, while
/// Herald keeps running: `VACUUM INTO` reads one transaction's view of the database (so
/// the copy is consistent, unlike copying the file and its WAL) and writes a compact,
/// self-contained database file. Refuses a `path` that exists, and databases other than
/// SQLite.
pub async fn snapshot_sqlite(db: &DatabaseConnection, path: &Path) -> DbResult<()> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(DbError::Database(DbErr::Custom(
            "a snapshot with VACUUM INTO needs an SQLite database".into(),
        )));
    }
    if path.exists() {
        return Err(DbError::Conflict(format!(
            "{} already exists",
            path.display()
        )));
    }
    let target = path.to_str().ok_or_else(|| {
        DbError::Database(DbErr::Custom(format!(
            "{} is not a UTF-8 path",
            path.display()
        )))
    })?;
    db.execute(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await?;
    Ok(())
}

/// The database file of an SQLite `database_url`, or `None` for other databases and for
/// an in-memory one.
pub fn sqlite_database_file(url: &str) -> Option<std::path::PathBuf> {
    super::sqlite_file(url).map(std::path::PathBuf::from)
}

//! The schema comes from the migrations alone, and they run up, down and up again on
//! SQLite and PostgreSQL.

use crate::harness::Backend;
use herald::db::{self, ConnectionTrait};
use herald_migrations::{Migrator, MigratorTrait};

async fn up_down_up(url: &str) {
    let conn = db::connect(url).await.unwrap();
    Migrator::up(&conn, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&conn)
        .await
        .unwrap()
        .is_empty());
    conn.execute_unprepared("SELECT count(*) FROM deliveries")
        .await
        .unwrap();
    Migrator::down(&conn, None).await.unwrap();
    assert!(
        conn.execute_unprepared("SELECT count(*) FROM deliveries")
            .await
            .is_err(),
        "down drops the tables"
    );
    Migrator::up(&conn, None).await.unwrap();
    conn.execute_unprepared("SELECT count(*) FROM channels")
        .await
        .unwrap();
}

#[tokio::test]
async fn migrations_run_up_down_up_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    up_down_up(&format!("sqlite://{}/m.db?mode=rwc", dir.path().display())).await;
}

#[tokio::test]
async fn migrations_run_up_down_up_on_postgres() {
    let Some(admin) = Backend::postgres_url() else {
        return;
    };
    let name = format!("herald_migrations_{}", uuid::Uuid::now_v7().simple());
    let admin_conn = db::connect(&admin).await.unwrap();
    admin_conn
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    up_down_up(url.as_str()).await;
    admin_conn
        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
}

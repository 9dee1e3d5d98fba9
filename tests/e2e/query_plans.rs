//! Every hot query is served by an index, on SQLite and on PostgreSQL, as the databases'
//! own EXPLAIN shows.

use crate::harness::Backend;
use herald::db;

async fn check(url: &str) {
    let conn = db::connect(url).await.unwrap();
    db::migrate(&conn).await.unwrap();
    let plans = db::hot_query_plans(&conn).await.unwrap();
    assert_eq!(plans.len(), 7);
    for plan in &plans {
        assert!(!plan.plan.is_empty(), "no plan for {}", plan.name);
        assert!(
            plan.uses_an_expected_index(),
            "{} is not served by {:?}:\n{}",
            plan.name,
            plan.indexes,
            plan.plan
        );
    }
}

#[tokio::test]
async fn hot_queries_use_their_indexes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    check(&format!("sqlite://{}/p.db?mode=rwc", dir.path().display())).await;
}

#[tokio::test]
async fn hot_queries_use_their_indexes_on_postgres() {
    let Some(admin) = Backend::postgres_url() else {
        return;
    };
    let database = crate::harness::instance::PostgresDatabase::create(&admin).await;
    check(&database.url).await;
}

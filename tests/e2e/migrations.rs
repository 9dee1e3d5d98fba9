//! The schema comes from the migrations alone, and they run up, down and up again on
//! SQLite and PostgreSQL; an upgrade from the schema before the latest migration keeps
//! the data written under it.

use crate::harness::{eventually, instance::PostgresDatabase, Backend, FakeRemote, WAIT};
use chrono::{DateTime, Utc};
use herald::{
    api::Scope,
    app::Herald,
    config::Config,
    db::{self, ConnectionTrait, DatabaseConnection, ProfileField, Visibility},
    delivery::signing,
};
use herald_migrations::{
    sea_orm::{DbBackend, Statement, Value},
    Migrator, MigratorTrait,
};
use serde_json::json;
use std::{net::TcpListener, sync::Arc};
use uuid::Uuid;

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

/// Runs `sql` (placeholders `$1`, `$2` …, rewritten to `?` for SQLite) with `values`;
/// returns the `id` it gives back when it has `RETURNING id`.
async fn raw(conn: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Option<i64> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => (1..=values.len())
            .rev()
            .fold(sql.to_string(), |sql, i| sql.replace(&format!("${i}"), "?")),
        _ => sql.to_string(),
    };
    let statement = Statement::from_sql_and_values(backend, &sql, values);
    if sql.contains("RETURNING id") {
        let row = conn.query_one(statement).await.unwrap().expect("a row");
        Some(row.try_get::<i64>("", "id").unwrap())
    } else {
        conn.execute(statement).await.unwrap();
        None
    }
}

/// Migrates the empty database at `url` to all migrations but the last, writes a channel,
/// a follower and its actor, a post with its `Create`, fan-out and delivery as the schema
/// then was (with raw SQL: only the columns that existed, every NOT NULL one given),
/// applies the last migration as Herald does at start, and reads everything back through
/// Herald's queries. Then Herald serves the upgraded database, and a new post reaches the
/// follower stored before the upgrade, signed with the channel's stored key.
///
/// It always starts from "all but the last", so each new migration is tested against data
/// of the schema before it; a migration that drops or renames a column used here must
/// update these statements.
async fn upgrade_keeps_the_data(url: &str) {
    let conn = db::connect(url).await.unwrap();
    let n = u32::try_from(Migrator::migrations().len()).unwrap();
    Migrator::up(&conn, Some(n - 1)).await.unwrap();
    assert_eq!(
        Migrator::get_pending_migrations(&conn).await.unwrap().len(),
        1
    );

    // A real follower on a fake remote server, to deliver to after the upgrade.
    let remote = FakeRemote::start(false).await;
    let alice = remote.add_user("alice");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let domain = format!("localhost:{}", listener.local_addr().unwrap().port());

    let (public_key_pem, private_key_pem) = signing::generate_keypair().unwrap();
    let created: DateTime<Utc> = db::now() - chrono::Duration::days(2);
    let published = created + chrono::Duration::minutes(5);
    let fields = vec![ProfileField {
        name: "Web".into(),
        value: "https://example.com".into(),
    }];
    let channel_id = raw(
        &conn,
        "INSERT INTO channels (name, display_name, summary, bot, public_key_pem, \
         private_key_pem, created_at, updated_at, fields, default_language) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        vec![
            "ceo".into(),
            "The CEO".into(),
            "News from **ceo**".into(),
            true.into(),
            public_key_pem.clone().into(),
            private_key_pem.clone().into(),
            created.into(),
            created.into(),
            serde_json::to_string(&fields).unwrap().into(),
            "en".into(),
        ],
    )
    .await
    .unwrap();
    let actor_id = raw(
        &conn,
        "INSERT INTO remote_actors (uri, inbox, shared_inbox, public_key_pem, authority, \
         fetched_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        vec![
            alice.id.to_string().into(),
            alice.inbox.to_string().into(),
            Option::<String>::None.into(),
            alice.public_key_pem.clone().into(),
            remote.domain.clone().into(),
            created.into(),
        ],
    )
    .await
    .unwrap();
    let follow_uri = remote.base().join("follows/1").unwrap().to_string();
    raw(
        &conn,
        "INSERT INTO followers (channel_id, remote_actor_id, target_inbox, follow_uri, \
         created_at) VALUES ($1, $2, $3, $4, $5)",
        vec![
            channel_id.into(),
            actor_id.into(),
            alice.inbox.to_string().into(),
            follow_uri.clone().into(),
            created.into(),
        ],
    )
    .await;
    let post_id = Uuid::now_v7();
    raw(
        &conn,
        "INSERT INTO posts (id, channel_id, source, content_html, summary, language, \
         sensitive, created_at, published_at, visibility, tags, mentions) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            post_id.to_string().into(),
            channel_id.into(),
            "Before the *upgrade*".into(),
            "<p>Before the <em>upgrade</em></p>".into(),
            Option::<String>::None.into(),
            "en".into(),
            false.into(),
            created.into(),
            published.into(),
            "quiet".into(),
            "[]".into(),
            "[]".into(),
        ],
    )
    .await;
    let activity_id = Uuid::now_v7();
    let payload = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("http://{domain}/activities/{activity_id}"),
        "type": "Create",
        "actor": format!("http://{domain}/channels/ceo"),
        "object": { "id": format!("http://{domain}/channels/ceo/posts/{post_id}"), "type": "Note" },
    })
    .to_string();
    raw(
        &conn,
        "INSERT INTO activities (id, channel_id, kind, post_id, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            activity_id.to_string().into(),
            channel_id.into(),
            "Create".into(),
            post_id.to_string().into(),
            payload.clone().into(),
            published.into(),
        ],
    )
    .await;
    raw(
        &conn,
        "INSERT INTO fanouts (activity_id, state, created_at, finished_at) \
         VALUES ($1, $2, $3, $4)",
        vec![
            activity_id.to_string().into(),
            "done".into(),
            published.into(),
            published.into(),
        ],
    )
    .await;
    raw(
        &conn,
        "INSERT INTO deliveries (activity_id, inbox, authority, state, attempts, \
         last_status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            activity_id.to_string().into(),
            alice.inbox.to_string().into(),
            remote.domain.clone().into(),
            "delivered".into(),
            1i32.into(),
            202i32.into(),
            published.into(),
            published.into(),
        ],
    )
    .await;

    // The upgrade, as `herald serve` and `herald migrate` run it.
    db::migrate(&conn).await.unwrap();
    assert!(Migrator::get_pending_migrations(&conn)
        .await
        .unwrap()
        .is_empty());

    let channel = db::channel_by_name(&conn, "ceo").await.unwrap();
    assert_eq!(channel.id.0, channel_id);
    assert_eq!(channel.display_name, "The CEO");
    assert_eq!(channel.summary, "News from **ceo**");
    assert!(channel.bot);
    assert_eq!(channel.public_key_pem, public_key_pem);
    assert_eq!(channel.private_key_pem, private_key_pem);
    assert_eq!(channel.created_at, created);
    assert_eq!(channel.fields, fields);
    assert_eq!(channel.default_language.as_deref(), Some("en"));
    assert!(!channel.manually_approves);

    assert_eq!(db::count_followers(&conn, channel.id).await.unwrap(), 1);
    let followers = db::list_followers(&conn, channel.id, false, None, 10)
        .await
        .unwrap();
    assert_eq!(followers.len(), 1, "the follower is approved, not pending");
    assert_eq!(followers[0].actor_uri, alice.id.as_str());
    assert_eq!(followers[0].follow_uri, follow_uri);
    let actor = db::remote_actor_by_uri(&conn, &alice.id).await.unwrap();
    assert_eq!(actor.public_key_pem, alice.public_key_pem);
    assert_eq!(actor.delivery_inbox(), &alice.inbox);

    let posts = db::list_posts(&conn, channel.id, None, 10).await.unwrap();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post.id.0, post_id);
    assert_eq!(post.source, "Before the *upgrade*");
    assert_eq!(post.content_html, "<p>Before the <em>upgrade</em></p>");
    assert_eq!(post.language.as_deref(), Some("en"));
    assert_eq!(post.visibility, Visibility::Quiet);
    assert_eq!(post.created_at, created);
    assert_eq!(post.published_at, Some(published));
    assert!(post.is_published());
    assert_eq!(db::count_posts(&conn, None).await.unwrap(), 1);

    let activity = db::activity_by_id(&conn, activity_id).await.unwrap();
    assert_eq!(activity.kind, "Create");
    assert_eq!(activity.post_id.map(|p| p.0), Some(post_id));
    assert_eq!(activity.payload, payload);
    let fanout = db::fanout_for_activity(&conn, activity_id).await.unwrap();
    assert_eq!(fanout.state, db::FanoutState::Done.as_str());
    let counts = db::delivery_counts(&conn, Some(activity_id)).await.unwrap();
    assert_eq!(
        counts[db::DeliveryState::Delivered.as_str()],
        1,
        "{counts:?}"
    );
    assert_eq!(counts.values().sum::<u64>(), 1, "{counts:?}");

    // Herald serves the upgraded database: a new post goes to the follower stored before
    // the upgrade, signed with the key stored before it (the remote verifies both).
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("HERALD_DOMAIN", domain.clone()),
        ("HERALD_LISTEN", listener.local_addr().unwrap().to_string()),
        ("HERALD_DATA_DIR", dir.path().display().to_string()),
        ("HERALD_DATABASE_URL", url.to_string()),
        ("HERALD_DEBUG", "true".to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let config = Config::from_sources(None, env).unwrap();
    let herald = Arc::new(Herald::start(config).await.expect("Herald starts"));
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    let serving = herald.clone();
    let server = tokio::spawn(async move { serving.serve(listener, true, rx).await });
    let (token, _) = herald
        .token_keys
        .issue(&conn, &channel, &Scope::ALL, None, None, None)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{domain}/api/v1/channels/ceo/posts"))
        .bearer_auth(&token)
        .json(&json!({ "text": "After the upgrade" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let new_post: serde_json::Value = response.json().await.unwrap();
    let creates = eventually("the follower gets the new post", WAIT, || async {
        let creates = remote.received_of("Create");
        (!creates.is_empty()).then_some(creates)
    })
    .await;
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0].activity["object"]["id"], new_post["uri"]);
    assert_eq!(creates[0].path, alice.inbox.path());

    let listed: serde_json::Value = client
        .get(format!("http://{domain}/api/v1/channels/ceo/posts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = listed["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        [
            new_post["id"].as_str().unwrap().to_string(),
            post_id.to_string()
        ],
        "both posts, newest first"
    );
    shutdown.send(true).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_from_the_previous_schema_keeps_the_data_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_keeps_the_data(&format!("sqlite://{}/u.db?mode=rwc", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_from_the_previous_schema_keeps_the_data_on_postgres() {
    let Some(admin) = Backend::postgres_url() else {
        return;
    };
    let database = PostgresDatabase::create(&admin).await;
    upgrade_keeps_the_data(&database.url).await;
}

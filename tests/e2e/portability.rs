//! Backups and portability: `herald backup` copies a running instance consistently (an
//! SQLite snapshot, or `pg_dump`: those tests pick their database); `herald export` and
//! `herald import` move a channel, keeping every id on the same domain, and with new ids,
//! the same key and content and no followers on another (on the suite's database).

use crate::harness::{followed, instance::Options, Backend, FakeRemote, Followed, TestInstance};
use herald::db;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A Herald whose channel `ceo` has what an owner leaves behind: a follower, a post with
/// an image and a hashtag, a pinned post and a scheduled post; with the documents as
/// served before any move.
struct Populated {
    herald: TestInstance,
    remote: FakeRemote,
    /// The API's JSON of the three posts.
    with_image: Value,
    pinned: Value,
    scheduled: Value,
    /// The Notes of the two published posts, as served.
    notes: Vec<Value>,
    /// The image's bytes, as served.
    image: Vec<u8>,
    actor: Value,
    /// A deleted post, and what its id answered before the move.
    deleted: Value,
    deleted_status: u16,
}

async fn populated() -> Populated {
    let Followed {
        herald,
        token,
        remote,
    } = followed(
        Options {
            workers: false,
            ..Options::default()
        },
        true,
        "alice",
    )
    .await;

    let media = herald.upload_image(&token, "A rising chart").await;
    let (status, with_image) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "Numbers are #up", "media_ids": [media["id"]]}),
        )
        .await;
    assert_eq!(status, 201, "{with_image}");
    let (status, pinned) = herald
        .post("ceo", Some(&token), &json!({"text": "Read this first"}))
        .await;
    assert_eq!(status, 201, "{pinned}");
    let (status, body, _) = herald
        .api(
            &token,
            reqwest::Method::POST,
            &format!(
                "/api/v1/channels/ceo/posts/{}/pin",
                pinned["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let at = chrono::Utc::now() + chrono::Duration::hours(2);
    let (status, scheduled) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "Later", "scheduled_at": at.to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 201, "{scheduled}");
    let (status, oops) = herald
        .post("ceo", Some(&token), &json!({"text": "Oops"}))
        .await;
    assert_eq!(status, 201, "{oops}");
    let (status, body, _) = herald
        .api(
            &token,
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/channels/ceo/posts/{}",
                oops["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert!(status < 300, "{status} {body}");
    let avatar = herald.upload_image(&token, "Our logo").await;
    let (status, body, _) = herald
        .api(
            &token,
            reqwest::Method::PATCH,
            "/api/v1/channels/ceo",
            Some(json!({"avatar_id": avatar["id"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    herald.worker().drain().await.unwrap();

    let (deleted_status, _) = herald
        .get_activity_json(oops["uri"].as_str().unwrap())
        .await;
    assert_ne!(
        deleted_status, 200,
        "a deleted post is not served as a Note"
    );
    let mut notes = Vec::new();
    for post in [&with_image, &pinned] {
        let (status, note) = herald
            .get_activity_json(post["uri"].as_str().unwrap())
            .await;
        assert_eq!(status, 200, "{note}");
        notes.push(note);
    }
    let image = fetch(&herald, media["url"].as_str().unwrap()).await;
    let (_, actor) = herald.get_activity_json(&herald.url("/channels/ceo")).await;
    Populated {
        herald,
        remote,
        with_image,
        pinned,
        scheduled,
        notes,
        image,
        actor,
        deleted: oops,
        deleted_status,
    }
}

async fn fetch(herald: &TestInstance, url: &str) -> Vec<u8> {
    let response = herald.client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.bytes().await.unwrap().to_vec()
}

/// `herald export ceo FILE` on `herald`; returns FILE.
fn export(herald: &TestInstance, dir: &Path) -> PathBuf {
    let file = dir.join("ceo.herald");
    let (code, out, err) = herald.run_herald(&["export", "ceo", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("private key"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the archive holds a private key");
    }
    file
}

/// Runs `herald ARGS` on `herald`'s configuration with `extra` variables on top.
fn run_with(herald: &TestInstance, args: &[&str], extra: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_herald-e2e"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HERALD_") {
            command.env_remove(key);
        }
    }
    let output = command
        .envs(herald.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("HERALD_LOG", "warn")
        .envs(extra.iter().copied())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The channel `name` on `herald`, with a fresh token for it.
async fn channel_and_token(herald: &TestInstance, name: &str) -> (db::Channel, String) {
    let channel = db::channel_by_name(&herald.state().db, name).await.unwrap();
    let token = herald.token(&channel).await;
    (channel, token)
}

/// The API's list of a channel's published (or scheduled) posts.
async fn posts(herald: &TestInstance, token: &str, scheduled: bool) -> Vec<Value> {
    let (status, body) = herald
        .get_json(
            &format!("/api/v1/channels/ceo/posts?scheduled={scheduled}"),
            token,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["posts"].as_array().unwrap().clone()
}

fn media_files(herald: &TestInstance) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&herald.state().config.posts.media_dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Export, wipe the channel, import on the same Herald: followers' servers see the same
/// actor, key and Notes, and nothing is sent to them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_on_the_same_domain_keeps_every_id() {
    let p = populated().await;
    let h = &p.herald;
    let dir = tempfile::tempdir().unwrap();
    let file = export(h, dir.path());
    let received = p.remote.received().len();

    let uploaded = media_files(h);
    assert!(!uploaded.is_empty());
    // `--now`: the channel comes back here under the same ids; its followers must not be
    // told it is gone.
    let (code, out, err) = h.run_herald(&["channel", "delete", "ceo", "--now"]);
    assert_eq!(code, 0, "{err}");
    let (status, _) = h.get_activity_json(&h.url("/channels/ceo")).await;
    assert_ne!(status, 200, "the channel is gone");
    // Its uploads went with it.
    assert!(
        out.contains(&format!("{} media file(s)", uploaded.len())),
        "{out}"
    );
    assert_eq!(media_files(h), Vec::<String>::new());

    let (code, out, err) = h.run_herald(&["import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Every id is kept"), "{out}");
    assert!(out.contains("followers: 1"), "{out}");
    assert!(!err.contains("warning"), "{err}");

    let (status, actor) = h.get_activity_json(&h.url("/channels/ceo")).await;
    assert_eq!(status, 200, "{actor}");
    assert_eq!(actor["id"], p.actor["id"]);
    assert_eq!(
        actor["publicKey"]["publicKeyPem"],
        p.actor["publicKey"]["publicKeyPem"]
    );
    assert_eq!(actor["name"], p.actor["name"]);
    assert_eq!(actor["icon"], p.actor["icon"], "the same avatar");
    let (status, _) = h
        .get_activity_json(p.deleted["uri"].as_str().unwrap())
        .await;
    assert_eq!(status, p.deleted_status, "the deleted post stays deleted");
    for before in &p.notes {
        let (status, note) = h.get_activity_json(before["id"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{note}");
        assert_eq!(note["id"], before["id"]);
        assert_eq!(note["content"], before["content"]);
        assert_eq!(note["published"], before["published"]);
        assert_eq!(note["attachment"], before["attachment"]);
    }
    let image_url = p.notes[0]["attachment"][0]["url"].as_str().unwrap();
    assert_eq!(fetch(h, image_url).await, p.image);

    let (channel, token) = channel_and_token(h, "ceo").await;
    assert_eq!(h.follower_count(&channel).await, 1);
    let (_, featured) = h.get_activity_json(&h.url("/channels/ceo/featured")).await;
    assert_eq!(featured["totalItems"], 1, "{featured}");
    assert_eq!(featured["orderedItems"][0]["id"], p.pinned["uri"]);
    let scheduled = posts(h, &token, true).await;
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0]["id"], p.scheduled["id"]);
    assert_eq!(scheduled[0]["scheduled_at"], p.scheduled["scheduled_at"]);
    assert_eq!(scheduled[0]["published_at"], Value::Null);
    let published = posts(h, &token, false).await;
    let ids: Vec<&Value> = published.iter().map(|post| &post["id"]).collect();
    assert_eq!(ids, [&p.pinned["id"], &p.with_image["id"]], "newest first");

    // Import sends nothing: the queue holds nothing for the follower.
    h.worker().drain().await.unwrap();
    assert_eq!(p.remote.received().len(), received);

    // Into an empty database for the same domain (a new machine): the follower's actor
    // is cached anew, the media files land in that machine's media directory.
    let fresh_data = dir.path().join("fresh");
    let fresh_url = format!("sqlite://{}/herald.db?mode=rwc", fresh_data.display());
    let fresh = [
        ("HERALD_DATA_DIR", fresh_data.to_str().unwrap()),
        ("HERALD_DATABASE_URL", fresh_url.as_str()),
    ];
    let (code, out, err) = run_with(h, &["import", file.to_str().unwrap()], &fresh);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Every id is kept"), "{out}");
    let (code, out, err) = run_with(h, &["channel", "show", "ceo"], &fresh);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("followers:    1"), "{out}");
    assert!(out.contains("posts:        2"), "{out}");
    let image_file = image_url.rsplit('/').next().unwrap();
    assert_eq!(
        std::fs::read(fresh_data.join("media").join(image_file)).unwrap(),
        p.image
    );
}

/// On another domain: new ids, the same key and content, hashtags linking to the new
/// pages, no followers (they follow the old actor), and a warning that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_on_another_domain_starts_afresh() {
    let p = populated().await;
    let a = &p.herald;
    let dir = tempfile::tempdir().unwrap();
    let file = export(a, dir.path());
    let b = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;

    let (code, out, err) = b.run_herald(&["import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("followers: 0"), "{out}");
    assert!(
        err.contains("warning: the channel has new addresses"),
        "{err}"
    );
    assert!(err.contains("Move"), "{err}");
    assert!(
        err.contains("1 follower(s) in the archive were not imported"),
        "{err}"
    );

    let (status, actor) = b.get_activity_json(&b.url("/channels/ceo")).await;
    assert_eq!(status, 200, "{actor}");
    assert_eq!(actor["id"], b.url("/channels/ceo"));
    assert_eq!(
        actor["publicKey"]["publicKeyPem"],
        p.actor["publicKey"]["publicKeyPem"]
    );
    let icon = actor["icon"]["url"].as_str().unwrap();
    assert!(icon.starts_with(&b.base), "{icon}");
    assert_eq!(
        fetch(&b, icon).await,
        fetch(a, p.actor["icon"]["url"].as_str().unwrap()).await,
        "the same avatar"
    );
    let (channel, token) = channel_and_token(&b, "ceo").await;
    assert_eq!(b.follower_count(&channel).await, 0);

    let published = posts(&b, &token, false).await;
    assert_eq!(published.len(), 2);
    for (before, post) in [&p.with_image, &p.pinned]
        .iter()
        .zip(published.iter().rev())
    {
        assert_eq!(post["text"], before["text"]);
        assert_ne!(post["id"], before["id"], "a new id");
        assert!(post["uri"].as_str().unwrap().starts_with(&b.base), "{post}");
    }
    let moved = &published[1];
    let (status, note) = b.get_activity_json(moved["uri"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{note}");
    let old = &p.notes[0];
    assert_eq!(
        note["content"].as_str().unwrap(),
        old["content"].as_str().unwrap().replace(&a.base, &b.base),
        "the hashtag links to the new page"
    );
    assert_eq!(note["tag"][0]["href"], b.url("/@ceo/tags/up"));
    assert_eq!(note["published"], old["published"]);
    let image_url = note["attachment"][0]["url"].as_str().unwrap();
    assert!(image_url.starts_with(&b.base), "{image_url}");
    assert_ne!(image_url, old["attachment"][0]["url"].as_str().unwrap());
    assert_eq!(fetch(&b, image_url).await, p.image);
    assert_eq!(note["attachment"][0]["name"], "A rising chart");

    let (_, featured) = b.get_activity_json(&b.url("/channels/ceo/featured")).await;
    assert_eq!(featured["orderedItems"][0]["id"], published[0]["uri"]);
    let scheduled = posts(&b, &token, true).await;
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0]["text"], "Later");
    assert_ne!(scheduled[0]["id"], p.scheduled["id"]);
    assert_eq!(scheduled[0]["scheduled_at"], p.scheduled["scheduled_at"]);

    // The name is taken now; under another name it comes again, with ids of its own.
    let (code, _, err) = b.run_herald(&["import", file.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.contains("error: a channel named `ceo` already exists"),
        "{err}"
    );
    let (code, out, err) = b.run_herald(&["import", file.to_str().unwrap(), "--name", "news"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("@news@{}", b.domain)), "{out}");
    let (status, news) = b.get_activity_json(&b.url("/channels/news")).await;
    assert_eq!(status, 200, "{news}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_archives_change_nothing() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let media = herald.upload_image(&token, "A chart").await;
    let (status, _) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "one", "media_ids": [media["id"]]}),
        )
        .await;
    assert_eq!(status, 201);
    herald
        .post("ceo", Some(&token), &json!({"text": "two"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = export(&herald, dir.path());
    let files = media_files(&herald);
    let unchanged = |herald: &TestInstance| {
        let (code, out, err) = herald.run_herald(&["channel", "list"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 1, "only ceo: {out}");
        assert_eq!(media_files(herald), files, "no media file left behind");
    };

    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, b"\x89PNG\r\n\x1a\n\xff\xfe not an archive").unwrap();
    let json = dir.path().join("other.json");
    std::fs::write(&json, br#"{"hello":"world"}"#).unwrap();
    for bad in [&garbage, &json] {
        let (code, _, err) =
            herald.run_herald(&["import", bad.to_str().unwrap(), "--name", "copy"]);
        assert_ne!(code, 0);
        assert!(
            err.starts_with("error: ") && err.contains("is not a Herald channel archive"),
            "{err}"
        );
        unchanged(&herald);
    }

    // Cut short after the media record: its file is written, then removed again.
    let text = std::fs::read_to_string(&file).unwrap();
    let truncated = dir.path().join("truncated");
    std::fs::write(
        &truncated,
        text.lines().take(3).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let (code, _, err) =
        herald.run_herald(&["import", truncated.to_str().unwrap(), "--name", "copy"]);
    assert_ne!(code, 0);
    assert!(err.contains("is incomplete"), "{err}");
    unchanged(&herald);

    // A damaged medium: its data does not match its size.
    let damaged = dir.path().join("damaged");
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            if record["record"] == "media" {
                record["size"] = json!(1);
            }
            record.to_string()
        })
        .collect();
    std::fs::write(&damaged, lines.join("\n")).unwrap();
    let (code, _, err) =
        herald.run_herald(&["import", damaged.to_str().unwrap(), "--name", "copy"]);
    assert_ne!(code, 0);
    assert!(err.contains("line 3: medium"), "{err}");
    unchanged(&herald);

    // An archive never overwrites: exporting to an existing file is refused.
    let (code, _, err) = herald.run_herald(&["export", "ceo", file.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_running_sqlite_herald_opens_and_has_the_media() {
    let herald = TestInstance::with(Options {
        backend: Backend::Sqlite,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let media = herald.upload_image(&token, "A chart").await;
    let (status, _) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "with a chart", "media_ids": [media["id"]]}),
        )
        .await;
    assert_eq!(status, 201);
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");

    let (code, out, err) = herald.run_herald(&["backup", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("To restore"), "{out}");
    assert!(out.contains("herald.db-wal"), "{out}");
    let manifest = std::fs::read_to_string(backup.join("MANIFEST.txt")).unwrap();
    assert!(manifest.contains("1 file(s)"), "{manifest}");
    let file_name = media["url"].as_str().unwrap().rsplit('/').next().unwrap();
    let served = fetch(&herald, media["url"].as_str().unwrap()).await;
    assert_eq!(
        std::fs::read(backup.join("media").join(file_name)).unwrap(),
        served
    );
    assert!(backup.join("jwt.secret").is_file());

    // The snapshot is a database of its own with the channel and the post in it.
    let url = format!("sqlite://{}?mode=rw", backup.join("herald.db").display());
    let (code, out, err) = run_with(
        &herald,
        &["channel", "show", "ceo"],
        &[("HERALD_DATABASE_URL", &url)],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("posts:        1"), "{out}");

    let (code, _, err) = herald.run_herald(&["backup", backup.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.starts_with("error: ") && err.contains("is not empty"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_on_postgres_runs_pg_dump_or_says_how() {
    if Backend::postgres_url().is_none() {
        return;
    }
    let herald = TestInstance::with(Options {
        backend: Backend::Postgres,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    herald.upload_image(&token, "A chart").await;
    let database_url = &herald
        .env
        .iter()
        .find(|(k, _)| k == "HERALD_DATABASE_URL")
        .unwrap()
        .1;
    let password = url::Url::parse(database_url)
        .unwrap()
        .password()
        .map(|p| format!(":{p}@"));
    let no_password = |text: &str| {
        if let Some(password) = &password {
            assert!(
                !text.contains(password.as_str()),
                "the password shows: {text}"
            );
        }
    };
    let dir = tempfile::tempdir().unwrap();

    // Without pg_dump: a clear error with the commands to run.
    let without = dir.path().join("without");
    let (code, out, err) = run_with(
        &herald,
        &["backup", without.to_str().unwrap()],
        &[("PATH", "/nonexistent")],
    );
    assert_ne!(code, 0);
    assert!(err.contains("pg_dump is not installed"), "{err}");
    assert!(err.contains("pg_dump --format=custom --file"), "{err}");
    assert!(err.contains("pg_restore"), "{err}");
    no_password(&out);
    no_password(&err);

    let installed = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let with = dir.path().join("with");
    let (code, out, err) = herald.run_herald(&["backup", with.to_str().unwrap()]);
    no_password(&out);
    no_password(&err);
    if !installed {
        assert_ne!(code, 0);
        assert!(err.contains("pg_dump is not installed"), "{err}");
        return;
    }
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pg_restore"), "{out}");
    let dump = std::fs::read(with.join("herald.pgdump")).unwrap();
    assert!(
        dump.starts_with(b"PGDMP"),
        "a pg_dump custom-format archive"
    );
    let listing = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(with.join("herald.pgdump"))
        .output()
        .unwrap();
    assert!(listing.status.success());
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains("TABLE DATA public channels"),
        "the dump holds the channels"
    );
    assert_eq!(std::fs::read_dir(with.join("media")).unwrap().count(), 1);
}

//! The whole path, end to end: discovery, follow, Accept, post, signed Create once per
//! server, Undo, and the next post not delivered to those who left.

use crate::harness::{eventually, instance::Options, Backend, FakeRemote, TestInstance, WAIT};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_post_and_undo_on_sqlite() {
    follow_post_and_undo(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_post_and_undo_on_postgres() {
    if Backend::postgres_url().is_none() {
        return;
    }
    follow_post_and_undo(Backend::Postgres).await;
}

async fn follow_post_and_undo(backend: Backend) {
    let herald = TestInstance::with(Options {
        backend,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;

    // A Mastodon-like server (shared inbox) with two followers, and a GoToSocial-like one
    // (no shared inbox) with one.
    let mastodon = FakeRemote::start(true).await;
    let alice = mastodon.add_user("alice");
    let carol = mastodon.add_user("carol");
    let gts = FakeRemote::start(false).await;
    let bob = gts.add_user("bob");

    // Discovery: WebFinger, then the actor document, as a remote server does.
    let acct = format!("ceo@{}", herald.domain);
    let actor = mastodon.resolve(&acct).await;
    assert_eq!(actor.id.as_str(), herald.url("/channels/ceo"));
    assert_eq!(actor.inbox.as_str(), herald.url("/channels/ceo/inbox"));
    assert_eq!(
        actor.shared_inbox.as_ref().map(|u| u.as_str()),
        Some(herald.url("/inbox").as_str())
    );
    assert_eq!(actor.json["type"], "Person");
    assert_eq!(actor.json["preferredUsername"], "ceo");
    assert_eq!(
        actor.json["publicKey"]["id"],
        format!("{}#main-key", actor.id)
    );
    for key in [
        "outbox",
        "followers",
        "following",
        "featured",
        "url",
        "published",
    ] {
        assert!(
            actor.json[key].is_string(),
            "actor lacks {key}: {}",
            actor.json
        );
    }
    assert_eq!(actor.json["manuallyApprovesFollowers"], false);
    assert_eq!(actor.json["discoverable"], true);
    gts.resolve(&acct).await;

    let shared_inbox: url::Url = herald.url("/inbox").parse().unwrap();
    // Follows: alice to the channel inbox, carol to the shared inbox, bob too.
    let follow_alice = mastodon.follow(&alice, &actor.id);
    mastodon
        .send(&alice, follow_alice.clone(), &actor.inbox)
        .await;
    let follow_carol = mastodon.follow(&carol, &actor.id);
    mastodon
        .send(&carol, follow_carol.clone(), &shared_inbox)
        .await;
    let follow_bob = gts.follow(&bob, &actor.id);
    gts.send(&bob, follow_bob.clone(), &actor.inbox).await;

    // Each follower gets a signed Accept of its own Follow at its personal inbox.
    let accepts = eventually("three Accepts arrive", WAIT, || async {
        let mut accepts = mastodon.received_of("Accept");
        accepts.extend(gts.received_of("Accept"));
        (accepts.len() == 3).then_some(accepts)
    })
    .await;
    for (user, follow) in [
        (&alice, &follow_alice),
        (&carol, &follow_carol),
        (&bob, &follow_bob),
    ] {
        let accept = accepts
            .iter()
            .find(|a| a.activity["object"]["id"] == follow["id"])
            .unwrap_or_else(|| panic!("no Accept of {}", follow["id"]));
        assert_eq!(
            accept.path,
            user.inbox.path(),
            "Accept goes to the personal inbox"
        );
        assert_eq!(accept.activity["actor"], actor.id.as_str());
        assert_eq!(accept.activity["object"]["actor"], user.id.as_str());
        assert_eq!(accept.key_id, format!("{}#main-key", actor.id));
        assert!(
            accept.user_agent.starts_with("Herald/"),
            "{}",
            accept.user_agent
        );
    }
    assert_eq!(herald.follower_count(&channel).await, 3);
    // A replayed Follow (the same id again) is processed once; a new Follow from a
    // follower is idempotent and answered again.
    mastodon
        .send(&alice, follow_alice.clone(), &actor.inbox)
        .await;
    let again = mastodon.follow(&alice, &actor.id);
    mastodon.send(&alice, again.clone(), &actor.inbox).await;
    eventually("the new Follow is answered", WAIT, || async {
        (mastodon.received_of("Accept").len() == 3).then_some(())
    })
    .await;
    let answers = mastodon.received_of("Accept");
    let answering = |follow: &Value| {
        answers
            .iter()
            .filter(|a| a.activity["object"]["id"] == follow["id"])
            .count()
    };
    assert_eq!((answering(&follow_alice), answering(&again)), (1, 1));
    assert_eq!(herald.follower_count(&channel).await, 3);

    // Herald fetched the followers' actors with GETs signed by its instance actor.
    let instance_key = herald.url("/actor#main-key");
    assert!(
        mastodon.fetch_key_ids().contains(&instance_key),
        "unsigned fetches: {:?}",
        mastodon.fetch_key_ids()
    );

    // The followers collection shows the count only.
    let (status, followers) = herald
        .get_activity_json(&herald.url("/channels/ceo/followers"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(followers["totalItems"], 3);
    assert!(followers.get("orderedItems").is_none() && followers.get("first").is_none());

    // A post: the API answers at once with its addresses.
    let (status, post) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "We shipped **2.0**.\n\nRead [the notes](https://example.com/2.0).", "language": "en"}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    let post_id = post["id"].as_str().unwrap().to_string();
    assert_eq!(post["uri"], herald.url(&format!("/posts/{post_id}")));
    assert_eq!(post["url"], herald.url(&format!("/@ceo/{post_id}")));
    assert!(post["created_at"].is_string());

    // Once per server: one Create at the Mastodon-like shared inbox for alice and carol,
    // one at bob's personal inbox.
    wait_until_delivered(&herald, &token, &post_id, 2).await;
    let creates = mastodon.received_of("Create");
    assert_eq!(
        creates.len(),
        1,
        "one request per shared inbox: {creates:?}"
    );
    assert_eq!(creates[0].path, "/inbox");
    let gts_creates = gts.received_of("Create");
    assert_eq!(gts_creates.len(), 1);
    assert_eq!(gts_creates[0].path, bob.inbox.path());
    let create = &creates[0].activity;
    assert_eq!(creates[0].key_id, format!("{}#main-key", actor.id));
    check_create(create, &herald, &post_id);

    // The Note and its Create answer at their ids as ActivityPub JSON.
    let (status, note) = herald
        .get_activity_json(post["uri"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert_eq!(note["content"], create["object"]["content"]);
    let (status, activity) = herald
        .get_activity_json(create["id"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert_eq!(activity["object"]["id"], note["id"]);

    // The outbox is an OrderedCollection with pages of Creates.
    let (_, outbox) = herald
        .get_activity_json(&herald.url("/channels/ceo/outbox"))
        .await;
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 1);
    let (_, page) = herald
        .get_activity_json(outbox["first"].as_str().unwrap())
        .await;
    assert_eq!(page["type"], "OrderedCollectionPage");
    assert_eq!(page["orderedItems"][0]["object"]["id"], note["id"]);

    // alice and carol leave (one Undo with the Follow inline, as Mastodon sends it).
    mastodon
        .send(&alice, mastodon.undo(&alice, &follow_alice), &actor.inbox)
        .await;
    mastodon
        .send(&carol, mastodon.undo(&carol, &follow_carol), &shared_inbox)
        .await;
    eventually("the Undos remove two followers", WAIT, || async {
        (herald.follower_count(&channel).await == 1).then_some(())
    })
    .await;

    // The next post reaches bob's server only.
    let (status, second) = herald
        .post("ceo", Some(&token), &json!({"text": "Second post"}))
        .await;
    assert_eq!(status, 201);
    wait_until_delivered(&herald, &token, second["id"].as_str().unwrap(), 1).await;
    assert_eq!(gts.received_of("Create").len(), 2);
    assert_eq!(
        mastodon.received_of("Create").len(),
        1,
        "no delivery after Undo"
    );
}

/// Waits until the post's deliveries are all done and `expected` of them delivered.
async fn wait_until_delivered(herald: &TestInstance, token: &str, post_id: &str, expected: u64) {
    let path = format!("/api/v1/channels/ceo/posts/{post_id}/delivery");
    let status: Value = eventually("the post is delivered", WAIT, || async {
        let (code, body) = herald.get_json(&path, token).await;
        assert_eq!(code, 200, "{body}");
        let done = body["fanout"] == "done"
            && body["counts"]["pending"] == 0
            && body["counts"]["retrying"] == 0
            && body["counts"]["delivered"] == expected;
        done.then_some(body)
    })
    .await;
    assert_eq!(status["counts"]["failed"], 0, "{status}");
}

fn check_create(create: &Value, herald: &TestInstance, post_id: &str) {
    let channel = herald.url("/channels/ceo");
    assert_eq!(create["type"], "Create");
    assert_eq!(create["actor"], channel);
    let note = &create["object"];
    assert_eq!(note["type"], "Note");
    assert_eq!(note["id"], herald.url(&format!("/posts/{post_id}")));
    assert_eq!(note["attributedTo"], channel);
    assert_eq!(
        note["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(note["cc"], json!([herald.url("/channels/ceo/followers")]));
    assert_eq!(create["to"], note["to"]);
    assert_eq!(create["cc"], note["cc"]);
    assert_eq!(
        note["content"],
        "<p>We shipped <strong>2.0</strong>.</p>\n<p>Read <a href=\"https://example.com/2.0\" \
         rel=\"nofollow noopener noreferrer\">the notes</a>.</p>"
    );
    assert_eq!(note["contentMap"]["en"], note["content"]);
    assert_eq!(note["url"], herald.url(&format!("/@ceo/{post_id}")));
    assert!(note["published"].is_string());
    assert_eq!(note["sensitive"], false);
}

/// `herald channel delete` tells every follower's server first: a `Delete` of the actor,
/// signed with the channel's key, delivered by the running worker; then the channel is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_channel_tells_its_followers_servers() {
    let f =
        crate::harness::followed(crate::harness::instance::Options::default(), true, "alice").await;
    let herald = &f.herald;
    herald.worker().drain().await.unwrap();
    let (code, out, err) = herald.run_herald(&["channel", "delete", "ceo"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("told the followers' servers: 1 delivered"),
        "{out}"
    );
    let delete = f
        .remote
        .received_of("Delete")
        .into_iter()
        .find(|r| r.activity["object"] == herald.url("/channels/ceo"))
        .expect("the actor's Delete arrived");
    assert_eq!(delete.key_id, herald.url("/channels/ceo#main-key"));
    assert_eq!(delete.activity["actor"], herald.url("/channels/ceo"));
    let (status, _) = herald.get_activity_json(&herald.url("/channels/ceo")).await;
    assert_ne!(status, 200, "the channel is gone");
}

/// Aliases and moving: `herald channel alias` sets `alsoKnownAs` (followers get the
/// actor's Update); `herald channel move` is refused until the new account lists the
/// channel, then sends the Move and shows `movedTo`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_takes_aliases_and_moves() {
    let f =
        crate::harness::followed(crate::harness::instance::Options::default(), true, "alice").await;
    let herald = &f.herald;
    herald.worker().drain().await.unwrap();
    let channel_id = herald.url("/channels/ceo");
    let old = f.remote.add_user("old");
    let (code, out, err) =
        herald.run_herald(&["channel", "alias", "ceo", "--add", old.id.as_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(old.id.as_str()), "{out}");
    herald.worker().drain().await.unwrap();
    let (_, actor) = herald.get_activity_json(&channel_id).await;
    assert_eq!(actor["alsoKnownAs"], json!([old.id]), "{actor}");
    // The background worker may hold the job: wait for the delivery.
    crate::harness::eventually("followers get the actor's Update", WAIT, || async {
        f.remote
            .received_of("Update")
            .into_iter()
            .find(|r| r.activity["object"]["alsoKnownAs"] == json!([old.id]))
    })
    .await;

    let new_home = f.remote.add_user("newhome");
    let (code, _, err) =
        herald.run_herald(&["channel", "move", "ceo", "--to", new_home.id.as_str()]);
    assert_ne!(code, 0);
    assert!(err.contains("alsoKnownAs"), "{err}");
    assert!(f.remote.received_of("Move").is_empty(), "nothing was sent");
    f.remote
        .set_actor_field(&new_home, "alsoKnownAs", json!([channel_id]));
    let (code, out, err) =
        herald.run_herald(&["channel", "move", "ceo", "--to", new_home.id.as_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("moved to"), "{out}");
    herald.worker().drain().await.unwrap();
    let moved = crate::harness::eventually("the Move arrives", WAIT, || async {
        f.remote.received_of("Move").into_iter().next()
    })
    .await;
    assert_eq!(moved.activity["object"], channel_id);
    assert_eq!(moved.activity["target"], new_home.id.to_string());
    assert_eq!(moved.key_id, format!("{channel_id}#main-key"));
    let (_, actor) = herald.get_activity_json(&channel_id).await;
    assert_eq!(actor["movedTo"], new_home.id.to_string(), "{actor}");
}

//! What other servers' people do with a channel's posts, end to end through the inbox:
//! likes, reactions and boosts counted (and uncounted by Undo), replies kept sanitized for
//! the owner, edits and deletions sent to the servers that interacted, and the follower
//! side: Delete and Update of an actor, Block, Move, Flag.

use crate::harness::{
    instance::Options, remote::LocalUser, FakeRemote, Tamper, TestInstance, WAIT,
};
use herald::db::Channel;
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

struct World {
    herald: TestInstance,
    channel: Channel,
    token: String,
    /// A Mastodon-like server (shared inbox).
    remote: FakeRemote,
    /// The channel's actor and a published post's id and API id.
    actor: Url,
    post: String,
    post_api: String,
}

async fn world() -> World {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(true).await;
    let (status, post) = herald
        .post("ceo", Some(&token), &json!({"text": "Quarterly results"}))
        .await;
    assert_eq!(status, 201, "{post}");
    // Its fan-out, to nobody yet.
    herald.worker().drain().await.unwrap();
    World {
        actor: herald.url("/channels/ceo").parse().unwrap(),
        post: post["uri"].as_str().unwrap().to_string(),
        post_api: format!(
            "/api/v1/channels/ceo/posts/{}",
            post["id"].as_str().unwrap()
        ),
        herald,
        channel,
        token,
        remote,
    }
}

/// An activity by `user` with a fresh id under the user's own id, as Mastodon names them.
fn activity(user: &LocalUser, kind: &str, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/{}", user.id, uuid::Uuid::now_v7()),
        "type": kind,
        "actor": user.id,
        "object": object,
    })
}

impl World {
    /// Sends `activity` as `user` from `remote` to the shared inbox; asserts 202.
    async fn send_from(&self, remote: &FakeRemote, user: &LocalUser, activity: &Value) {
        let inbox: Url = self.herald.url("/inbox").parse().unwrap();
        let (status, body) = remote
            .post_signed(user, &inbox, &activity.to_string(), Tamper::Nothing)
            .await;
        assert_eq!(status, 202, "{activity}: {body}");
    }

    async fn send(&self, user: &LocalUser, activity: &Value) {
        self.send_from(&self.remote, user, activity).await;
    }

    async fn counts(&self) -> Value {
        let (status, body, _) = self
            .herald
            .api(&self.token, Method::GET, &self.post_api, None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["counts"].clone()
    }

    async fn follow(&self, user: &LocalUser) -> Value {
        let follow = self.remote.follow(user, &self.actor);
        self.send(user, &follow).await;
        follow
    }

    async fn followers(&self) -> Vec<String> {
        let (status, body, _) = self
            .herald
            .api(
                &self.token,
                Method::GET,
                "/api/v1/channels/ceo/followers",
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["followers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["actor"].as_str().unwrap().to_string())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_reactions_and_boosts_are_counted_and_undone() {
    let w = world().await;
    let alice = w.remote.add_user("alice");
    let bob = w.remote.add_user("bob");
    let zero = json!({"likes": 0, "boosts": 0, "reactions": 0, "replies": 0});
    assert_eq!(w.counts().await, zero);

    let like = activity(&alice, "Like", json!(w.post));
    w.send(&alice, &like).await;
    // The same activity again (a retry) counts once.
    w.send(&alice, &like).await;
    // Pleroma's EmojiReact, and Misskey's reaction as a Like with `_misskey_reaction`.
    let mut react = activity(&bob, "EmojiReact", json!(w.post));
    react["content"] = json!("🎉");
    w.send(&bob, &react).await;
    let mut misskey = activity(&alice, "Like", json!(w.post));
    misskey["_misskey_reaction"] = json!(":blobcat:");
    misskey["content"] = json!(":blobcat:");
    w.send(&alice, &misskey).await;
    // A boost with the object inline and single values where arrays are usual.
    let mut boost = activity(&bob, "Announce", json!({"id": w.post, "type": "Note"}));
    boost["to"] = json!("as:Public");
    boost["cc"] = json!(w.actor);
    w.send(&bob, &boost).await;
    // A like of something that is not ours changes nothing.
    w.send(
        &bob,
        &activity(&bob, "Like", json!("https://elsewhere.example/notes/1")),
    )
    .await;
    assert_eq!(
        w.counts().await,
        json!({"likes": 1, "boosts": 1, "reactions": 2, "replies": 0})
    );

    // Undo, with the object inline (Mastodon) and as an IRI (Misskey, GoToSocial).
    w.send(&alice, &activity(&alice, "Undo", like.clone()))
        .await;
    w.send(&bob, &activity(&bob, "Undo", boost["id"].clone()))
        .await;
    w.send(&bob, &activity(&bob, "Undo", react.clone())).await;
    assert_eq!(
        w.counts().await,
        json!({"likes": 0, "boosts": 0, "reactions": 1, "replies": 0})
    );
    // A replayed Like is not counted again; nobody may undo someone else's like.
    w.send(&alice, &like).await;
    assert_eq!(w.counts().await["likes"], 0);
    let like = activity(&alice, "Like", json!(w.post));
    w.send(&alice, &like).await;
    let (status, _) = w
        .remote
        .post_signed(
            &bob,
            &w.herald.url("/inbox").parse().unwrap(),
            &activity(&bob, "Undo", like.clone()).to_string(),
            Tamper::Nothing,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(w.counts().await["likes"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_counted_and_kept_sanitized_for_the_owner() {
    let w = world().await;
    let bob = w.remote.add_user("bob");
    let note_id = format!("{}/statuses/1", bob.id);
    let reply = activity(
        &bob,
        "Create",
        json!({
            "id": note_id,
            "type": "Note",
            "attributedTo": [{"id": bob.id, "type": "Person"}],
            "inReplyTo": w.post,
            "to": "Public",
            "tag": {"type": "Mention", "href": w.actor},
            "content": "<p>Great news! <script>alert(1)</script><a href=\"javascript:x\" onclick=\"y\">link</a></p>",
            "published": "2026-11-25T08:00:00Z",
        }),
    );
    w.send(&bob, &reply).await;
    assert_eq!(w.counts().await["replies"], 1);
    let (status, replies, _) = w
        .herald
        .api(&w.token, Method::GET, "/api/v1/channels/ceo/replies", None)
        .await;
    assert_eq!(status, 200, "{replies}");
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["id"], note_id);
    assert_eq!(replies[0]["actor"], bob.id.as_str());
    let content = replies[0]["content"].as_str().unwrap();
    assert!(content.contains("Great news!"), "{content}");
    for bad in ["<script", "javascript:", "onclick"] {
        assert!(!content.contains(bad), "{content}");
    }

    // An edit of the reply replaces its text; its deletion uncounts it.
    let mut edited = reply["object"].clone();
    edited["content"] = json!("<p>Edited</p>");
    w.send(&bob, &activity(&bob, "Update", edited)).await;
    let (_, replies, _) = w
        .herald
        .api(&w.token, Method::GET, "/api/v1/channels/ceo/replies", None)
        .await;
    assert_eq!(replies[0]["content"], "<p>Edited</p>");
    w.send(
        &bob,
        &activity(&bob, "Delete", json!({"id": note_id, "type": "Tombstone"})),
    )
    .await;
    assert_eq!(w.counts().await["replies"], 0);

    // A reply to something else is not kept.
    let mut other = reply.clone();
    other["id"] = json!(format!("{}/activities/other", bob.id));
    other["object"]["id"] = json!(format!("{}/statuses/2", bob.id));
    other["object"]["inReplyTo"] = json!("https://elsewhere.example/notes/1");
    w.send(&bob, &other).await;
    assert_eq!(w.counts().await["replies"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_deletions_reach_the_servers_that_interacted() {
    let w = world().await;
    let alice = w.remote.add_user("alice");
    w.follow(&alice).await;
    // carol's server has no follower of the channel; carol boosts the post.
    let other = FakeRemote::start(true).await;
    let carol = other.add_user("carol");
    let boost = activity(&carol, "Announce", json!(w.post));
    w.send_from(&other, &carol, &boost).await;
    // dave's server (GoToSocial-like: no shared inbox) quotes it, Misskey-style.
    let quoting = FakeRemote::start(false).await;
    let dave = quoting.add_user("dave");
    let quote = activity(
        &dave,
        "Create",
        json!({
            "id": format!("{}/notes/1", dave.id),
            "type": "Note",
            "attributedTo": dave.id,
            "content": "<p>Look at this</p>",
            "_misskey_quote": w.post,
        }),
    );
    w.send_from(&quoting, &dave, &quote).await;
    // A quote is not a reply.
    assert_eq!(w.counts().await["replies"], 0);
    w.herald.worker().drain().await.unwrap();
    assert!(other.received().is_empty());
    assert!(quoting.received().is_empty());

    let (status, body, _) = w
        .herald
        .api(
            &w.token,
            Method::PATCH,
            &w.post_api,
            Some(json!({"text": "Quarterly results (corrected)"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    w.herald.worker().drain().await.unwrap();
    let updates = other.received_of("Update");
    assert_eq!(updates.len(), 1, "{:?}", other.received());
    assert_eq!(updates[0].path, "/inbox");
    assert_eq!(updates[0].activity["object"]["id"], w.post);
    assert_eq!(w.remote.received_of("Update").len(), 1);
    let updates = quoting.received_of("Update");
    assert_eq!(updates.len(), 1, "{:?}", quoting.received());
    assert_eq!(updates[0].path, "/users/dave/inbox");

    let (status, _, _) = w
        .herald
        .api(&w.token, Method::DELETE, &w.post_api, None)
        .await;
    assert_eq!(status, 204);
    w.herald.worker().drain().await.unwrap();
    assert_eq!(other.received_of("Delete").len(), 1);
    assert_eq!(quoting.received_of("Delete").len(), 1);
    assert_eq!(w.remote.received_of("Delete").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_actor_loses_its_follow_reactions_and_replies() {
    let w = world().await;
    let alice = w.remote.add_user("alice");
    let bob = w.remote.add_user("bob");
    w.follow(&alice).await;
    w.follow(&bob).await;
    w.send(&bob, &activity(&bob, "Like", json!(w.post))).await;
    w.send(
        &bob,
        &activity(
            &bob,
            "Create",
            json!({"id": format!("{}/statuses/9", bob.id), "type": "Note",
                   "attributedTo": bob.id, "inReplyTo": w.post, "content": "hi"}),
        ),
    )
    .await;
    assert_eq!(w.counts().await["likes"], 1);
    assert_eq!(w.counts().await["replies"], 1);

    // Mastodon's account deletion: Delete whose object is the actor itself, sent once
    // the actor document is gone (so the key Herald has is the one that verifies).
    let mut delete = activity(&bob, "Delete", json!(bob.id));
    delete["id"] = json!(format!("{}#delete", bob.id));
    delete["to"] = json!([PUBLIC]);
    w.send(&bob, &delete).await;
    assert_eq!(w.followers().await, vec![alice.id.to_string()]);
    assert_eq!(
        w.counts().await,
        json!({"likes": 0, "boosts": 0, "reactions": 0, "replies": 0})
    );
    // A deletion of an actor Herald never saw is fine, and stores nothing.
    let stranger = w.remote.add_user("stranger");
    let mut delete = activity(&stranger, "Delete", json!(stranger.id));
    delete["id"] = json!(format!("{}#delete", stranger.id));
    w.send(&stranger, &delete).await;
    assert_eq!(w.followers().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updated_actor_is_refreshed() {
    let w = world().await;
    let alice = w.remote.add_user("alice");
    w.follow(&alice).await;
    let db = &w.herald.state().db;
    let cached = herald::db::remote_actor_by_uri(db, &alice.id)
        .await
        .unwrap();
    assert!(cached.also_known_as.is_empty());

    // alice adds an alias; her server sends the new document in an Update.
    let alias = "https://old.example/users/alice";
    w.remote
        .set_actor_field(&alice, "alsoKnownAs", json!([alias]));
    let document = w
        .herald
        .client
        .get(alice.id.clone())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    w.send(&alice, &activity(&alice, "Update", document)).await;
    let cached = herald::db::remote_actor_by_uri(db, &alice.id)
        .await
        .unwrap();
    assert_eq!(cached.also_known_as, vec![alias.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_ends_the_follow_and_the_deliveries() {
    let w = world().await;
    let alice = w.remote.add_user("alice");
    w.follow(&alice).await;
    w.herald.worker().drain().await.unwrap();
    assert_eq!(w.herald.follower_count(&w.channel).await, 1);
    w.send(&alice, &activity(&alice, "Block", json!(w.actor)))
        .await;
    assert_eq!(w.herald.follower_count(&w.channel).await, 0);
    let (status, _) = w
        .herald
        .post("ceo", Some(&w.token), &json!({"text": "after the block"}))
        .await;
    assert_eq!(status, 201);
    w.herald.worker().drain().await.unwrap();
    assert!(w.remote.received_of("Create").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_moves_the_follower_when_the_target_agrees() {
    let w = world().await;
    let alice = w.remote.add_user("alice");
    w.follow(&alice).await;
    let new_home = FakeRemote::start(true).await;
    let moved = new_home.add_user("alice");
    let mut movement = activity(&alice, "Move", json!(alice.id));
    movement["target"] = json!(moved.id);

    // The target does not list alice yet: refused, nothing changes.
    let (status, body) = w
        .remote
        .post_signed(
            &alice,
            &w.herald.url("/inbox").parse().unwrap(),
            &movement.to_string(),
            Tamper::Nothing,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(w.followers().await, vec![alice.id.to_string()]);

    new_home.set_actor_field(&moved, "alsoKnownAs", json!([alice.id]));
    movement["id"] = json!(format!("{}/activities/move-2", alice.id));
    w.send(&alice, &movement).await;
    assert_eq!(w.followers().await, vec![moved.id.to_string()]);
    // The new account gets the posts.
    let (status, _) = w
        .herald
        .post("ceo", Some(&w.token), &json!({"text": "welcome back"}))
        .await;
    assert_eq!(status, 201);
    w.herald.worker().drain().await.unwrap();
    crate::harness::eventually("the post reaches the new account", WAIT, || async {
        (new_home.received_of("Create").len() == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_listed_for_owner_and_operator() {
    let w = world().await;
    let mallory = w.remote.add_user("mallory");
    let mut flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/1", w.remote.base().as_str().trim_end_matches('/')),
        "type": "Flag",
        "actor": mallory.id,
        "object": [w.actor, w.post],
        "content": "spam\tand more",
    });
    w.send(&mallory, &flag).await;
    let (status, reports, _) = w
        .herald
        .api(&w.token, Method::GET, "/api/v1/channels/ceo/reports", None)
        .await;
    assert_eq!(status, 200, "{reports}");
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["comment"], "spam\tand more");
    assert_eq!(reports[0]["server"], w.remote.domain);
    assert!(reports[0]["objects"]
        .as_array()
        .unwrap()
        .contains(&json!(w.post)));
    // The same Flag again is one report.
    flag["content"] = json!("spam\tand more");
    w.send(&mallory, &flag).await;

    // The operator sees it from the command line.
    let (code, out, err) = w.herald.run_herald(&["reports"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("about ceo"), "{out}");
    assert!(out.contains("spam and more"), "{out}");
}

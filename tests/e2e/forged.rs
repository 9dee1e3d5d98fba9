//! Forged inbox traffic, one test per forgery: each is refused with its status and code,
//! stores nothing and sends nothing; and the keys that may sign (the actor's own, a
//! stand-alone key document, the server's instance actor) are taken.

use crate::harness::{remote::LocalUser, FakeRemote, Forgery, Tamper, TestInstance, WAIT};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use url::Url;

/// A Herald with channel `ceo`, a remote with user `alice`, and a Follow of `ceo` by alice.
struct Setup {
    herald: TestInstance,
    channel: herald::db::Channel,
    remote: FakeRemote,
    alice: LocalUser,
    inbox: Url,
    follow: String,
}

async fn setup() -> Setup {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let remote = FakeRemote::start(true).await;
    let alice = remote.add_user("alice");
    let actor: Url = herald.url("/channels/ceo").parse().unwrap();
    let inbox: Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let follow = remote.follow(&alice, &actor).to_string();
    Setup {
        herald,
        channel,
        remote,
        alice,
        inbox,
        follow,
    }
}

impl Setup {
    /// Sends alice's Follow, forged as `forgery` says.
    async fn forged(&self, forgery: Forgery<'_>) -> (u16, Value) {
        self.remote
            .post_forged(&self.alice, &self.inbox, &self.follow, forgery)
            .await
    }

    /// Asserts the answer, and that nothing was stored or sent.
    async fn refused(&self, (status, body): (u16, Value), expected: (u16, &str)) {
        let code = body["error"]["code"].as_str().unwrap_or("(none)");
        assert_eq!((status, code), expected, "{body}");
        assert_eq!(self.herald.follower_count(&self.channel).await, 0);
        self.herald.worker().drain().await.unwrap();
        assert!(self.remote.received().is_empty());
    }

    /// Asserts the Follow was taken: a follower, and an Accept on its way.
    async fn taken(&self, (status, body): (u16, Value)) {
        assert_eq!(status, 202, "{body}");
        assert_eq!(self.herald.follower_count(&self.channel).await, 1);
        crate::harness::eventually("the Accept arrives", WAIT, || async {
            (self.remote.received_of("Accept").len() == 1).then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_activity_is_refused() {
    let s = setup().await;
    let answer = s
        .remote
        .post_signed(&s.alice, &s.inbox, &s.follow, Tamper::Unsigned)
        .await;
    s.refused(answer, (401, "signature_invalid")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_by_a_wrong_key_is_refused() {
    let s = setup().await;
    let answer = s
        .remote
        .post_signed(&s.alice, &s.inbox, &s.follow, Tamper::WrongKey)
        .await;
    s.refused(answer, (401, "signature_invalid")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_another_actor_is_refused() {
    let s = setup().await;
    // bob, a user of the same server, signs alice's Follow with his own (valid) key.
    let bob = s.remote.add_user("bob");
    let forgery = Forgery {
        signer: Some(&bob),
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.refused(answer, (401, "signature_invalid")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_changed_after_signing_is_refused() {
    let s = setup().await;
    let mut changed: Value = serde_json::from_str(&s.follow).unwrap();
    changed["id"] = json!(format!("{}-changed", changed["id"].as_str().unwrap()));
    let changed = changed.to_string();
    let forgery = Forgery {
        sent_body: Some(&changed),
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.refused(answer, (401, "digest_invalid")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_digest_is_refused() {
    let s = setup().await;
    let answer = s
        .remote
        .post_signed(&s.alice, &s.inbox, &s.follow, Tamper::NoDigest)
        .await;
    s.refused(answer, (401, "digest_invalid")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_outside_the_window_is_refused() {
    let s = setup().await;
    for date in [
        SystemTime::now() - Duration::from_secs(2 * 3600),
        SystemTime::now() + Duration::from_secs(2 * 3600),
    ] {
        let forgery = Forgery {
            date: Some(date),
            ..Forgery::default()
        };
        let answer = s.forged(forgery).await;
        s.refused(answer, (401, "signature_expired")).await;
    }
    // Within the hour either way is fine (clocks drift).
    let forgery = Forgery {
        date: Some(SystemTime::now() - Duration::from_secs(50 * 60)),
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.taken(answer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_activity_is_processed_once() {
    let s = setup().await;
    let first = s
        .remote
        .post_signed(&s.alice, &s.inbox, &s.follow, Tamper::Nothing)
        .await;
    s.taken(first).await;
    // alice unfollows; then someone replays the captured Follow (freshly signed, as a
    // replay through a compromised relay would be).
    let undo = s
        .remote
        .undo(&s.alice, &serde_json::from_str(&s.follow).unwrap());
    let (status, _) = s
        .remote
        .post_signed(&s.alice, &s.inbox, &undo.to_string(), Tamper::Nothing)
        .await;
    assert_eq!(status, 202);
    assert_eq!(s.herald.follower_count(&s.channel).await, 0);
    let (status, body) = s
        .remote
        .post_signed(&s.alice, &s.inbox, &s.follow, Tamper::Nothing)
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(s.herald.follower_count(&s.channel).await, 0);
    s.herald.worker().drain().await.unwrap();
    assert_eq!(s.remote.received_of("Accept").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stand_alone_key_document_is_taken() {
    let s = setup().await;
    // GoToSocial's key ids: ACTOR/main-key, a document of its own naming its owner.
    let key_id = format!("{}/main-key", s.alice.id);
    let forgery = Forgery {
        key_id: Some(&key_id),
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.taken(answer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_actor_may_sign_for_its_users() {
    let s = setup().await;
    let server = s.remote.add_user_at("/actor");
    s.remote
        .set_actor_field(&server, "type", json!("Application"));
    let forgery = Forgery {
        signer: Some(&server),
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.taken(answer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rfc9421_signature_is_taken_and_checked() {
    let s = setup().await;
    // Spoiled: the body changed after signing (its Content-Digest no longer matches).
    let mut changed: Value = serde_json::from_str(&s.follow).unwrap();
    changed["id"] = json!(format!("{}-changed", changed["id"].as_str().unwrap()));
    let changed = changed.to_string();
    let forgery = Forgery {
        rfc9421: true,
        sent_body: Some(&changed),
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.refused(answer, (401, "digest_invalid")).await;
    // Signed by bob for alice's activity.
    let bob = s.remote.add_user("bob");
    let forgery = Forgery {
        rfc9421: true,
        signer: Some(&bob),
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.refused(answer, (401, "signature_invalid")).await;
    // Whole: taken.
    let forgery = Forgery {
        rfc9421: true,
        ..Forgery::default()
    };
    let answer = s.forged(forgery).await;
    s.taken(answer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_again_once() {
    let s = setup().await;
    let answer = s
        .remote
        .post_signed(&s.alice, &s.inbox, &s.follow, Tamper::Nothing)
        .await;
    s.taken(answer).await;
    let fetches = s.remote.fetch_key_ids().len();
    // alice's server rotates her key; her Undo is signed with the new one.
    let alice = s.remote.rotate_key(&s.alice);
    let undo = s
        .remote
        .undo(&alice, &serde_json::from_str(&s.follow).unwrap());
    let (status, body) = s
        .remote
        .post_signed(&alice, &s.inbox, &undo.to_string(), Tamper::Nothing)
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(s.herald.follower_count(&s.channel).await, 0);
    assert_eq!(s.remote.fetch_key_ids().len(), fetches + 1, "one refetch");
    // A key that is simply wrong is refetched once too, then refused.
    let (status, _) = s
        .remote
        .post_signed(&alice, &s.inbox, &s.follow, Tamper::WrongKey)
        .await;
    assert_eq!(status, 401);
    assert_eq!(s.remote.fetch_key_ids().len(), fetches + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_actor_document_is_cut_off() {
    let s = setup().await;
    // A megabyte of actor document: Herald stops reading and cannot verify the sender.
    s.remote
        .set_actor_field(&s.alice, "summary", json!("x".repeat(1024 * 1024)));
    let answer = s
        .remote
        .post_signed(&s.alice, &s.inbox, &s.follow, Tamper::Nothing)
        .await;
    s.refused(answer, (401, "actor_unverifiable")).await;
}

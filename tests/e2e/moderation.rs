//! Moderation and limits: follow requests approved by hand, followers removed with a
//! `Reject`, domain blocks per channel (API) and instance-wide (CLI) with every effect,
//! and rate limits on the inbox and the API.

use crate::harness::{eventually, instance::Options, FakeRemote, Tamper, TestInstance, WAIT};
use herald::api::Scope;
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("(none)")
}

async fn herald_without_workers() -> TestInstance {
    TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await
}

/// The channel's followers (or pending requests) as (id, actor).
async fn followers(herald: &TestInstance, token: &str, pending: bool) -> Vec<(i64, String)> {
    let path = format!("/api/v1/channels/ceo/followers?pending={pending}");
    let (status, body, _) = herald.api(token, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    body["followers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["pending"], pending);
            (
                f["id"].as_i64().unwrap(),
                f["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_requests_are_approved_or_refused_by_hand() {
    let herald = herald_without_workers().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let (status, body, _) = herald
        .api(
            &token,
            Method::PATCH,
            "/api/v1/channels/ceo",
            Some(json!({"manually_approves_followers": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, actor) = herald.get_activity_json(&herald.url("/channels/ceo")).await;
    assert_eq!(actor["manuallyApprovesFollowers"], true);

    let remote = FakeRemote::start(true).await;
    let alice = remote.add_user("alice");
    let bob = remote.add_user("bob");
    let inbox: Url = herald.url("/inbox").parse().unwrap();
    let actor_id: Url = herald.url("/channels/ceo").parse().unwrap();
    for user in [&alice, &bob] {
        let follow = remote.follow(user, &actor_id).to_string();
        let (status, body) = remote
            .post_signed(user, &inbox, &follow, Tamper::Nothing)
            .await;
        assert_eq!(status, 202, "{body}");
    }
    herald.worker().drain().await.unwrap();
    // Requests wait: no follower, no Accept.
    assert!(followers(&herald, &token, false).await.is_empty());
    assert_eq!(herald.follower_count(&channel).await, 0);
    assert!(remote.received_of("Accept").is_empty());
    let pending = followers(&herald, &token, true).await;
    assert_eq!(pending.len(), 2, "{pending:?}");
    let id_of = |user: &Url| pending.iter().find(|(_, a)| a == user.as_str()).unwrap().0;

    // alice is approved: an Accept of her Follow goes out.
    let path = format!(
        "/api/v1/channels/ceo/followers/{}/approve",
        id_of(&alice.id)
    );
    let (status, body, _) = herald.api(&token, Method::POST, &path, None).await;
    assert_eq!(status, 204, "{body}");
    herald.worker().drain().await.unwrap();
    let accepts = remote.received_of("Accept");
    assert_eq!(accepts.len(), 1);
    assert_eq!(accepts[0].activity["object"]["actor"], alice.id.as_str());
    assert_eq!(
        followers(&herald, &token, false).await,
        vec![(id_of(&alice.id), alice.id.to_string())]
    );

    // bob is refused: a Reject.
    let path = format!("/api/v1/channels/ceo/followers/{}", id_of(&bob.id));
    let (status, body, _) = herald.api(&token, Method::DELETE, &path, None).await;
    assert_eq!(status, 204, "{body}");
    herald.worker().drain().await.unwrap();
    let rejects = remote.received_of("Reject");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].activity["object"]["actor"], bob.id.as_str());
    assert!(followers(&herald, &token, true).await.is_empty());
    // Again: there is no such request any more.
    let (status, body, _) = herald.api(&token, Method::DELETE, &path, None).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");

    // A token without profile:write cannot manage followers.
    let reader = herald.token_with(&channel, &[Scope::PostsRead], None).await;
    let (status, body, _) = herald
        .api(&reader, Method::GET, "/api/v1/channels/ceo/followers", None)
        .await;
    assert_eq!((status, code(&body)), (403, "scope_missing"), "{body}");
    let (status, body, _) = herald
        .api(
            &token,
            Method::GET,
            "/api/v1/channels/ceo/followers?limit=0",
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (422, "limit_invalid"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_follower_sends_a_reject_and_followers_are_paged() {
    let herald = herald_without_workers().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(true).await;
    let actor_id: Url = herald.url("/channels/ceo").parse().unwrap();
    let inbox: Url = herald.url("/inbox").parse().unwrap();
    let users: Vec<_> = (0..5).map(|i| remote.add_user(&format!("u{i}"))).collect();
    for user in &users {
        remote
            .send(user, remote.follow(user, &actor_id), &inbox)
            .await;
    }
    assert_eq!(herald.follower_count(&channel).await, 5);
    // Pages of two, in a stable order, with nothing lost or repeated.
    let mut seen = Vec::new();
    let mut path = "/api/v1/channels/ceo/followers?limit=2".to_string();
    loop {
        let (status, body, _) = herald.api(&token, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{body}");
        for f in body["followers"].as_array().unwrap() {
            seen.push((
                f["id"].as_i64().unwrap(),
                f["actor"].as_str().unwrap().to_string(),
            ));
        }
        match body["next"].as_i64() {
            Some(after) => path = format!("/api/v1/channels/ceo/followers?limit=2&after={after}"),
            None => break,
        }
    }
    let mut actors: Vec<_> = seen.iter().map(|(_, a)| a.clone()).collect();
    actors.sort();
    let mut expected: Vec<_> = users.iter().map(|u| u.id.to_string()).collect();
    expected.sort();
    assert_eq!(actors, expected);

    let (id, actor) = seen[0].clone();
    let (status, _, _) = herald
        .api(
            &token,
            Method::DELETE,
            &format!("/api/v1/channels/ceo/followers/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    // Five Accepts and the Reject go to one server, four at a time: some wait a moment.
    let rejects = eventually("the Reject arrives", WAIT, || async {
        herald.worker().drain().await.unwrap();
        let rejects = remote.received_of("Reject");
        (!rejects.is_empty()).then_some(rejects)
    })
    .await;
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].activity["object"]["actor"], actor.as_str());
    assert_eq!(herald.follower_count(&channel).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_domain_is_cut_off_everywhere() {
    let herald = herald_without_workers().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let actor_id: Url = herald.url("/channels/ceo").parse().unwrap();
    let inbox: Url = herald.url("/inbox").parse().unwrap();
    // A server with a dotted name (one that can be blocked), and a good one.
    let spam = FakeRemote::start_at(true, "spam.localhost").await;
    let eve = spam.add_user("eve");
    let good = FakeRemote::start_at(true, "good.localhost").await;
    let alice = good.add_user("alice");
    for (remote, user) in [(&spam, &eve), (&good, &alice)] {
        remote
            .send(user, remote.follow(user, &actor_id), &inbox)
            .await;
    }
    let (status, post) = herald
        .post("ceo", Some(&token), &json!({"text": "hello"}))
        .await;
    assert_eq!(status, 201);
    herald.worker().drain().await.unwrap();
    assert_eq!(spam.received_of("Create").len(), 1);

    // The owner blocks spam.localhost for the channel.
    let (status, body, _) = herald
        .api(
            &token,
            Method::POST,
            "/api/v1/channels/ceo/domain_blocks",
            Some(json!({"domain": "https://SPAM.localhost/", "reason": "spam"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["domain"], "spam.localhost");
    assert_eq!(herald.follower_count(&channel).await, 1);
    let (status, list, _) = herald
        .api(
            &token,
            Method::GET,
            "/api/v1/channels/ceo/domain_blocks",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["domain"], "spam.localhost");
    assert_eq!(list[0]["reason"], "spam");

    // Its requests are refused.
    let follow = spam.follow(&eve, &actor_id).to_string();
    let (status, body) = spam
        .post_signed(&eve, &inbox, &follow, Tamper::Nothing)
        .await;
    assert_eq!((status, code(&body)), (403, "domain_blocked"), "{body}");
    assert_eq!(herald.follower_count(&channel).await, 1);
    // Its signed fetches get 403; unsigned ones and other servers' are served.
    assert_eq!(spam.get_signed(&eve, &actor_id).await, 403);
    let post_id: Url = post["uri"].as_str().unwrap().parse().unwrap();
    assert_eq!(spam.get_signed(&eve, &post_id).await, 403);
    assert_eq!(good.get_signed(&alice, &actor_id).await, 200);
    assert_eq!(good.get_signed(&alice, &post_id).await, 200);
    let (status, _) = herald.get_activity_json(actor_id.as_str()).await;
    assert_eq!(status, 200);

    let (status, body, _) = herald
        .api(
            &token,
            Method::POST,
            "/api/v1/channels/ceo/domain_blocks",
            Some(json!({"domain": "not a domain"})),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "domain_invalid"), "{body}");

    // Lifted: eve may follow again.
    let (status, _, _) = herald
        .api(
            &token,
            Method::DELETE,
            "/api/v1/channels/ceo/domain_blocks/spam.localhost",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body, _) = herald
        .api(
            &token,
            Method::DELETE,
            "/api/v1/channels/ceo/domain_blocks/spam.localhost",
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    let (status, body) = spam
        .post_signed(&eve, &inbox, &follow, Tamper::Nothing)
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(herald.follower_count(&channel).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_to_a_blocked_domain_are_not_sent() {
    let herald = herald_without_workers().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let inbox: Url = herald.url("/inbox").parse().unwrap();
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "hello"}))
        .await;
    herald.worker().drain().await.unwrap();
    let post_uri = post["uri"].as_str().unwrap();
    let post_api = format!(
        "/api/v1/channels/ceo/posts/{}",
        post["id"].as_str().unwrap()
    );
    // Two servers that boosted the post, and follow nothing: its edit goes to both.
    let spam = FakeRemote::start_at(true, "spam.localhost").await;
    let eve = spam.add_user("eve");
    let good = FakeRemote::start_at(true, "good.localhost").await;
    let alice = good.add_user("alice");
    for (remote, user) in [(&spam, &eve), (&good, &alice)] {
        let boost = json!({
            "id": format!("{}/boosts/1", user.id),
            "type": "Announce",
            "actor": user.id,
            "object": post_uri,
        });
        let (status, body) = remote
            .post_signed(user, &inbox, &boost.to_string(), Tamper::Nothing)
            .await;
        assert_eq!(status, 202, "{body}");
    }

    // The operator blocks spam instance-wide from the command line.
    let (code_, out, err) =
        herald.run_herald(&["domains", "block", "spam.localhost", "--reason", "spam"]);
    assert_eq!(code_, 0, "{err}");
    assert!(
        out.contains("blocked spam.localhost instance-wide"),
        "{out}"
    );
    let (code_, out, _) = herald.run_herald(&["domains", "list"]);
    assert_eq!(code_, 0);
    assert!(out.starts_with("spam.localhost\t"), "{out}");
    let (code_, _, err) = herald.run_herald(&["domains", "block", "not a domain"]);
    assert_ne!(code_, 0);
    assert!(err.contains("is not a domain"), "{err}");
    let (code_, _, err) = herald.run_herald(&["domains", "unblock", "never.example"]);
    assert_ne!(code_, 0);
    assert!(err.contains("is not blocked"), "{err}");

    let (status, body, _) = herald
        .api(
            &token,
            Method::PATCH,
            &post_api,
            Some(json!({"text": "hello, edited"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    herald.worker().drain().await.unwrap();
    eventually("the edit reaches the good server", WAIT, || async {
        (good.received_of("Update").len() == 1).then_some(())
    })
    .await;
    assert!(spam.received().is_empty(), "{:?}", spam.received());
    // The delivery to spam is a dead letter that says why.
    let update = &good.received_of("Update")[0].activity;
    let activity: uuid::Uuid = update["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let failed = herald::db::troubled_deliveries(&herald.state().db, activity, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].authority.starts_with("spam.localhost:"),
        "{failed:?}"
    );
    assert_eq!(failed[0].state, herald::db::DeliveryState::Failed.as_str());
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("the domain is blocked")
    );

    // Lifted from the command line.
    let (code_, out, err) = herald.run_herald(&["domains", "unblock", "spam.localhost"]);
    assert_eq!(code_, 0, "{err}");
    assert!(out.contains("unblocked"), "{out}");
    let (_, out, _) = herald.run_herald(&["domains", "list"]);
    assert!(out.is_empty(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let herald = TestInstance::with(Options {
        inbox_per_minute: 3,
        api_per_minute: 3,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let other_token = herald.token(&channel).await;
    let path = "/api/v1/channels/ceo/posts";
    for _ in 0..3 {
        let (status, body, _) = herald.api(&token, Method::GET, path, None).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body, retry_after) = herald.api(&token, Method::GET, path, None).await;
    assert_eq!((status, code(&body)), (429, "rate_limited"), "{body}");
    let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    // Each token has its own count.
    let (status, _, _) = herald.api(&other_token, Method::GET, path, None).await;
    assert_eq!(status, 200);

    // The inbox counts per signing server.
    let actor_id: Url = herald.url("/channels/ceo").parse().unwrap();
    let inbox: Url = herald.url("/inbox").parse().unwrap();
    let busy = FakeRemote::start_at(true, "busy.localhost").await;
    let users: Vec<_> = (0..4).map(|i| busy.add_user(&format!("u{i}"))).collect();
    // Forged requests in busy's name do not use its allowance up: only verified ones count.
    for _ in 0..5 {
        let follow = busy.follow(&users[0], &actor_id).to_string();
        let (status, _) = busy
            .post_signed(&users[0], &inbox, &follow, Tamper::WrongKey)
            .await;
        assert_eq!(status, 401);
    }
    for user in &users[..3] {
        let follow = busy.follow(user, &actor_id).to_string();
        let (status, body) = busy
            .post_signed(user, &inbox, &follow, Tamper::Nothing)
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let follow = busy.follow(&users[3], &actor_id).to_string();
    let response = reqwest::Client::new()
        .post(inbox.clone())
        .body(follow.clone())
        .send()
        .await
        .unwrap();
    // Unsigned requests are refused before they count.
    assert_eq!(response.status().as_u16(), 401);
    let (status, body) = busy
        .post_signed(&users[3], &inbox, &follow, Tamper::Nothing)
        .await;
    assert_eq!((status, code(&body)), (429, "rate_limited"), "{body}");
    assert_eq!(herald.follower_count(&channel).await, 3);
    let quiet = FakeRemote::start_at(true, "quiet.localhost").await;
    let carol = quiet.add_user("carol");
    let (status, body) = quiet
        .post_signed(
            &carol,
            &inbox,
            &quiet.follow(&carol, &actor_id).to_string(),
            Tamper::Nothing,
        )
        .await;
    assert_eq!(status, 202, "{body}");
}

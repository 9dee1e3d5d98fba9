//! Bad API requests: each has its status and code in the one error shape, and none
//! stores anything.

use crate::harness::TestInstance;
use herald::{api::Scope, db};
use serde_json::{json, Value};

fn code(body: &Value) -> &str {
    assert!(body["error"]["message"].is_string(), "error shape: {body}");
    body["error"]["code"].as_str().unwrap_or("(none)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_api_requests_are_refused_and_store_nothing() {
    let herald = TestInstance::start().await;
    let ceo = herald.create_channel("ceo").await;
    let other = herald.create_channel("other").await;
    let good = herald.token(&ceo).await;
    let expired = herald
        .token_with(
            &ceo,
            &Scope::ALL,
            Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .await;
    let revoked = herald.token(&ceo).await;
    let revoked_id = db::list_tokens(&herald.state().db, ceo.id).await.unwrap()[2].id;
    db::revoke_token(&herald.state().db, revoked_id)
        .await
        .unwrap();
    let for_other = herald.token(&other).await;
    let read_only = herald.token_with(&ceo, &[Scope::PostsRead], None).await;
    let foreign = herald::api::TokenKeys::from_secret(b"another instance's secret, 32+ chars")
        .issue(&herald.state().db, &ceo, &Scope::ALL, None, None, None)
        .await
        .unwrap()
        .0;
    let post = json!({"text": "hello"});

    let cases: Vec<(&str, Option<&str>, Value, u16, &str)> = vec![
        ("ceo", None, post.clone(), 401, "token_missing"),
        (
            "ceo",
            Some("not-a-token"),
            post.clone(),
            401,
            "token_invalid",
        ),
        ("ceo", Some(&foreign), post.clone(), 401, "token_invalid"),
        ("ceo", Some(&expired), post.clone(), 401, "token_expired"),
        ("ceo", Some(&revoked), post.clone(), 401, "token_revoked"),
        (
            "ceo",
            Some(&for_other),
            post.clone(),
            403,
            "token_wrong_channel",
        ),
        ("ceo", Some(&read_only), post.clone(), 403, "scope_missing"),
        (
            "nobody",
            Some(&good),
            post.clone(),
            404,
            "channel_not_found",
        ),
        ("ceo", Some(&good), json!({"text": ""}), 422, "post_empty"),
        (
            "ceo",
            Some(&good),
            json!({"text": " \n\t"}),
            422,
            "post_empty",
        ),
        (
            "ceo",
            Some(&good),
            json!({"text": "hi", "language": "not a tag"}),
            422,
            "language_invalid",
        ),
        (
            "ceo",
            Some(&good),
            json!({"text": "hi", "colour": "red"}),
            400,
            "json_invalid",
        ),
        (
            "ceo",
            Some(&good),
            json!({"txt": "hi"}),
            400,
            "json_invalid",
        ),
        ("ceo", Some(&good), json!(["hi"]), 400, "json_invalid"),
    ];
    for (channel, token, body, status, expected) in cases {
        let (got, answer) = herald.post(channel, token, &body).await;
        assert_eq!(
            (got, code(&answer)),
            (status, expected),
            "{channel} {body}: {answer}"
        );
    }

    // Malformed JSON, and a body that is not JSON at all.
    for (content_type, body, status, expected) in [
        ("application/json", "{\"text\": ", 400, "json_invalid"),
        ("text/plain", "hello", 415, "content_type_unsupported"),
    ] {
        let response = herald
            .client
            .post(herald.url("/api/v1/channels/ceo/posts"))
            .bearer_auth(&good)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(code(&response.json().await.unwrap()), expected);
    }

    // Unknown routes and ids answer in the same shape.
    let (status, body) = herald.get_json("/api/v1/nothing/here", &good).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    let (status, body) = herald
        .get_json("/api/v1/channels/ceo/posts/not-a-uuid", &good)
        .await;
    assert_eq!((status, code(&body)), (404, "post_not_found"));
    let (status, body) = herald
        .get_json("/api/v1/channels/ceo/posts?limit=1000", &good)
        .await;
    assert_eq!((status, code(&body)), (422, "limit_invalid"));

    // Nothing was stored.
    let (status, list) = herald.get_json("/api/v1/channels/ceo/posts", &good).await;
    assert_eq!(status, 200);
    assert_eq!(list["posts"], json!([]));
    assert_eq!(db::count_posts(&herald.state().db, None).await.unwrap(), 0);

    // The good token works, so the refusals above were about what was wrong with each.
    let (status, created) = herald.post("ceo", Some(&good), &post).await;
    assert_eq!(status, 201, "{created}");
    let (status, list) = herald
        .get_json("/api/v1/channels/ceo/posts", &read_only)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["posts"][0]["id"], created["id"]);
    let (status, one) = herald
        .get_json(
            &format!(
                "/api/v1/channels/ceo/posts/{}",
                created["id"].as_str().unwrap()
            ),
            &good,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["text"], "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_api() {
    let herald = TestInstance::start().await;
    let doc: Value = herald
        .client
        .get(herald.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let posts = &paths["/api/v1/channels/{name}/posts"];
    assert!(posts["post"]["requestBody"].is_object());
    assert!(posts["post"]["responses"]["201"].is_object());
    assert!(posts["post"]["responses"]["422"].is_object());
    assert!(posts["get"].is_object());
    assert!(paths.contains_key("/api/v1/channels/{name}/posts/{id}"));
    assert!(paths.contains_key("/api/v1/channels/{name}/posts/{id}/delivery"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let schema = &doc["components"]["schemas"]["NewPostRequest"];
    assert_eq!(schema["required"], json!(["text"]));
}

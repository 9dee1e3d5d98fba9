//! Media: uploads lose their metadata, are served with cache headers, and federate as
//! attachments with their alt text, blurhash, size and focal point.

use crate::harness::{instance::Options, FakeRemote, TestInstance};
use serde_json::{json, Value};

const GPS_JPEG: &[u8] = include_bytes!("../media/gps.jpg");

async fn upload(
    herald: &TestInstance,
    token: &str,
    file: Vec<u8>,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("photo.jpg"),
    );
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let response = herald
        .client
        .post(herald.url("/api/v1/channels/ceo/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_lose_their_metadata_and_federate_as_attachments() {
    let herald = TestInstance::with(Options {
        workers: false,
        max_upload_bytes: 20_000,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(true).await;
    let alice = remote.add_user("alice");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    remote
        .send(
            &alice,
            remote.follow(&alice, &actor),
            &herald.url("/inbox").parse().unwrap(),
        )
        .await;

    let (status, media) = upload(
        &herald,
        &token,
        GPS_JPEG.to_vec(),
        &[("description", "A rising chart"), ("focus", "0.5,-0.5")],
    )
    .await;
    assert_eq!(status, 201, "{media}");
    assert_eq!(media["media_type"], "image/jpeg");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(40), Some(30))
    );
    assert!(media["blurhash"].as_str().is_some_and(|b| b.len() > 6));

    // The stored and served file carries no EXIF, and is served for caching.
    let file = media["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let stored = std::fs::read(herald.state().config.posts.media_dir.join(&file)).unwrap();
    assert!(
        !stored.windows(4).any(|w| w == b"Exif"),
        "the stored file kept its EXIF"
    );
    let served = herald
        .client
        .get(media["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert!(served.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(served.bytes().await.unwrap().as_ref(), stored.as_slice());

    // Attached to a post, it federates as a Document with everything receivers show.
    let id = media["id"].as_str().unwrap();
    let (status, post) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "Numbers are up", "media_ids": [id]}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["media"][0]["id"], id);
    herald.worker().drain().await.unwrap();
    let note = &remote.received_of("Create")[0].activity["object"];
    let attachment = &note["attachment"][0];
    assert_eq!(attachment["type"], "Document");
    assert_eq!(attachment["mediaType"], "image/jpeg");
    assert_eq!(attachment["url"], media["url"]);
    assert_eq!(attachment["name"], "A rising chart");
    assert_eq!(attachment["blurhash"], media["blurhash"]);
    assert_eq!(attachment["focalPoint"], json!([0.5, -0.5]));
    assert_eq!(
        (attachment["width"].as_u64(), attachment["height"].as_u64()),
        (Some(40), Some(30))
    );

    // One medium, one post; at most four; only this channel's.
    let (status, body) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "again", "media_ids": [id]}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("media_invalid"))
    );
    let five: Vec<String> = (0..5).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let (status, body) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "many", "media_ids": five}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("too_many_media"))
    );
    let (status, body) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "ghost", "media_ids": [uuid::Uuid::now_v7().to_string()]}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("media_invalid"))
    );

    // Refusals name the limit; nothing is stored.
    let (status, body) = upload(&herald, &token, vec![0u8; 30_000], &[]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (413, &json!("media_too_large"))
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("20000"));
    let (status, body) = upload(&herald, &token, b"%PDF-1.7 a document".to_vec(), &[]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (415, &json!("media_type_unsupported"))
    );
    let (status, body) = upload(&herald, &token, GPS_JPEG.to_vec(), &[("focus", "3,3")]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("focus_invalid"))
    );
    let stored_files = std::fs::read_dir(&herald.state().config.posts.media_dir)
        .unwrap()
        .count();
    assert_eq!(stored_files, 1);

    // An upload becomes the avatar: the actor's icon.
    let (_, avatar) = upload(&herald, &token, GPS_JPEG.to_vec(), &[]).await;
    let response = herald
        .client
        .patch(herald.url("/api/v1/channels/ceo"))
        .bearer_auth(&token)
        .json(&json!({"avatar_id": avatar["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (_, actor) = herald.get_activity_json(&herald.url("/channels/ceo")).await;
    assert_eq!(actor["icon"]["url"], avatar["url"]);
    assert_eq!(actor["icon"]["type"], "Image");
}

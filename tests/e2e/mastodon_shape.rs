//! Herald's Notes have the shape of Mastodon's own, field by field, for every field
//! Mastodon reads from a Note (app/lib/activitypub/parser/status_parser.rb and
//! media_attachment_parser.rb), compared with the Mastodon Notes under tests/fixtures.

use crate::harness::{instance::Options, TestInstance};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The Note properties Mastodon's status parser reads.
const NOTE_FIELDS: &[&str] = &[
    "id",
    "type",
    "url",
    "attributedTo",
    "published",
    "content",
    "contentMap",
    "summary",
    "sensitive",
    "to",
    "cc",
    "tag",
    "attachment",
];
/// The attachment properties Mastodon's media parser reads.
const ATTACHMENT_FIELDS: &[&str] = &[
    "type",
    "mediaType",
    "url",
    "name",
    "blurhash",
    "focalPoint",
    "width",
    "height",
];

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every Mastodon Note in the fixtures (bare, or the object of a Create).
fn mastodon_notes() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mastodon");
    let mut notes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with("note__") || name.starts_with("create-note__")) {
            continue;
        }
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let note = if json["type"] == "Create" {
            json["object"].clone()
        } else {
            json
        };
        if note.is_object() {
            notes.push((name, note));
        }
    }
    notes.sort_by(|a, b| a.0.cmp(&b.0));
    notes
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_have_mastodons_shape() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    herald.create_channel("cto").await;
    let token = herald.token(&channel).await;
    let media = herald.upload_image(&token, "alt text").await;
    let text = format!(
        "Welcome @cto@{} to the #team, see https://example.com",
        herald.domain
    );
    let (status, post) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": text, "summary": "news", "language": "en", "media_ids": [media["id"]]}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    let (_, herald_note) = herald
        .get_activity_json(post["uri"].as_str().unwrap())
        .await;

    let notes = mastodon_notes();
    assert!(notes.len() >= 10, "{} Mastodon notes", notes.len());
    let mut compared = 0;
    for (name, mastodon) in &notes {
        for field in NOTE_FIELDS {
            let theirs = &mastodon[*field];
            if theirs.is_null() {
                continue;
            }
            let ours = &herald_note[*field];
            assert_eq!(
                kind(ours),
                kind(theirs),
                "`{field}`: Herald {ours}, Mastodon ({name}) {theirs}"
            );
            compared += 1;
        }
        for item in mastodon["tag"].as_array().into_iter().flatten() {
            let ours = herald_note["tag"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["type"] == item["type"]);
            if let Some(ours) = ours {
                let missing: Vec<_> = keys(item).difference(&keys(ours)).cloned().collect();
                assert!(
                    missing.is_empty(),
                    "{} tag lacks {missing:?} ({name})",
                    item["type"]
                );
            }
        }
        for item in mastodon["attachment"].as_array().into_iter().flatten() {
            let ours = &herald_note["attachment"][0];
            for field in ATTACHMENT_FIELDS {
                if !item[*field].is_null() {
                    assert_eq!(
                        kind(&ours[*field]),
                        kind(&item[*field]),
                        "attachment `{field}` ({name})"
                    );
                }
            }
        }
    }
    assert!(compared > 100, "only {compared} fields compared");
    // Both kinds of tag were checked against Mastodon's.
    let types: Vec<&str> = herald_note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    assert!(
        types.contains(&"Hashtag") && types.contains(&"Mention"),
        "{types:?}"
    );
}

//! Other servers' real JSON (tests/fixtures, from ../shared/fixtures) parses into Herald's
//! types, or is refused with a named reason listed here; Herald's own JSON round-trips.
//! Parsing never touches the network.

use herald::federation::{
    inbox::envelope::{Envelope, EnvelopeError},
    protocol::{
        activities::{Follow, Undo, UndoObject},
        actor::{Actor, ActorRefusal, RemoteActorDoc},
        note::Note,
    },
};
use serde_json::Value;
use std::{collections::BTreeMap, path::PathBuf};

/// The fixture directory: `HERALD_FIXTURES_DIR` (to run another set of the same layout)
/// or the copy in this repository.
fn fixtures_dir() -> PathBuf {
    std::env::var_os("HERALD_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
}

/// Every `.json` file, as (`software/file`, kind, JSON).
pub(crate) fn fixtures() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let dir = fixtures_dir();
    let mut softwares: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    softwares.sort_by_key(|e| e.path());
    for software in softwares {
        let mut files: Vec<_> = std::fs::read_dir(software.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for path in files {
            let name = format!(
                "{}/{}",
                software.file_name().to_string_lossy(),
                path.file_name().unwrap().to_string_lossy()
            );
            let kind = path
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .split("__")
                .next()
                .unwrap()
                .to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            out.push((name, kind, json));
        }
    }
    out
}

/// What Herald makes of a document: `Ok(what it parsed as)` or `Err(named reason)`.
fn classify(kind: &str, json: &Value) -> Option<Result<String, String>> {
    let parse_error = |e: serde_json::Error| format!("malformed: {e}");
    Some(if kind.starts_with("actor-") {
        serde_json::from_value::<RemoteActorDoc>(json.clone())
            .map_err(parse_error)
            .and_then(|actor| match actor.check() {
                Ok(_) => Ok(format!(
                    "actor (shared inbox: {})",
                    actor.shared_inbox().is_some()
                )),
                Err(ActorRefusal::NoPublicKey) => Err("no_public_key".into()),
                Err(ActorRefusal::KeyOwnerMismatch) => Err("key_owner_mismatch".into()),
                Err(ActorRefusal::InboxOnOtherHost) => Err("inbox_on_other_host".into()),
            })
    } else if kind == "follow" {
        serde_json::from_value::<Follow>(json.clone())
            .map(|_| "Follow".to_string())
            .map_err(parse_error)
    } else if kind.starts_with("undo") {
        serde_json::from_value::<Undo>(json.clone())
            .map(|undo| match undo.object {
                UndoObject::Follow(_) => "Undo(Follow)".to_string(),
                UndoObject::Iri(_) => "Undo(IRI)".to_string(),
                UndoObject::Other(_) => "Undo(other)".to_string(),
            })
            .map_err(parse_error)
    } else if json.get("actor").is_some() {
        // Any other activity must get through the inbox's outline reader.
        Envelope::parse(json.clone())
            .map(|e| format!("activity {}", e.kind))
            .map_err(|e| match e {
                // Without an id an activity cannot be deduplicated or checked against its
                // actor's host; the inbox answers 400 activity_invalid.
                EnvelopeError::NoId => "no_id".to_string(),
                EnvelopeError::ForeignId => "foreign_id".to_string(),
                other => format!("invalid: {other}"),
            })
    } else {
        return None;
    })
}

/// The documents of the shipped set that Herald refuses, and why. A change here is a
/// change in what Herald accepts from other servers.
const EXPECTED_REFUSALS: &[(&str, &str)] = &[
    ("gotosocial/delete-object__public-reply.json", "no_id"),
    // Mobilizon's Join/Accept(Join) ids are on another host than their actors.
    ("mobilizon/accept__join.json", "foreign_id"),
    ("mobilizon/join__event.json", "foreign_id"),
    (
        "microblogpub/actor-person__invalid-alsoknownas.json",
        "no_public_key",
    ),
    ("moodlenet/actor-person__mooglenet.json", "no_public_key"),
];

#[test]
fn every_follow_undo_actor_and_activity_parses_or_is_refused_by_name() {
    let mut refused = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (name, kind, json) in fixtures() {
        let Some(result) = classify(&kind, &json) else {
            continue;
        };
        match result {
            Ok(what) => *counts.entry(what).or_default() += 1,
            Err(reason) => {
                refused.insert(name, reason);
            }
        }
    }
    eprintln!("parsed: {counts:?}");
    let shipped = std::env::var_os("HERALD_FIXTURES_DIR").is_none();
    if shipped {
        let expected: BTreeMap<String, String> = EXPECTED_REFUSALS
            .iter()
            .map(|(n, r)| (n.to_string(), r.to_string()))
            .collect();
        assert_eq!(refused, expected);
        assert!(counts["Follow"] >= 6, "{counts:?}");
        assert!(counts["Undo(Follow)"] >= 2, "{counts:?}");
        assert!(counts.keys().any(|k| k.starts_with("actor")), "{counts:?}");
    } else {
        // Another set: every refusal must be one of the named reasons.
        for (name, reason) in &refused {
            assert!(
                [
                    "no_public_key",
                    "key_owner_mismatch",
                    "inbox_on_other_host",
                    "no_id"
                ]
                .contains(&reason.as_str()),
                "{name}: {reason}"
            );
        }
    }
}

#[test]
fn inline_actors_iri_objects_and_top_level_shared_inboxes_are_read() {
    let all: BTreeMap<String, Value> = fixtures().into_iter().map(|(n, _, j)| (n, j)).collect();
    // Hubzilla sends the Follow's actor inline.
    let follow: Follow =
        serde_json::from_value(all["hubzilla/follow__kaniini.json"].clone()).unwrap();
    assert_eq!(
        follow.actor.as_str(),
        "https://hubzilla.example.org/channel/kaniini"
    );
    // Mastodon's Undo carries the Follow inline.
    let undo: Undo =
        serde_json::from_value(all["mastodon/undo-follow__masto-asonix.json"].clone()).unwrap();
    assert!(
        matches!(undo.object, UndoObject::Follow(ref f) if f.object.as_str() == "https://ds9.lemmy.ml/c/testcom")
    );
    // Misskey puts sharedInbox at the top level too.
    let misskey: RemoteActorDoc =
        serde_json::from_value(all["misskey/actor-person__absturztau-mametsuko.json"].clone())
            .unwrap();
    assert!(misskey.shared_inbox().is_some());
    // GoToSocial actors have no shared inbox: deliveries go to the personal inbox.
    let gts: RemoteActorDoc =
        serde_json::from_value(all["gotosocial/actor-person__zork.json"].clone()).unwrap();
    assert!(gts.shared_inbox().is_none());
    // Kroeg names its endpoints by IRI: the actor is still read, without a shared inbox.
    let kroeg: RemoteActorDoc =
        serde_json::from_value(all["kroeg/actor-person__puckipedia.json"].clone()).unwrap();
    assert!(kroeg.shared_inbox().is_none());
    assert!(kroeg.check().is_ok());
}

#[test]
fn heralds_own_json_round_trips() {
    let actor = serde_json::json!({
        "@context": herald::federation::protocol::context::actor_context(),
        "id": "https://example.com/channels/ceo",
        "type": "Service",
        "preferredUsername": "ceo",
        "name": "CEO",
        "summary": "<p>hi</p>",
        "url": "https://example.com/@ceo",
        "inbox": "https://example.com/channels/ceo/inbox",
        "outbox": "https://example.com/channels/ceo/outbox",
        "followers": "https://example.com/channels/ceo/followers",
        "following": "https://example.com/channels/ceo/following",
        "featured": "https://example.com/channels/ceo/featured",
        "endpoints": {"sharedInbox": "https://example.com/inbox"},
        "publicKey": {
            "id": "https://example.com/channels/ceo#main-key",
            "owner": "https://example.com/channels/ceo",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"
        },
        "manuallyApprovesFollowers": false,
        "discoverable": true,
        "indexable": true,
        "published": "2026-11-25T00:00:00Z",
        "attachment": []
    });
    let parsed: Actor = serde_json::from_value(actor.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), actor);
    // And as another Herald (or any server) reads it.
    let remote: RemoteActorDoc = serde_json::from_value(actor).unwrap();
    assert!(remote.check().is_ok());
    assert_eq!(
        remote.shared_inbox().unwrap().as_str(),
        "https://example.com/inbox"
    );

    let note = serde_json::json!({
        "id": "https://example.com/posts/1",
        "type": "Note",
        "attributedTo": "https://example.com/channels/ceo",
        "content": "<p>hi</p>",
        "contentMap": {"en": "<p>hi</p>"},
        "summary": "cw",
        "sensitive": true,
        "published": "2026-11-25T00:00:00Z",
        "url": "https://example.com/@ceo/1",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://example.com/channels/ceo/followers"],
        "tag": []
    });
    let parsed: Note = serde_json::from_value(note.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), note);
}

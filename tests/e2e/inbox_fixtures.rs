//! Every inbound activity under tests/fixtures (other servers' real JSON) sent to a running
//! Herald's inbox: each is rewritten onto a fake remote actor (its actor's server becomes a
//! namespace of the fake remote, which serves the actor and signs), aimed at the channel
//! or its post where it names an object, and sent signed. The table below says, per
//! file, the status Herald must answer and what must change.
//!
//! Aiming, by the activity's shape: a Follow or Block names the channel; a Like, reaction,
//! boost or Flag names the post; a Create of a Note, Article, Page or Question replies to
//! the post. An Undo, a Delete of an object or of the actor, a Block and a Move first get
//! what they undo or remove (the activity, a reply, a follow), sent the same way.

use crate::{
    fixtures::fixtures,
    harness::{instance::Options, remote::LocalUser, FakeRemote, Tamper, TestInstance},
};
use herald::db;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use url::Url;

/// What a file must change, counted on the channel and its post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    Nothing,
    Followers(i64),
    Likes(i64),
    Boosts(i64),
    Reactions(i64),
    Replies(i64),
    Reports(i64),
    /// The follower is now the Move's target.
    Moved,
}

use Effect::*;

/// Every inbound fixture: file, status, effect. A new fixture needs a line here.
const TABLE: &[(&str, u16, Effect)] = &[
    ("akkoma/create-note__direct.json", 202, Replies(1)),
    ("akkoma/create-note__followers-only.json", 202, Replies(1)),
    (
        "akkoma/create-note__reply-into-misskey-thread.json",
        202,
        Replies(1),
    ),
    ("akkoma/like__note.json", 202, Likes(1)),
    ("akkoma/undo-like__note.json", 202, Likes(-1)),
    ("bookwyrm/create-generatednote__shelve.json", 202, Nothing),
    ("friendica/create-article__piratica.json", 202, Replies(1)),
    ("friendica/create-note__schuerz-reply.json", 202, Replies(1)),
    ("friendica/dislike__piratica.json", 202, Nothing),
    ("friendica/like__piratica.json", 202, Likes(1)),
    ("friendica/undo-dislike__piratica.json", 202, Nothing),
    ("friendica/update-note__piratica.json", 202, Nothing),
    ("gancio/create-event__demo-gancio.json", 202, Nothing),
    ("gnusocial/create-note__v3-instance.json", 202, Replies(1)),
    ("gnusocial/create-page__v3-instance.json", 202, Replies(1)),
    ("gnusocial/like__v3-instance.json", 202, Likes(1)),
    ("gotosocial/accept__impolite-like.json", 202, Nothing),
    (
        "gotosocial/announce__self-boost-followers-only.json",
        202,
        Boosts(1),
    ),
    ("gotosocial/create-note__wrapped.json", 202, Replies(1)),
    ("gotosocial/delete-object__public-reply.json", 400, Nothing),
    ("gotosocial/flag__report.json", 202, Reports(1)),
    ("gotosocial/move__incoming-move.json", 202, Moved),
    ("gotosocial/vote__poll-vote-create.json", 202, Replies(1)),
    ("hubzilla/create-image__somaton.json", 202, Nothing),
    ("hubzilla/create-note__scottstolz.json", 202, Replies(1)),
    ("hubzilla/follow__kaniini.json", 202, Followers(1)),
    ("kroeg/announce__inline-actor.json", 202, Boosts(1)),
    (
        "kroeg/create-note__array-less-emoji-tag.json",
        202,
        Replies(1),
    ),
    ("kroeg/create-note__post.json", 202, Replies(1)),
    ("lemmy/accept__follow-community.json", 202, Nothing),
    ("lemmy/add__moderator.json", 202, Nothing),
    (
        "lemmy/announce__community-wraps-create-page.json",
        202,
        Nothing,
    ),
    ("lemmy/block__site-ban.json", 202, Followers(-1)),
    ("lemmy/create-note__comment-reply.json", 202, Replies(1)),
    ("lemmy/delete-actor__user.json", 202, Followers(-1)),
    ("lemmy/delete-object__post.json", 202, Replies(-1)),
    ("lemmy/flag__report-post.json", 202, Reports(1)),
    ("lemmy/follow__community.json", 202, Followers(1)),
    ("lemmy/like__vote-up-comment.json", 202, Likes(1)),
    ("lemmy/lock__post.json", 202, Nothing),
    ("lemmy/remove__moderator.json", 202, Nothing),
    ("lemmy/resolve__report-resolved.json", 202, Nothing),
    ("lemmy/undo-block__site-unban.json", 202, Nothing),
    ("lemmy/undo-delete__post.json", 202, Nothing),
    ("lemmy/undo-follow__community.json", 202, Followers(-1)),
    (
        "lemmy/undo-like__undo-dislike-typed-as-like.json",
        202,
        Likes(-1),
    ),
    ("lemmy/update-group__community.json", 202, Nothing),
    ("lemmy/update-page__post.json", 202, Nothing),
    ("lemmy/warn__user.json", 202, Nothing),
    ("lotide/create-note__reply.json", 202, Replies(1)),
    ("lotide/create-page__post.json", 202, Replies(1)),
    ("lotide/delete-object__post.json", 202, Replies(-1)),
    ("lotide/follow__community.json", 202, Followers(1)),
    ("mastodon/accept__follow.json", 202, Nothing),
    (
        "mastodon/announce__followers-only-inline-object.json",
        202,
        Boosts(1),
    ),
    ("mastodon/announce__object-as-string.json", 202, Boosts(1)),
    ("mastodon/create-note__hashtag.json", 202, Replies(1)),
    (
        "mastodon/create-note__mastodon-madrid.json",
        202,
        Replies(1),
    ),
    ("mastodon/create-note__sensitive.json", 202, Replies(1)),
    (
        "mastodon/create-note__urbanwildlife-in-friendica-folder.json",
        202,
        Replies(1),
    ),
    (
        "mastodon/create-note__with-attachment.json",
        202,
        Replies(1),
    ),
    ("mastodon/create-question__poll.json", 202, Replies(1)),
    (
        "mastodon/delete-actor__mastodon-social-ld-signed.json",
        202,
        Followers(-1),
    ),
    (
        "mastodon/delete-object__mastodon-social.json",
        202,
        Replies(-1),
    ),
    (
        "mastodon/delete-object__tombstone-ld-signed.json",
        202,
        Replies(-1),
    ),
    ("mastodon/follow__user.json", 202, Followers(1)),
    ("mastodon/like__mastodon-madrid.json", 202, Likes(1)),
    ("mastodon/reject__follow.json", 202, Nothing),
    (
        "mastodon/undo-announce__inline-announce.json",
        202,
        Boosts(-1),
    ),
    (
        "mastodon/undo-follow__masto-asonix.json",
        202,
        Followers(-1),
    ),
    ("mastodon/undo-like__mastodon-madrid.json", 202, Likes(-1)),
    ("mastodon/undo-like__object-as-string.json", 202, Likes(-1)),
    ("mastodon/update-actor__person.json", 202, Nothing),
    ("mbin/flag__report.json", 202, Reports(1)),
    (
        "misskey/emoji-react__like-custom-emoji.json",
        202,
        Reactions(1),
    ),
    ("mitra/accept__follow.json", 202, Nothing),
    ("mobilizon/accept__join.json", 400, Nothing),
    ("mobilizon/create-event__mobilizon-fr.json", 202, Nothing),
    ("mobilizon/invite__group-member.json", 202, Nothing),
    ("mobilizon/join__event.json", 400, Nothing),
    ("mobilizon/leave__event.json", 202, Nothing),
    ("osada/follow__apfed-club.json", 202, Followers(1)),
    ("peertube/announce__video-by-channel.json", 202, Boosts(1)),
    ("peertube/create-video__framatube.json", 202, Nothing),
    (
        "pleroma/announce__pleroma-site-via-pixelfed-tests.json",
        202,
        Boosts(1),
    ),
    ("pleroma/create-chatmessage__chat.json", 202, Nothing),
    ("pleroma/create-note__greenish-red.json", 202, Replies(1)),
    ("pleroma/delete-object__greenish-red.json", 202, Replies(-1)),
    (
        "pleroma/emoji-react__emojireact-unicode.json",
        202,
        Reactions(1),
    ),
    ("pleroma/follow__mycrowd.json", 202, Followers(1)),
    ("plume/create-article__fediverse-blog.json", 202, Replies(1)),
    ("roadhouse/create-note__macgirvin.json", 202, Replies(1)),
    ("sharkey/create-note__direct-message.json", 202, Replies(1)),
    ("sharkey/delete-object__eepy-zone.json", 202, Replies(-1)),
    (
        "sharkey/emoji-react__like-with-misskey-reaction.json",
        202,
        Reactions(1),
    ),
    ("sharkey/follow__eepy-zone.json", 202, Followers(1)),
    ("sharkey/undo-like__eepy-zone.json", 202, Likes(-1)),
    ("smithereen/create-note__grishka.json", 202, Replies(1)),
    (
        "wordpress/announce__wraps-update-pfefferle.json",
        202,
        Nothing,
    ),
];

/// Fixture kinds that are documents rather than activities sent to an inbox.
const NOT_ACTIVITIES: &[&str] = &[
    "actor-",
    "collection",
    "note",
    "article",
    "page",
    "video",
    "event",
    "question",
    "tombstone",
    "audio",
    "comment",
    "quotation",
    "chatmessage",
    "webfinger",
    "nodeinfo",
    "host-meta",
    "key",
];

fn is_inbound_activity(kind: &str, json: &Value) -> bool {
    json.get("actor").is_some() && !NOT_ACTIVITIES.iter().any(|p| kind.starts_with(p))
}

/// Replaces every string that starts with one of `from` by the same with `to` instead.
fn rewrite(value: &mut Value, from: &[String], to: &str) {
    match value {
        Value::String(s) => {
            for prefix in from {
                if let Some(rest) = s.strip_prefix(prefix.as_str()) {
                    if rest.is_empty() || rest.starts_with(['/', '#', '?']) {
                        *s = format!("{to}{rest}");
                        break;
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, from, to)),
        Value::Object(map) => map.values_mut().for_each(|v| rewrite(v, from, to)),
        _ => {}
    }
}

fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        Value::Array(items) => items.first().and_then(id_of),
        _ => None,
    }
}

fn type_of(value: &Value) -> &str {
    match value.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(t)) => t.first().and_then(Value::as_str).unwrap_or(""),
        _ => "",
    }
}

const POST_TYPES: &[&str] = &["Note", "Article", "Page", "Question"];

/// Points what `activity` names at the channel or its post (see the module docs).
fn aim(activity: &mut Value, channel: &str, post: &str) {
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    match type_of(activity) {
        "Follow" | "Block" => activity["object"] = json!(channel),
        "Like" | "EmojiReact" | "Dislike" => activity["object"] = json!(post),
        "Announce" if object.is_string() => activity["object"] = json!(post),
        "Announce" if POST_TYPES.contains(&type_of(&object)) => {
            activity["object"]["id"] = json!(post);
        }
        "Create" | "Update" if POST_TYPES.contains(&type_of(&object)) => {
            activity["object"]["inReplyTo"] = json!(post);
        }
        "Flag" => activity["object"] = json!([channel, post]),
        "Undo" if object.is_object() => {
            let mut inner = object;
            aim(&mut inner, channel, post);
            activity["object"] = inner;
        }
        _ => {}
    }
}

/// A namespace of the fake remote standing in for one fixture's server.
struct Sandbox<'a> {
    remote: &'a FakeRemote,
    herald: &'a TestInstance,
    user: LocalUser,
    actor: String,
    channel: String,
    post: String,
}

impl Sandbox<'_> {
    async fn send(&self, activity: &Value) -> (u16, Value) {
        let inbox: Url = self.herald.url("/inbox").parse().unwrap();
        self.remote
            .post_signed(&self.user, &inbox, &activity.to_string(), Tamper::Nothing)
            .await
    }

    /// Sends what must exist before `activity` means anything; asserts it was taken.
    async fn prepare(&self, activity: &Value, name: &str) {
        let object = activity.get("object").cloned().unwrap_or(Value::Null);
        let object_id = id_of(&object).unwrap_or_default();
        let on_own_server = object_id.starts_with(&self.namespace());
        let mut before = Vec::new();
        match type_of(activity) {
            "Undo" if object.is_object() => before.push(object.clone()),
            "Undo" if name.contains("undo-like") => before.push(json!({
                "id": object_id, "type": "Like", "actor": self.actor, "object": self.post,
            })),
            "Delete" if object_id == self.actor => before.push(self.follow()),
            "Delete" if on_own_server => before.push(json!({
                "id": format!("{object_id}#create"),
                "type": "Create",
                "actor": self.actor,
                "object": {
                    "id": object_id, "type": "Note", "attributedTo": self.actor,
                    "inReplyTo": self.post, "content": "to be deleted",
                },
            })),
            "Update" if POST_TYPES.contains(&type_of(&object)) => before.push(json!({
                "id": format!("{object_id}#create"),
                "type": "Create",
                "actor": self.actor,
                "object": object,
            })),
            "Block" | "Move" => before.push(self.follow()),
            _ => {}
        }
        for step in before {
            let (status, body) = self.send(&step).await;
            assert_eq!(status, 202, "{name}: preparing with {step}: {body}");
        }
    }

    fn namespace(&self) -> String {
        let mut actor: Url = self.actor.parse().unwrap();
        actor.set_path("");
        let first = self
            .actor
            .trim_start_matches(actor.as_str())
            .split('/')
            .next();
        format!("{}{}", actor.as_str(), first.unwrap_or_default())
    }

    fn follow(&self) -> Value {
        json!({
            "id": format!("{}/prepared-follow", self.namespace()),
            "type": "Follow",
            "actor": self.actor,
            "object": self.channel,
        })
    }
}

/// The counts an effect is measured on.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    followers: i64,
    likes: i64,
    boosts: i64,
    reactions: i64,
    replies: i64,
    reports: i64,
}

async fn counts(herald: &TestInstance, channel: &db::Channel, token: &str, post: &str) -> Counts {
    let (status, body, _) = herald
        .api(
            token,
            Method::GET,
            &format!("/api/v1/channels/ceo/posts/{post}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let n = |key: &str| body["counts"][key].as_i64().unwrap();
    Counts {
        followers: herald.follower_count(channel).await as i64,
        likes: n("likes"),
        boosts: n("boosts"),
        reactions: n("reactions"),
        replies: n("replies"),
        reports: db::list_reports(&herald.state().db, None)
            .await
            .unwrap()
            .len() as i64,
    }
}

fn effect_between(before: &Counts, after: &Counts) -> Vec<Effect> {
    let mut effects = Vec::new();
    let mut add = |delta: i64, effect: fn(i64) -> Effect| {
        if delta != 0 {
            effects.push(effect(delta));
        }
    };
    add(after.followers - before.followers, Followers);
    add(after.likes - before.likes, Likes);
    add(after.boosts - before.boosts, Boosts);
    add(after.reactions - before.reactions, Reactions);
    add(after.replies - before.replies, Replies);
    add(after.reports - before.reports, Reports);
    effects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_inbound_fixture_gets_its_status_and_effect() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let (status, post) = herald
        .post("ceo", Some(&token), &json!({"text": "The fixture post"}))
        .await;
    assert_eq!(status, 201);
    let post_id = post["id"].as_str().unwrap().to_string();
    let post_uri = post["uri"].as_str().unwrap().to_string();
    let channel_uri = herald.url("/channels/ceo");
    let remote = FakeRemote::start_at(true, "fixtures.localhost").await;

    let table: BTreeMap<&str, (u16, Effect)> =
        TABLE.iter().map(|(f, s, e)| (*f, (*s, *e))).collect();
    let mut seen = Vec::new();
    let mut wrong = Vec::new();
    for (n, (name, kind, original)) in fixtures().into_iter().enumerate() {
        if !is_inbound_activity(&kind, &original) {
            continue;
        }
        seen.push(name.clone());
        let Some(&(expected_status, expected_effect)) = table.get(name.as_str()) else {
            wrong.push(format!("{name}: not in the table"));
            continue;
        };
        // The actor's server becomes namespace `/fN` of the fake remote.
        let actor: Url = id_of(&original["actor"]).unwrap().parse().unwrap();
        let mut origin = actor.clone();
        origin.set_path("");
        let origin = origin.as_str().trim_end_matches('/').to_string();
        let namespace = format!("{}f{n}", remote.base());
        let from = [origin.clone(), origin.replacen("https://", "http://", 1)];
        let mut activity = original.clone();
        rewrite(&mut activity, &from, &namespace);
        aim(&mut activity, &channel_uri, &post_uri);
        let actor_id = id_of(&activity["actor"]).unwrap();
        let user = remote.add_user_at(actor_id.parse::<Url>().unwrap().path());
        if type_of(&activity) == "Move" {
            let target = remote.add_user_at(&format!("/f{n}/moved-to"));
            remote.set_actor_field(&target, "alsoKnownAs", json!([actor_id]));
            activity["object"] = json!(actor_id);
            activity["target"] = json!(target.id);
        }
        let sandbox = Sandbox {
            remote: &remote,
            herald: &herald,
            user,
            actor: actor_id.clone(),
            channel: channel_uri.clone(),
            post: post_uri.clone(),
        };
        sandbox.prepare(&activity, &name).await;
        let before = counts(&herald, &channel, &token, &post_id).await;
        let (status, body) = sandbox.send(&activity).await;
        let after = counts(&herald, &channel, &token, &post_id).await;
        let mut effects = effect_between(&before, &after);
        if type_of(&activity) == "Move" {
            let target = format!("{namespace}/moved-to");
            let (_, list, _) = herald
                .api(
                    &token,
                    Method::GET,
                    "/api/v1/channels/ceo/followers?limit=200",
                    None,
                )
                .await;
            let follows = list["followers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["actor"] == target.as_str());
            if follows && effects.is_empty() {
                effects.push(Moved);
            }
        }
        let effect = match effects.as_slice() {
            [] => Nothing,
            [one] => *one,
            _ => {
                wrong.push(format!("{name}: several effects {effects:?}"));
                continue;
            }
        };
        if (status, effect) != (expected_status, expected_effect) {
            wrong.push(format!(
                "{name}: got {status} {effect:?}, expected {expected_status} {expected_effect:?} ({body})"
            ));
        }
        if status >= 500 {
            wrong.push(format!("{name}: a server error"));
        }
    }
    for name in table.keys() {
        if !seen.iter().any(|s| s == name) {
            wrong.push(format!("{name}: in the table but not a fixture"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    assert!(seen.len() >= 90, "{} fixtures", seen.len());
}

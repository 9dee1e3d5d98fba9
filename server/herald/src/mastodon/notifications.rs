//! What the owner sees come in, for Mastodon apps: notifications of new followers, follow
//! requests, replies (as `mention`), likes and reactions (`favourite`), boosts (`reblog`)
//! and reports (`admin.report`); the follow requests to authorize or reject; and the
//! followers list, which only the channel's own token may read.
//!
//! Remote accounts are shown from what Herald keeps of them, which is little by design:
//! the actor's id and server. Their account id is `r` and the cached actor's row id, so it
//! never collides with a channel's. Likes, boosts and reports name no one (Herald counts
//! them per server and keeps no reader), so their account is the server itself: "someone
//! on example.social", id `s-` and the server's name.

use super::{mastodon_time, statuses::status_with_account, ClientToken, MastodonError};
use crate::{
    api::Scope,
    db::{self, Channel, FollowerEntry},
    moderation,
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{http::StatusCode, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

/// Rows of each kind a notifications page is merged from.
const SCAN: u64 = 200;
const DEFAULT_LIMIT: usize = 15;
const MAX_LIMIT: usize = 80;

/// A remote actor as a Mastodon `Account`, from its id and server.
fn remote_account(data: &HeraldState, id: &str, actor_uri: &str, authority: &str) -> Value {
    let username = url::Url::parse(actor_uri)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "someone".into());
    let avatar = data
        .urls
        .base()
        .join(crate::web::ICON_PATH)
        .map(|u| u.to_string())
        .unwrap_or_default();
    json!({
        "id": id,
        "username": username,
        "acct": format!("{username}@{authority}"),
        "display_name": username,
        "locked": false,
        "bot": false,
        "group": false,
        "discoverable": false,
        "created_at": mastodon_time(DateTime::<Utc>::UNIX_EPOCH),
        "note": "",
        "url": actor_uri,
        "uri": actor_uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": avatar,
        "header_static": avatar,
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "last_status_at": null,
        "emojis": [],
        "fields": [],
    })
}

fn follower_account(data: &HeraldState, entry: &FollowerEntry) -> Value {
    remote_account(
        data,
        &format!("r{}", entry.remote_actor_id.0),
        &entry.actor_uri,
        &entry.authority,
    )
}

/// The account shown for what a server did without naming who: the server itself.
fn server_account(data: &HeraldState, authority: &str) -> Value {
    let mut account = remote_account(
        data,
        &format!("s-{authority}"),
        &format!("https://{authority}/"),
        authority,
    );
    account["username"] = json!("someone");
    account["acct"] = json!(format!("someone@{authority}"));
    account["display_name"] = json!(format!("Someone on {authority}"));
    account
}

/// A reply as a remote `Status`, addressed to the post it answers.
fn reply_status(reply: &db::Reply, account: &Value) -> Value {
    json!({
        "id": format!("reply-{}", reply.id),
        "created_at": mastodon_time(reply.published.unwrap_or(reply.created_at)),
        "in_reply_to_id": reply.post_id.to_string(),
        "in_reply_to_account_id": null,
        "sensitive": false,
        "spoiler_text": "",
        "visibility": "public",
        "language": null,
        "uri": reply.id,
        "url": reply.id,
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": null,
        "content": reply.content_html,
        "reblog": null,
        "account": account,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": null,
        "poll": null,
    })
}

/// One notification, before paging.
struct Item {
    id: String,
    kind: &'static str,
    at: DateTime<Utc>,
    account: Value,
    status: Option<Value>,
    report: Option<Value>,
}

/// A short, stable id for a row whose own id is a remote URL (an interaction's activity).
fn sha_short(value: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(value.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The channel's notifications, newest first: followers and follow requests (with
/// `followers`: who follows is the owners' to see), replies, interactions and reports.
async fn items(
    data: &HeraldState,
    channel: &Channel,
    followers: bool,
) -> Result<Vec<Item>, MastodonError> {
    let mut items = Vec::new();
    let kinds: &[(bool, &'static str)] = if followers {
        &[(false, "follow"), (true, "follow_request")]
    } else {
        &[]
    };
    for &(pending, kind) in kinds {
        for entry in db::recent_followers(&data.db, channel.id, pending, SCAN).await? {
            items.push(Item {
                id: format!("{kind}-{}", entry.id),
                kind,
                at: entry.created_at,
                account: follower_account(data, &entry),
                status: None,
                report: None,
            });
        }
    }
    for reply in db::list_replies(&data.db, channel.id, None, SCAN).await? {
        let cached = match url::Url::parse(&reply.actor_uri) {
            Ok(uri) => db::remote_actor_by_uri(&data.db, &uri).await.ok(),
            Err(_) => None,
        };
        let id = cached.map_or_else(
            || format!("r-{}", reply.authority),
            |a| format!("r{}", a.id.0),
        );
        let account = remote_account(data, &id, &reply.actor_uri, &reply.authority);
        let status = reply_status(&reply, &account);
        items.push(Item {
            id: format!("mention-{}", reply.id),
            kind: "mention",
            at: reply.created_at,
            account,
            status: Some(status),
            report: None,
        });
    }
    let channel_account = super::accounts::account_json(data, channel, false).await?;
    let mut statuses: std::collections::HashMap<db::PostId, Value> = Default::default();
    for interaction in db::recent_interactions(&data.db, channel.id, SCAN).await? {
        // Replies are counted among the interactions too; they come as mentions above.
        let kind = match interaction.kind.as_str() {
            db::INTERACTION_BOOST => "reblog",
            db::INTERACTION_LIKE | db::INTERACTION_REACTION => "favourite",
            _ => continue,
        };
        let status = match statuses.get(&interaction.post_id) {
            Some(status) => status.clone(),
            None => {
                let Ok(post) = db::post_by_uuid(&data.db, interaction.post_id).await else {
                    continue;
                };
                let media = db::media_for_posts(&data.db, &[post.id]).await?;
                let status =
                    status_with_account(data, channel, &channel_account, &post, &media).await?;
                statuses.insert(post.id, status.clone());
                status
            }
        };
        items.push(Item {
            id: format!("{kind}-{}", sha_short(&interaction.id)),
            kind,
            at: interaction.created_at,
            account: server_account(data, &interaction.authority),
            status: Some(status),
            report: None,
        });
    }
    for report in db::list_reports(&data.db, Some(channel.id)).await? {
        items.push(Item {
            id: format!("admin.report-{}", report.id),
            kind: "admin.report",
            at: report.created_at,
            account: server_account(data, &report.authority),
            status: None,
            report: Some(json!({
                "id": report.id.to_string(),
                "action_taken": false,
                "action_taken_at": null,
                "category": "other",
                "comment": report.content,
                "forwarded": true,
                "created_at": mastodon_time(report.created_at),
                "status_ids": [],
                "rule_ids": [],
                "target_account": channel_account,
            })),
        });
    }
    items.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
    Ok(items)
}

#[derive(Deserialize)]
pub struct NotificationQuery {
    max_id: Option<String>,
    limit: Option<usize>,
}

/// The page of `items` after `max_id` (an id of the previous page's last notification).
fn page(items: Vec<Item>, query: &NotificationQuery) -> Vec<Item> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let start = query
        .max_id
        .as_ref()
        .and_then(|max| items.iter().position(|i| &i.id == max).map(|p| p + 1))
        .unwrap_or(0);
    items.into_iter().skip(start).take(limit).collect()
}

/// `GET /api/v1/notifications`.
pub async fn get_notifications(
    query: web::Query<NotificationQuery>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    let items = page(
        items(
            &data,
            &token.channel,
            token.require_role(crate::db::Role::Owner).is_ok(),
        )
        .await?,
        &query,
    );
    let notifications: Vec<Value> = items
        .into_iter()
        .map(|item| {
            let mut notification = json!({
                "id": item.id,
                "type": item.kind,
                "created_at": mastodon_time(item.at),
                "account": item.account,
                "status": item.status,
            });
            if let Some(report) = item.report {
                notification["report"] = report;
            }
            notification
        })
        .collect();
    Ok(HttpResponse::Ok().json(notifications))
}

/// `GET /api/v2/notifications` (Mastodon 4.3's grouped form): each notification its own
/// group, with the accounts and statuses beside them.
pub async fn get_grouped_notifications(
    query: web::Query<NotificationQuery>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    let items = page(
        items(
            &data,
            &token.channel,
            token.require_role(crate::db::Role::Owner).is_ok(),
        )
        .await?,
        &query,
    );
    let mut accounts: Vec<Value> = Vec::new();
    let mut statuses: Vec<Value> = Vec::new();
    let mut groups = Vec::new();
    for item in items {
        let account_id = item.account["id"].clone();
        if !accounts.iter().any(|a| a["id"] == account_id) {
            accounts.push(item.account);
        }
        let status_id = item.status.as_ref().map(|s| s["id"].clone());
        if let Some(status) = item.status {
            statuses.push(status);
        }
        groups.push(json!({
            "group_key": item.id,
            "notifications_count": 1,
            "type": item.kind,
            "most_recent_notification_id": item.id,
            "page_min_id": item.id,
            "page_max_id": item.id,
            "latest_page_notification_at": mastodon_time(item.at),
            "sample_account_ids": [account_id],
            "status_id": status_id,
        }));
    }
    Ok(HttpResponse::Ok().json(json!({
        "accounts": accounts,
        "statuses": statuses,
        "notification_groups": groups,
    })))
}

/// `GET /api/v1/follow_requests`: the requests waiting, newest first.
pub async fn get_follow_requests(
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    // Who follows is the owners' to see, as in the console and the owner API.
    token.require_role(crate::db::Role::Owner)?;
    let requests = db::recent_followers(&data.db, token.channel.id, true, SCAN).await?;
    let accounts: Vec<Value> = requests
        .iter()
        .map(|e| follower_account(&data, e))
        .collect();
    Ok(HttpResponse::Ok().json(accounts))
}

/// The pending request of the remote account `raw` (`r` and its actor row id).
async fn pending_request(
    data: &HeraldState,
    channel: &Channel,
    raw: &str,
) -> Result<FollowerEntry, MastodonError> {
    let not_found = || MastodonError::new(StatusCode::NOT_FOUND, "Record not found");
    let actor: i64 = raw
        .strip_prefix('r')
        .and_then(|n| n.parse().ok())
        .ok_or_else(not_found)?;
    db::recent_followers(&data.db, channel.id, true, SCAN)
        .await?
        .into_iter()
        .find(|e| e.remote_actor_id.0 == actor)
        .ok_or_else(not_found)
}

fn relationship(id: &str, followed_by: bool) -> Value {
    json!({
        "id": id,
        "following": false,
        "showing_reblogs": false,
        "notifying": false,
        "followed_by": followed_by,
        "blocking": false,
        "blocked_by": false,
        "muting": false,
        "muting_notifications": false,
        "requested": false,
        "requested_by": false,
        "domain_blocking": false,
        "endorsed": false,
        "note": "",
    })
}

async fn answer(
    raw: &str,
    token: &ClientToken,
    data: &HeraldState,
    approve: bool,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::ProfileWrite)?;
    let entry = pending_request(data, &token.channel, raw).await?;
    moderation::answer_follower(data, &token.channel, &token.actor, entry.id, approve)
        .await
        .map_err(|e| {
            tracing::error!(error = %crate::error_chain(&e), "answering a follow request failed");
            MastodonError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not answer the request",
            )
        })?;
    Ok(HttpResponse::Ok().json(relationship(raw, approve)))
}

/// `POST /api/v1/follow_requests/:id/authorize`: the follower is accepted (an `Accept`).
pub async fn authorize_request(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    answer(&id, &token, &data, true).await
}

/// `POST /api/v1/follow_requests/:id/reject`: refused (a `Reject`).
pub async fn reject_request(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    answer(&id, &token, &data, false).await
}

/// `GET /api/v1/accounts/:id/followers`: the channel's followers, newest first, for its
/// own token only (the public sees the count, never the list).
pub async fn get_followers(
    id: web::Path<String>,
    token: ClientToken,
    data: Data<HeraldState>,
) -> Result<HttpResponse, MastodonError> {
    token.require(Scope::PostsRead)?;
    token.require_role(crate::db::Role::Owner)?;
    if *id != token.channel.id.0.to_string() {
        return Err(MastodonError::new(
            StatusCode::FORBIDDEN,
            "a channel's followers are shown to its owner only",
        ));
    }
    let followers = db::recent_followers(&data.db, token.channel.id, false, SCAN).await?;
    let accounts: Vec<Value> = followers
        .iter()
        .map(|e| follower_account(&data, e))
        .collect();
    Ok(HttpResponse::Ok().json(accounts))
}

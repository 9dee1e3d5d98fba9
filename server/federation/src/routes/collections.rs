//! A channel's collections: outbox (paged Creates), followers (count only: the list is
//! the owner's), following (none) and featured (pinned posts).

use super::{activity_json, actors::fetch_channel};
use crate::{
    db::{self, PostId},
    state::HeraldState,
    {
        activities::create::build_create,
        error::FederationError,
        objects::post::note_for,
        protocol::{
            collections::{
                OrderedCollection, OrderedCollectionPage, OrderedCollectionPageType,
                OrderedCollectionType,
            },
            context::object_context,
        },
    },
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Posts per outbox page (Mastodon serves 20).
const OUTBOX_PAGE_SIZE: u64 = 20;

#[derive(Deserialize)]
pub struct OutboxQuery {
    page: Option<bool>,
    before: Option<String>,
}

pub async fn get_outbox(
    name: web::Path<String>,
    request: HttpRequest,
    query: web::Query<OutboxQuery>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let channel = fetch_channel(&request, &data, &name).await?;
    let urls = &data.urls;
    if query.page != Some(true) {
        let total = db::count_posts(&data.db, Some(channel.id)).await?;
        return Ok(activity_json(&OrderedCollection {
            context: object_context(),
            id: urls.outbox(&channel.name),
            kind: OrderedCollectionType::OrderedCollection,
            total_items: total,
            first: Some(urls.outbox_page(&channel.name, None)),
            ordered_items: None,
        }));
    }
    let before = match query.before.as_deref() {
        Some(raw) => Some(
            PostId::parse(raw)
                .ok_or_else(|| FederationError::BadRequest("`before` must be a post id".into()))?,
        ),
        None => None,
    };
    let posts = db::list_posts(&data.db, channel.id, before, OUTBOX_PAGE_SIZE).await?;
    let next = (posts.len() as u64 == OUTBOX_PAGE_SIZE)
        .then(|| {
            posts
                .last()
                .map(|p| urls.outbox_page(&channel.name, Some(p.id)))
        })
        .flatten();
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    let items = posts
        .iter()
        .map(|post| {
            let own: Vec<_> = media
                .iter()
                .filter(|m| m.post_id == Some(post.id))
                .cloned()
                .collect();
            // A post's Create shares the post's UUID (see posts::create).
            serde_json::to_value(build_create(urls, &channel, post, &own, post.id.0))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(activity_json(&OrderedCollectionPage {
        context: object_context(),
        id: urls.outbox_page(&channel.name, before),
        kind: OrderedCollectionPageType::OrderedCollectionPage,
        part_of: urls.outbox(&channel.name),
        next,
        ordered_items: items,
    }))
}

pub async fn get_followers(
    name: web::Path<String>,
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let channel = fetch_channel(&request, &data, &name).await?;
    let total = db::count_followers(&data.db, channel.id).await?;
    Ok(activity_json(&OrderedCollection {
        context: object_context(),
        id: data.urls.followers(&channel.name),
        kind: OrderedCollectionType::OrderedCollection,
        total_items: total,
        first: None,
        ordered_items: None,
    }))
}

/// An empty, complete collection: channels follow no one.
fn empty_collection(id: url::Url) -> HttpResponse {
    activity_json(&OrderedCollection {
        context: object_context(),
        id,
        kind: OrderedCollectionType::OrderedCollection,
        total_items: 0,
        first: None,
        ordered_items: Some(Vec::new()),
    })
}

pub async fn get_following(
    name: web::Path<String>,
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let channel = fetch_channel(&request, &data, &name).await?;
    Ok(empty_collection(data.urls.following(&channel.name)))
}

/// Pinned posts, embedded in full: Mastodon fetches them when it first sees a profile,
/// and they are what a new follower sees before any new post arrives.
pub async fn get_featured(
    name: web::Path<String>,
    request: HttpRequest,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let channel = fetch_channel(&request, &data, &name).await?;
    let posts = db::pinned_posts(&data.db, channel.id).await?;
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let media = db::media_for_posts(&data.db, &ids).await?;
    let items = posts
        .iter()
        .map(|post| {
            let own: Vec<_> = media
                .iter()
                .filter(|m| m.post_id == Some(post.id))
                .cloned()
                .collect();
            serde_json::to_value(note_for(&data.urls, &channel, post, &own))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(activity_json(&OrderedCollection {
        context: object_context(),
        id: data.urls.featured(&channel.name),
        kind: OrderedCollectionType::OrderedCollection,
        total_items: items.len() as u64,
        first: None,
        ordered_items: Some(items),
    }))
}

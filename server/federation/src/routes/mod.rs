//! Federation endpoints: discovery (WebFinger, host-meta, NodeInfo), actors, inboxes,
//! collections and objects. Handlers are thin: extract, call one function, map the result.

mod actors;
mod collections;
mod discovery;
mod inbox;
mod objects;

use crate::http::ACTIVITY_JSON;
use actix_web::{web, HttpResponse};
use serde::Serialize;

/// The largest inbox body accepted (413 beyond). Mastodon's own limit is far smaller in
/// practice; 256 KiB matches activitypub_federation's actix default.
pub const INBOX_BODY_LIMIT: usize = 256 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/webfinger",
        web::get().to(discovery::get_webfinger),
    )
    .route(
        "/.well-known/host-meta",
        web::get().to(discovery::get_host_meta),
    )
    .route(
        "/.well-known/nodeinfo",
        web::get().to(discovery::get_nodeinfo_links),
    )
    .route(
        "/nodeinfo/{version}",
        web::get().to(discovery::get_nodeinfo),
    )
    .route("/actor", web::get().to(actors::get_instance_actor))
    .service(
        web::resource(["/inbox", "/actor/inbox"])
            .app_data(web::PayloadConfig::new(INBOX_BODY_LIMIT))
            .route(web::post().to(inbox::post_shared_inbox)),
    )
    .route("/channels/{name}", web::get().to(actors::get_channel))
    .service(
        web::resource("/channels/{name}/inbox")
            .app_data(web::PayloadConfig::new(INBOX_BODY_LIMIT))
            .route(web::post().to(inbox::post_channel_inbox)),
    )
    .route(
        "/channels/{name}/outbox",
        web::get().to(collections::get_outbox),
    )
    .route(
        "/channels/{name}/followers",
        web::get().to(collections::get_followers),
    )
    .route(
        "/channels/{name}/following",
        web::get().to(collections::get_following),
    )
    .route(
        "/channels/{name}/featured",
        web::get().to(collections::get_featured),
    )
    .route("/posts/{id}", web::get().to(objects::get_note))
    .route("/activities/{id}", web::get().to(objects::get_activity))
    .route(
        "/quote_authorizations/{id}",
        web::get().to(objects::get_quote_authorization),
    );
}

/// An ActivityPub JSON answer. `Vary: Accept` because the same URLs will also answer HTML.
pub(crate) fn activity_json<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ACTIVITY_JSON)
        .insert_header(("Vary", "Accept"))
        .json(value)
}

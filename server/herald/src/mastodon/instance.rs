//! `GET /api/v1/instance` and `/api/v2/instance`: what apps read at start-up. The version
//! says which Mastodon API this speaks (apps parse the leading number) and that it is
//! Herald; `configuration` gives the composer its limits.

use crate::{db, state::HeraldState};
use activitypub_federation::config::Data;
use actix_web::HttpResponse;
use serde_json::{json, Value};

/// The Mastodon API version Herald's client API follows, as apps parse it.
const MASTODON_API: &str = "4.3.0";

fn version() -> String {
    format!(
        "{MASTODON_API} (compatible; Herald {})",
        env!("CARGO_PKG_VERSION")
    )
}

/// The image types an upload may be (`media` reads the format from the bytes).
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// The limits of statuses, media and polls, as both instance versions carry them.
fn configuration(data: &HeraldState) -> Value {
    let posts = &data.config.posts;
    json!({
        "urls": {},
        "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 20 },
        "statuses": {
            "max_characters": posts.max_chars,
            "max_media_attachments": crate::posts::MAX_MEDIA,
            // Mastodon counts every link as 23 characters; Herald counts them as written.
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": IMAGE_TYPES,
            "image_size_limit": posts.max_upload_bytes,
            "image_matrix_limit": posts.max_upload_pixels,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        // Herald has no polls (yet): none may be attached.
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
        "translation": { "enabled": false },
    })
}

fn thumbnail(data: &HeraldState) -> String {
    data.urls
        .base()
        .join(crate::web::ICON_PATH)
        .map(|u| u.to_string())
        .unwrap_or_default()
}

/// `GET /api/v2/instance`.
pub async fn get_instance_v2(data: Data<HeraldState>) -> HttpResponse {
    let domain = data.urls.authority();
    let channels = db::count_channels(&data.db).await.unwrap_or(0);
    HttpResponse::Ok().json(json!({
        "domain": domain,
        "title": domain,
        "version": version(),
        "source_url": "",
        "description": "A Herald channel server: announcement channels the fediverse can follow.",
        "usage": { "users": { "active_month": channels } },
        "thumbnail": { "url": thumbnail(&data) },
        "icon": [],
        "languages": [],
        "configuration": configuration(&data),
        "registrations": { "enabled": false, "approval_required": false, "message": null },
        "api_versions": { "mastodon": 2 },
        "contact": { "email": "", "account": null },
        "rules": [],
    }))
}

/// `GET /api/v1/instance`.
pub async fn get_instance_v1(data: Data<HeraldState>) -> HttpResponse {
    let domain = data.urls.authority();
    let channels = db::count_channels(&data.db).await.unwrap_or(0);
    let posts = db::count_posts(&data.db, None).await.unwrap_or(0);
    HttpResponse::Ok().json(json!({
        "uri": domain,
        "title": domain,
        "short_description": "A Herald channel server.",
        "description": "A Herald channel server: announcement channels the fediverse can follow.",
        "email": "",
        "version": version(),
        "urls": {},
        "stats": { "user_count": channels, "status_count": posts, "domain_count": 0 },
        "thumbnail": thumbnail(&data),
        "languages": [],
        "registrations": false,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": configuration(&data),
        "contact_account": null,
        "rules": [],
    }))
}

//! Uploaded media, served from the media directory with long cache headers (a file's name
//! is its id: it never changes).

use crate::state::HeraldState;
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};

/// The media type of a stored file, by the extension Herald gave it.
fn media_type(file: &str) -> Option<&'static str> {
    match file.rsplit_once('.')?.1 {
        "jpg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "webp" => Some("image/webp"),
        "gif" => Some("image/gif"),
        _ => None,
    }
}

/// A stored name: a UUID and an extension, nothing that could leave the directory.
fn valid_name(file: &str) -> bool {
    file.rsplit_once('.')
        .is_some_and(|(stem, _)| uuid::Uuid::parse_str(stem).is_ok())
        && !file.contains('/')
}

pub async fn get_media(file: web::Path<String>, data: Data<HeraldState>) -> HttpResponse {
    let file = file.into_inner();
    let (true, Some(media_type)) = (valid_name(&file), media_type(&file)) else {
        return HttpResponse::NotFound().finish();
    };
    match tokio::fs::read(data.config.posts.media_dir.join(&file)).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type(media_type)
            .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header(("Content-Security-Policy", "default-src 'none'"))
            .body(bytes),
        Err(_) => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_stored_names_are_served() {
        assert!(super::valid_name(
            "01a2117a-8c98-725f-9ce3-4384a279f92d.jpg"
        ));
        for bad in [
            "../etc/passwd",
            "x.jpg",
            "01a2117a-8c98-725f-9ce3-4384a279f92d",
            "a/b.png",
        ] {
            assert!(!super::valid_name(bad), "{bad}");
        }
    }
}

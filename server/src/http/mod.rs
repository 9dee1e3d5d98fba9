//! HTTP plumbing shared by the entry points (`api`, `federation`, `web`): the one JSON
//! error shape, actix's own rejections rendered in it, and the privacy-keeping request log.
//! A leaf module: it calls no other part of Herald.

mod error;
mod request_log;

pub use error::{json_config, not_found_route, path_config, query_config, ErrorBody, ErrorDetail};
pub use request_log::RequestLog;

/// The ActivityPub media type Herald answers with (Mastodon sends the same).
pub const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";

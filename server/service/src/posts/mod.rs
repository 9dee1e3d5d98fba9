//! The post lifecycle, shared by the API and the scheduler: create (now or scheduled),
//! preview, edit, delete, pin and unpin, publish what is due, and profile changes. Each
//! step validates, renders the body, builds its activity and stores both in one
//! transaction, then enqueues the fan-out; a post that mentions other servers' accounts
//! has its fan-out held until they are resolved off the request path (`held`).
//!
//! Called by entry points (`api`, `app`'s scheduler); calls `content`, `federation`
//! (builders, WebFinger), `db` and `delivery`.

mod body;
mod held;
mod lifecycle;
mod profile;

pub(crate) use body::valid_language as is_language_tag;
pub use body::{MediaText, PostInput, MAX_MEDIA, MAX_SUMMARY_CHARS};
pub use held::{release as release_held, release_stale as release_stale_held};
pub use lifecycle::{create, delete, edit, pin, preview, publish_due, Preview, Published};
pub use profile::{announce_deletion, move_channel, update_profile, ProfileInput, MAX_FIELDS};

use crate::db::DbError;

/// What can go wrong with a post, each with its HTTP meaning in the API.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("no post with this id exists in this channel")]
    NotFound,
    #[error("this post was deleted")]
    Gone,
    /// Input that is not acceptable (422), with a stable code.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error(transparent)]
    Db(DbError),
    #[error("could not serialize an activity: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl PostError {
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> PostError {
        PostError::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl From<DbError> for PostError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => PostError::NotFound,
            DbError::Conflict(detail) => PostError::invalid("media_invalid", detail),
            other => PostError::Db(other),
        }
    }
}

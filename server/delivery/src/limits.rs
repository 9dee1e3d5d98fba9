//! Rate limits: per remote server on the inboxes, per token on the API, as fixed
//! one-minute windows counted in Redis (so every web process shares them). When Redis
//! cannot answer, requests pass: a limit is a guard against floods, not a reason to drop
//! a follower's activity.
//!
//! Called by the entry points (`federation` inboxes, `api`); calls `delivery` (the queue's
//! Redis connection).

use crate::Queue;
use std::time::Duration;

/// The length of a window.
const WINDOW: Duration = Duration::from_secs(60);

/// What is limited, part of the Redis key.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Inbox requests of one remote server.
    Inbox,
    /// API requests of one token.
    Api,
    /// Console sign-in attempts for one account.
    SignInAccount,
    /// Console sign-in attempts from one client address (kept as a hash).
    SignInClient,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Inbox => "inbox",
            Scope::Api => "api",
            Scope::SignInAccount => "sign-in-account",
            Scope::SignInClient => "sign-in-client",
        }
    }
}

/// Counts a request of `who` in `scope`; `Err(seconds to wait)` once it is over
/// `per_minute` (`None`: no limit).
pub async fn check(
    queue: &Queue,
    scope: Scope,
    who: &str,
    per_minute: Option<u32>,
) -> Result<(), u64> {
    let Some(limit) = per_minute else {
        return Ok(());
    };
    let key = format!("herald:limit:{}:{who}", scope.as_str());
    match queue.count_hit(&key, WINDOW).await {
        Ok((count, left)) if count > u64::from(limit) => {
            tracing::info!(scope = scope.as_str(), "rate limit reached");
            Err(left.as_secs_f64().ceil().max(1.0) as u64)
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %crate::error_chain(&e), "rate limit not checked");
            Ok(())
        }
    }
}

//! The doctor's look at what a channel pulls in and pushes out: feed sources that keep
//! failing, and webhooks that are disabled or whose messages died in the last day.

use super::{Check, Verdict};
use crate::db;

/// Failed polls in a row from which a source is named.
const FAILING_AFTER: u32 = 3;

pub(super) async fn check_integrations(db: Option<&db::DatabaseConnection>) -> Check {
    const NAME: &str = "sources and webhooks";
    let Some(db) = db else {
        return Check::new(NAME, Verdict::Skipped, "no database");
    };
    let (sources, hooks, dead) = match tokio::try_join!(
        db::all_sources(db),
        db::all_webhooks(db),
        db::dead_webhook_messages(db, db::now() - chrono::Duration::days(1)),
    ) {
        Ok(found) => found,
        Err(e) => return Check::new(NAME, Verdict::Fail, crate::error_chain(&e)),
    };
    let mut problems = Vec::new();
    for source in sources.iter().filter(|s| s.failures >= FAILING_AFTER) {
        problems.push(format!(
            "source {} ({}) failed {} polls in a row: {}",
            source.id.0,
            source.url,
            source.failures,
            source.last_error.as_deref().unwrap_or("?")
        ));
    }
    for hook in hooks.iter().filter(|h| h.disabled_at.is_some()) {
        problems.push(format!(
            "webhook {} ({}) is disabled: its URL answered 410",
            hook.id, hook.url
        ));
    }
    if dead > 0 {
        problems.push(format!(
            "{dead} webhook message(s) given up in the last day (GET …/webhooks/ID/deliveries)"
        ));
    }
    if problems.is_empty() {
        Check::new(
            NAME,
            Verdict::Ok,
            format!(
                "{} feed source(s), {} webhook(s), none failing",
                sources.len(),
                hooks.len()
            ),
        )
    } else {
        Check::new(NAME, Verdict::Warn, problems.join("; "))
    }
}

//! The base layer: what every other layer of Herald may use and nothing of Herald's sits
//! below. Configuration (`config`), the typed ids (`ids`), the URL layout (`urls`), the
//! time as stored (`now`), this process's metrics (`metrics`), the HTTP plumbing shared by
//! the entry points (`http`), and the guarded outbound HTTP client with its SSRF policy
//! (`guard`) and user agent. It calls no other Herald crate; see ARCHITECTURE.md.

pub mod config;
pub mod guard;
pub mod http;
pub mod ids;
pub mod metrics;
pub mod secrets;
pub mod urls;

pub use urls::Urls;

use config::Config;

/// The time now, to the microsecond: the precision PostgreSQL keeps. A time that is both
/// stored and sent (a post's `published`, an edit's `updated`) then reads back exactly as
/// it was sent.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// `Herald/VERSION (+https://DOMAIN/)`: tells other admins what is knocking and where to
/// find out about it.
pub fn user_agent(config: &Config) -> String {
    format!(
        "Herald/{} (+{}/)",
        env!("CARGO_PKG_VERSION"),
        config.base_url()
    )
}

/// An error with its chain of causes on one line (`a: b: c`), for logs and the CLI.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

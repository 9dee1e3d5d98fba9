//! What a remote server's answer means for a delivery, and when to try again.
//!
//! Classification follows Mastodon (`app/helpers/jsonld_helper.rb`,
//! `response_error_unsalvageable?`): 2xx done; 4xx other than 401, 408 and 429 (and 501)
//! will not get better by retrying; everything else is retried with backoff.

use rand::Rng;
use std::time::Duration;

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server took it (2xx).
    Delivered(u16),
    /// 410 Gone: the inbox (and, for a personal inbox, its actor) no longer exists.
    Gone,
    /// Refused for good (most 4xx, redirects, a target Herald may not contact).
    Rejected { status: Option<u16>, reason: String },
    /// Worth another try later: 5xx, 401/408/429, timeouts, network errors.
    Retry {
        status: Option<u16>,
        reason: String,
        /// The server's `Retry-After`, when it gave one.
        after: Option<Duration>,
    },
}

/// The longest `Retry-After` Herald honours; a server asking for more gets the regular
/// backoff instead of parking a delivery for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Classifies an HTTP answer.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered(status),
        410 => Outcome::Gone,
        401 | 408 | 429 => Outcome::Retry {
            status: Some(status),
            reason: format!("HTTP {status}"),
            after: retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
        },
        501 => Outcome::Rejected {
            status: Some(status),
            reason: "HTTP 501: the server does not implement inboxes".into(),
        },
        300..=399 => Outcome::Rejected {
            status: Some(status),
            reason: format!("HTTP {status}: inboxes must not redirect"),
        },
        400..=499 => Outcome::Rejected {
            status: Some(status),
            reason: format!("HTTP {status}"),
        },
        _ => Outcome::Retry {
            status: Some(status),
            reason: format!("HTTP {status}"),
            after: retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
        },
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or_default())
}

/// The first retry waits up to this long.
const BACKOFF_BASE: Duration = Duration::from_secs(30);
/// Each further retry may wait this many times longer.
const BACKOFF_FACTOR: u32 = 3;
/// No single wait exceeds this.
const BACKOFF_CAP: Duration = Duration::from_secs(36 * 3600);

/// The ceiling of the wait after the `attempt`-th failed attempt (1-based):
/// 30 s, 90 s, 4.5 min, 13.5 min, 40 min, 2 h, 6 h, 18 h, then 36 h. Over the default 12
/// attempts the ceilings sum to about 135 h; with full jitter the expected span is half,
/// about 2.8 days, close to Mastodon's 16 retries over about 2.6 days.
pub fn backoff_ceiling(attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let factor = BACKOFF_FACTOR.saturating_pow(exponent);
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_CAP)
}

/// The wait before the next attempt: "full jitter" (uniform between zero and the ceiling),
/// so failures that happened together do not retry together; at least one second.
pub fn backoff(attempt: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = backoff_ceiling(attempt).as_millis().max(1000);
    let millis = rng.gen_range(1000..=u64::try_from(ceiling).unwrap_or(u64::MAX));
    Duration::from_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn answers_are_classified_as_mastodon_does() {
        assert_eq!(classify(202, None), Outcome::Delivered(202));
        assert_eq!(classify(410, None), Outcome::Gone);
        for status in [400, 403, 404, 422, 501, 302] {
            assert!(
                matches!(classify(status, None), Outcome::Rejected { .. }),
                "{status}"
            );
        }
        for status in [401, 408, 429, 500, 502, 503] {
            assert!(
                matches!(classify(status, None), Outcome::Retry { .. }),
                "{status}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_cap() {
        let Outcome::Retry { after, .. } = classify(429, Some(Duration::from_secs(120))) else {
            panic!("429 must retry")
        };
        assert_eq!(after, Some(Duration::from_secs(120)));
        let Outcome::Retry { after, .. } = classify(503, Some(Duration::from_secs(86400))) else {
            panic!("503 must retry")
        };
        assert_eq!(after, Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(60));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_to_a_cap_and_spans_about_three_days() {
        assert_eq!(backoff_ceiling(1), Duration::from_secs(30));
        assert_eq!(backoff_ceiling(2), Duration::from_secs(90));
        assert_eq!(backoff_ceiling(30), BACKOFF_CAP);
        let total: Duration = (1..12).map(backoff_ceiling).sum();
        let expected_hours = total.as_secs_f64() / 2.0 / 3600.0;
        assert!((48.0..96.0).contains(&expected_hours), "{expected_hours} h");
    }

    #[test]
    fn jitter_stays_within_the_ceiling() {
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 1..15 {
            let wait = backoff(attempt, &mut rng);
            assert!(wait >= Duration::from_secs(1));
            assert!(wait <= backoff_ceiling(attempt).max(Duration::from_secs(1)));
        }
    }
}

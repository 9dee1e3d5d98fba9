//! Prometheus metrics of the machinery, never of readers: every label takes its value from
//! a short fixed list (an outcome, an activity type, a route template, a status code), so
//! no series names a follower, a server or an address, and their number stays bounded
//! whatever the traffic.
//!
//! One [`Metrics`] per process, shared by its web server and delivery workers; counters
//! and histograms count what this process did, and the queue gauges are read from the
//! database and Redis when scraped (see `ops`). Calls nothing else in Herald.

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use std::{sync::Arc, time::Duration};

/// The media type of the OpenMetrics text format that Prometheus scrapes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What came of one poll of a feed source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// The feed was read (new entries or not).
    Fetched,
    /// 304 Not Modified.
    Unchanged,
    /// The server asked to wait (429, 503 with Retry-After).
    Throttled,
    /// An error: network, status, or not a feed.
    Failed,
    /// Pushed by a WebSub hub.
    Pushed,
}

impl PollOutcome {
    fn label(self) -> &'static str {
        match self {
            PollOutcome::Fetched => "fetched",
            PollOutcome::Unchanged => "unchanged",
            PollOutcome::Throttled => "throttled",
            PollOutcome::Failed => "failed",
            PollOutcome::Pushed => "pushed",
        }
    }
}

/// What became of one delivery attempt (or of a delivery that was not attempted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The server answered 2xx.
    Delivered,
    /// A retryable failure; another attempt is scheduled.
    Retrying,
    /// The last attempt failed: a dead letter.
    Dead,
    /// A 4xx answer that is not retried: dropped.
    Rejected,
    /// 410 Gone from a personal inbox: its follower was removed.
    Gone,
    /// The server is marked unreachable: parked until it shows life.
    Parked,
    /// The server's domain is blocked: not sent.
    Blocked,
}

impl DeliveryOutcome {
    fn label(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Retrying => "retrying",
            DeliveryOutcome::Dead => "dead",
            DeliveryOutcome::Rejected => "rejected",
            DeliveryOutcome::Gone => "gone",
            DeliveryOutcome::Parked => "parked",
            DeliveryOutcome::Blocked => "blocked",
        }
    }
}

/// Activity types counted by name; any other is counted as `other`.
const ACTIVITY_TYPES: &[&str] = &[
    "Accept",
    "Add",
    "Announce",
    "Block",
    "Create",
    "Delete",
    "Dislike",
    "EmojiReact",
    "Flag",
    "Follow",
    "Like",
    "Move",
    "Reject",
    "Remove",
    "Undo",
    "Update",
];

/// HTTP methods counted by name; any other is counted as `OTHER`.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InboxLabels {
    r#type: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    /// The route template (`/channels/{name}`), never the concrete path.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    stream: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// The queue's sizes, read from Redis and the database at scrape time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Backlog {
    /// Entries in the fan-out and delivery streams not yet read or acknowledged.
    pub fanout_entries: u64,
    pub delivery_entries: u64,
    /// Entries read by a worker and not yet acknowledged.
    pub in_flight: u64,
    /// Deliveries waiting in Redis for their retry time.
    pub retry_scheduled: u64,
    /// Deliveries by state in the database.
    pub pending: u64,
    pub retrying: u64,
    pub parked: u64,
    /// Dead letters: deliveries given up on, kept for the operator.
    pub dead: u64,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// This process's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    deliveries: Family<OutcomeLabels, Counter>,
    webhook_messages: Family<OutcomeLabels, Counter>,
    polls: Family<OutcomeLabels, Counter>,
    entries_posted: Counter,
    delivery_seconds: Histogram,
    fanout_lag_seconds: Histogram,
    inbox: Family<InboxLabels, Counter>,
    http_seconds: HistogramFamily<HttpLabels>,
    stream_entries: Family<StreamLabels, Gauge>,
    in_flight: Gauge,
    retry_scheduled: Gauge,
    backlog: Family<StateLabels, Gauge>,
    dead_letters: Gauge,
    scrape_errors: Counter,
}

/// Buckets from 5 ms to about 80 s: a fast server answers in milliseconds, a slow one
/// runs into the delivery timeout.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

/// Buckets from 100 ms to about 14 h: how long after its post a fan-out was expanded.
fn lag_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 3.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "herald_deliveries",
            "Deliveries handled, by what came of them (delivered, retrying, dead, rejected, gone, parked, blocked)",
            deliveries.clone(),
        );
        let webhook_messages = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "herald_webhook_messages",
            "Webhook messages handled, by what came of them (as herald_deliveries)",
            webhook_messages.clone(),
        );
        let polls = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "herald_source_polls",
            "Polls of feed sources, by outcome (fetched, unchanged, throttled, failed, pushed)",
            polls.clone(),
        );
        let entries_posted = Counter::default();
        registry.register(
            "herald_source_entries_posted",
            "Feed entries posted to channels",
            entries_posted.clone(),
        );
        let delivery_seconds = latency_histogram();
        registry.register(
            "herald_delivery_duration_seconds",
            "Time from sending a delivery to the remote server's answer (or the timeout)",
            delivery_seconds.clone(),
        );
        let fanout_lag_seconds = lag_histogram();
        registry.register(
            "herald_fanout_lag_seconds",
            "Time from a post's commit until its fan-out had queued a delivery for every inbox",
            fanout_lag_seconds.clone(),
        );
        let inbox = Family::<InboxLabels, Counter>::default();
        registry.register(
            "herald_inbox_activities",
            "Activities received at the inboxes, by type and outcome (processed, replayed, or the refusal's error code)",
            inbox.clone(),
        );
        let http_seconds: HistogramFamily<HttpLabels> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "herald_http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route template and status",
            http_seconds.clone(),
        );
        let stream_entries = Family::<StreamLabels, Gauge>::default();
        registry.register(
            "herald_queue_entries",
            "Entries in the Redis streams (fanout, delivery) not yet acknowledged",
            stream_entries.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "herald_queue_in_flight",
            "Queue entries a worker has read and not yet acknowledged",
            in_flight.clone(),
        );
        let retry_scheduled = Gauge::default();
        registry.register(
            "herald_retry_scheduled",
            "Deliveries waiting in Redis for their next attempt",
            retry_scheduled.clone(),
        );
        let backlog = Family::<StateLabels, Gauge>::default();
        registry.register(
            "herald_delivery_backlog",
            "Deliveries not yet done, by state (pending, retrying, parked)",
            backlog.clone(),
        );
        let dead_letters = Gauge::default();
        registry.register(
            "herald_dead_letters",
            "Deliveries given up on and kept for the operator (herald deliveries)",
            dead_letters.clone(),
        );
        let scrape_errors = Counter::default();
        registry.register(
            "herald_metrics_scrape_errors",
            "Scrapes whose queue figures could not be read from the database or Redis",
            scrape_errors.clone(),
        );
        Metrics(Arc::new(Inner {
            registry,
            deliveries,
            webhook_messages,
            polls,
            entries_posted,
            delivery_seconds,
            fanout_lag_seconds,
            inbox,
            http_seconds,
            stream_entries,
            in_flight,
            retry_scheduled,
            backlog,
            dead_letters,
            scrape_errors,
        }))
    }

    /// Counts what became of a webhook message.
    pub fn webhook_message(&self, outcome: DeliveryOutcome) {
        self.0
            .webhook_messages
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Counts a poll of a feed source.
    pub fn source_poll(&self, outcome: PollOutcome) {
        self.0
            .polls
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Counts feed entries posted.
    pub fn entries_posted(&self, n: u64) {
        self.0.entries_posted.inc_by(n);
    }

    /// Counts what became of a delivery.
    pub fn delivery(&self, outcome: DeliveryOutcome) {
        self.0
            .deliveries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Records how long a remote server took to answer a delivery.
    pub fn delivery_latency(&self, took: Duration) {
        self.0.delivery_seconds.observe(took.as_secs_f64());
    }

    /// Records how long after its post a fan-out finished queueing its deliveries.
    pub fn fanout_lag(&self, lag: Duration) {
        self.0.fanout_lag_seconds.observe(lag.as_secs_f64());
    }

    /// Counts a received activity: its type (`None` when it could not be read) and its
    /// outcome (`processed`, `replayed`, or an error code).
    pub fn inbox_activity(&self, kind: Option<&str>, outcome: &'static str) {
        let kind = match kind {
            None => "unreadable",
            Some(kind) => ACTIVITY_TYPES
                .iter()
                .find(|known| **known == kind)
                .copied()
                .unwrap_or("other"),
        };
        self.0
            .inbox
            .get_or_create(&InboxLabels {
                r#type: kind,
                outcome,
            })
            .inc();
    }

    /// Records an answered HTTP request. `route` is the matched route template, or `None`
    /// when no route matched (counted together, as `unmatched`).
    pub fn http_request(&self, method: &str, route: Option<String>, status: u16, took: Duration) {
        let method = METHODS
            .iter()
            .find(|known| **known == method)
            .copied()
            .unwrap_or("OTHER");
        self.0
            .http_seconds
            .get_or_create(&HttpLabels {
                method,
                route: route.unwrap_or_else(|| "unmatched".into()),
                status,
            })
            .observe(took.as_secs_f64());
    }

    /// Sets the queue gauges from a fresh reading.
    pub fn set_backlog(&self, backlog: &Backlog) {
        let gauge = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let inner = &self.0;
        for (stream, value) in [
            ("fanout", backlog.fanout_entries),
            ("delivery", backlog.delivery_entries),
        ] {
            inner
                .stream_entries
                .get_or_create(&StreamLabels { stream })
                .set(gauge(value));
        }
        inner.in_flight.set(gauge(backlog.in_flight));
        inner.retry_scheduled.set(gauge(backlog.retry_scheduled));
        for (state, value) in [
            ("pending", backlog.pending),
            ("retrying", backlog.retrying),
            ("parked", backlog.parked),
        ] {
            inner
                .backlog
                .get_or_create(&StateLabels { state })
                .set(gauge(value));
        }
        inner.dead_letters.set(gauge(backlog.dead));
    }

    /// Counts a scrape whose queue figures could not be read (the gauges keep their last
    /// values).
    pub fn scrape_failed(&self) {
        self.0.scrape_errors.inc();
    }

    /// Everything, in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.0.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_lists() {
        let metrics = Metrics::new();
        metrics.inbox_activity(Some("Follow"), "processed");
        metrics.inbox_activity(Some("https://evil.example/custom-type"), "processed");
        metrics.inbox_activity(None, "bad_request");
        metrics.http_request("BREW", Some("/channels/{name}".into()), 200, Duration::ZERO);
        metrics.http_request("GET", None, 404, Duration::ZERO);
        let text = metrics.render();
        assert!(
            text.contains(r#"herald_inbox_activities_total{type="Follow",outcome="processed"} 1"#)
        );
        assert!(
            text.contains(r#"herald_inbox_activities_total{type="other",outcome="processed"} 1"#)
        );
        assert!(text.contains(r#"type="unreadable",outcome="bad_request""#));
        assert!(!text.contains("evil.example"), "{text}");
        assert!(text.contains(r#"method="OTHER",route="/channels/{name}",status="200""#));
        assert!(!text.contains("BREW"));
        assert!(text.contains(r#"route="unmatched",status="404""#));
        assert!(text.trim_end().ends_with("# EOF"));
    }

    #[test]
    fn deliveries_and_backlog_are_counted() {
        let metrics = Metrics::new();
        metrics.delivery(DeliveryOutcome::Delivered);
        metrics.delivery(DeliveryOutcome::Delivered);
        metrics.delivery(DeliveryOutcome::Dead);
        metrics.delivery_latency(Duration::from_millis(30));
        metrics.set_backlog(&Backlog {
            delivery_entries: 7,
            dead: 3,
            retrying: 2,
            ..Backlog::default()
        });
        let text = metrics.render();
        assert!(text.contains(r#"herald_deliveries_total{outcome="delivered"} 2"#));
        assert!(text.contains(r#"herald_deliveries_total{outcome="dead"} 1"#));
        assert!(text.contains("herald_delivery_duration_seconds_count 1"));
        assert!(text.contains(r#"herald_queue_entries{stream="delivery"} 7"#));
        assert!(text.contains(r#"herald_delivery_backlog{state="retrying"} 2"#));
        assert!(text.contains("herald_dead_letters 3"));
    }
}

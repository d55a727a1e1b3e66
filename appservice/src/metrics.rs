//! What an operator reads at `GET /metrics` (OpenMetrics text, through the official
//! `prometheus-client`): what the homeserver pushed, what was acknowledged, skipped and why, how
//! long ingest takes and how far the index is behind the rooms, each API route's latency, the
//! job queue, and messages that could not be decrypted.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::projection::{SkipCause, SkippedEvent};

/// A route's latency, by method, route (the path template, never the IDs in it) and status
/// class (`2xx`…).
type RouteLabels = [(&'static str, String); 3];

/// The process's metrics, shared by the drivers that count.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    transactions_acknowledged: Counter,
    transactions_refused: Counter,
    events_received: Counter,
    skipped: Family<[(&'static str, &'static str); 1], Counter>,
    transaction_seconds: Histogram,
    index_lag_seconds: Histogram,
    requests: Family<RouteLabels, Histogram, fn() -> Histogram>,
    undecryptable: Counter,
    jobs_waiting: Gauge,
    jobs_queued: Gauge,
    oldest_job_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    homeserver_reached: Gauge,
    /// The homeserver answered the appservice ping (it reaches Parvis).
    pinged: AtomicBool,
}

/// Buckets of an API request's latency: 0.5 ms to 4 s.
fn request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Self {
            registry: Registry::default(),
            transactions_acknowledged: Counter::default(),
            transactions_refused: Counter::default(),
            events_received: Counter::default(),
            skipped: Family::default(),
            // 1 ms to 16 s.
            transaction_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            // 10 ms to 160 s.
            index_lag_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 15)),
            requests: Family::new_with_constructor(request_buckets),
            undecryptable: Counter::default(),
            jobs_waiting: Gauge::default(),
            jobs_queued: Gauge::default(),
            oldest_job_seconds: Gauge::default(),
            homeserver_reached: Gauge::default(),
            pinged: AtomicBool::new(false),
        };
        // Every cause is listed from the start, at 0, so an alert on one can be written before
        // it ever happens.
        for cause in SkipCause::ALL {
            drop(metrics.skipped.get_or_create(&[("cause", cause.as_str())]));
        }
        let registry = &mut metrics.registry;
        registry.register(
            "parvis_transactions_acknowledged",
            "Homeserver transactions stored and acknowledged.",
            metrics.transactions_acknowledged.clone(),
        );
        registry.register(
            "parvis_transactions_refused",
            "Homeserver transactions refused for a reason a retry may cure.",
            metrics.transactions_refused.clone(),
        );
        registry.register(
            "parvis_events_received",
            "Events received in acknowledged transactions.",
            metrics.events_received.clone(),
        );
        registry.register(
            "parvis_events_skipped",
            "Events acknowledged but not indexed, by cause.",
            metrics.skipped.clone(),
        );
        registry.register(
            "parvis_transaction_seconds",
            "Time to store a homeserver transaction, from its body to the acknowledgement.",
            metrics.transaction_seconds.clone(),
        );
        registry.register(
            "parvis_index_lag_seconds",
            "How far the index is behind the rooms: from an event's origin_server_ts to its transaction stored.",
            metrics.index_lag_seconds.clone(),
        );
        registry.register(
            "parvis_http_request_seconds",
            "Time to answer an HTTP request, by method, route and status class.",
            metrics.requests.clone(),
        );
        registry.register(
            "parvis_undecryptable_events",
            "Encrypted events Parvis could not decrypt (no key shared with its device).",
            metrics.undecryptable.clone(),
        );
        registry.register(
            "parvis_jobs_waiting",
            "1 while jobs wait in the queue, due or to be retried.",
            metrics.jobs_waiting.clone(),
        );
        registry.register(
            "parvis_jobs_queued",
            "Jobs in the queue, due or to be retried (parked ones not counted).",
            metrics.jobs_queued.clone(),
        );
        registry.register(
            "parvis_oldest_job_seconds",
            "Age of the oldest job due, in seconds (0 when none is due).",
            metrics.oldest_job_seconds.clone(),
        );
        registry.register(
            "parvis_homeserver_reached",
            "Whether the homeserver has reached Parvis since it started (1) or not yet (0).",
            metrics.homeserver_reached.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// A transaction was stored and acknowledged, with `events` events, in `took`.
    pub fn acknowledged(&self, events: usize, took: Duration) {
        self.transactions_acknowledged.inc();
        self.events_received.inc_by(events as u64);
        self.transaction_seconds.observe(took.as_secs_f64());
    }

    /// Events sent at `sent_ms` (their `origin_server_ts`) are in the index at `now_ms`.
    pub fn indexed(&self, sent_ms: impl IntoIterator<Item = i64>, now_ms: i64) {
        for sent in sent_ms {
            // A clock apart from the homeserver's can put an event in the future: no lag.
            let lag = (now_ms - sent).max(0);
            self.index_lag_seconds.observe(lag as f64 / 1000.0);
        }
    }

    /// A transaction was refused for a reason a retry may cure (the homeserver sends it again).
    pub fn refused(&self) {
        self.transactions_refused.inc();
    }

    /// Events were skipped: each is logged here, with its reason, and counted.
    pub fn skipped(&self, skipped: &[SkippedEvent]) {
        for event in skipped {
            tracing::warn!(
                event_id = event.event_id.as_deref().unwrap_or("?"),
                room_id = event.room_id.as_deref().unwrap_or("?"),
                cause = event.cause.as_str(),
                reason = %event.reason,
                "event skipped: it is acknowledged but not indexed"
            );
            self.skipped
                .get_or_create(&[("cause", event.cause.as_str())])
                .inc();
        }
    }

    /// An HTTP request was answered with `status` in `took`; `route` is the matched path
    /// template (`/api/v1/communities/{space}`), or `unmatched`.
    pub fn answered(&self, method: &str, route: &str, status: u16, took: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&[
                ("method", method.to_owned()),
                ("route", route.to_owned()),
                ("status", class.to_owned()),
            ])
            .observe(took.as_secs_f64());
    }

    /// An encrypted event could not be decrypted.
    pub fn undecryptable(&self) {
        self.undecryptable.inc();
    }

    /// The job queue as last read: how many wait, and since when the oldest is due.
    pub fn job_queue(&self, queued: u64, oldest_due: Option<Duration>) {
        self.jobs_queued
            .set(i64::try_from(queued).unwrap_or(i64::MAX));
        self.jobs_waiting.set(i64::from(queued > 0));
        self.oldest_job_seconds
            .set(oldest_due.map_or(0.0, |age| age.as_secs_f64()));
    }

    /// How many events were skipped for `cause`.
    pub fn skipped_count(&self, cause: SkipCause) -> u64 {
        self.skipped
            .get_or_create(&[("cause", cause.as_str())])
            .get()
    }

    /// The homeserver answered the appservice ping: it reaches Parvis.
    pub fn homeserver_reached(&self) {
        self.pinged.store(true, Ordering::Relaxed);
    }

    /// Whether the homeserver has reached Parvis since it started: it answered the ping, or
    /// delivered a transaction.
    pub fn has_homeserver_reached(&self) -> bool {
        self.pinged.load(Ordering::Relaxed) || self.transactions_acknowledged.get() > 0
    }

    /// Every metric in OpenMetrics text.
    pub fn render(&self) -> String {
        self.homeserver_reached
            .set(i64::from(self.has_homeserver_reached()));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_events_are_counted_by_cause() {
        let metrics = Metrics::default();
        metrics.acknowledged(3, Duration::from_millis(4));
        metrics.skipped(&[SkippedEvent {
            event_id: Some("$e".to_owned()),
            room_id: None,
            cause: SkipCause::TooLarge,
            reason: "70000 bytes".to_owned(),
        }]);
        let text = metrics.render();
        assert!(text.contains("parvis_events_skipped_total{cause=\"too_large\"} 1"));
        assert!(text.contains("parvis_events_skipped_total{cause=\"malformed\"} 0"));
        assert!(text.contains("parvis_transactions_acknowledged_total 1"));
        assert!(text.contains("parvis_events_received_total 3"));
        assert!(text.contains("parvis_transaction_seconds_count 1"));
        // A transaction delivered means the homeserver reaches Parvis.
        assert!(text.contains("parvis_homeserver_reached 1"));
        assert!(text.ends_with("# EOF\n"));
        let fresh = Metrics::default();
        assert!(fresh.render().contains("parvis_homeserver_reached 0"));
        fresh.homeserver_reached();
        assert!(fresh.has_homeserver_reached());
    }

    #[test]
    fn latency_is_counted_by_route_template_and_status_class() {
        let metrics = Metrics::default();
        metrics.answered(
            "GET",
            "/api/v1/communities/{space}",
            200,
            Duration::from_micros(800),
        );
        metrics.answered(
            "GET",
            "/api/v1/communities/{space}",
            404,
            Duration::from_millis(3),
        );
        let text = metrics.render();
        assert!(
            text.contains(
                "parvis_http_request_seconds_count{method=\"GET\",route=\"/api/v1/communities/{space}\",status=\"2xx\"} 1"
            ),
            "{text}"
        );
        // 0.8 ms is in the 1 ms bucket, not the 0.5 ms one.
        assert!(text.contains(
            "parvis_http_request_seconds_bucket{le=\"0.001\",method=\"GET\",route=\"/api/v1/communities/{space}\",status=\"2xx\"} 1"
        ), "{text}");
        assert!(text.contains(
            "parvis_http_request_seconds_bucket{le=\"0.0005\",method=\"GET\",route=\"/api/v1/communities/{space}\",status=\"2xx\"} 0"
        ));
        assert!(text.contains("status=\"4xx\"} 1"));
    }

    #[test]
    fn the_queue_and_the_lag_are_shown() {
        let metrics = Metrics::default();
        metrics.job_queue(0, None);
        assert!(metrics.render().contains("parvis_jobs_waiting 0"));
        metrics.job_queue(3, Some(Duration::from_millis(2500)));
        metrics.indexed([1_000, 9_000, 20_000], 10_000);
        let text = metrics.render();
        assert!(text.contains("parvis_jobs_waiting 1"));
        assert!(text.contains("parvis_jobs_queued 3"));
        assert!(text.contains("parvis_oldest_job_seconds 2.5"));
        // 9 s, 1 s, and an event "from the future" counted as no lag.
        assert!(text.contains("parvis_index_lag_seconds_count 3"));
        assert!(text.contains("parvis_index_lag_seconds_sum 10.0"), "{text}");
    }
}

//! Counters an operator reads at `GET /metrics` (Prometheus text format): what the homeserver
//! pushed, what was acknowledged, and what was skipped and why.

use std::{
    fmt::Write,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
};

use crate::projection::{SkipCause, SkippedEvent};

/// The process's counters, shared by the drivers that count.
#[derive(Debug, Default)]
pub struct Metrics {
    transactions_acknowledged: AtomicU64,
    transactions_refused: AtomicU64,
    events_received: AtomicU64,
    skipped: [AtomicU64; SkipCause::ALL.len()],
    /// The homeserver answered the appservice ping (it reaches Parvis).
    pinged: AtomicBool,
}

impl Metrics {
    /// A transaction was stored and acknowledged, with `events` events.
    pub fn acknowledged(&self, events: usize) {
        self.transactions_acknowledged
            .fetch_add(1, Ordering::Relaxed);
        self.events_received
            .fetch_add(events as u64, Ordering::Relaxed);
    }

    /// A transaction was refused for a reason a retry may cure (the homeserver sends it again).
    pub fn refused(&self) {
        self.transactions_refused.fetch_add(1, Ordering::Relaxed);
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
            self.skipped[cause_index(event.cause)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The homeserver answered the appservice ping: it reaches Parvis.
    pub fn homeserver_reached(&self) {
        self.pinged.store(true, Ordering::Relaxed);
    }

    /// Whether the homeserver has reached Parvis since it started: it answered the ping, or
    /// delivered a transaction.
    pub fn has_homeserver_reached(&self) -> bool {
        self.pinged.load(Ordering::Relaxed)
            || self.transactions_acknowledged.load(Ordering::Relaxed) > 0
    }

    /// How many events were skipped for `cause`.
    pub fn skipped_count(&self, cause: SkipCause) -> u64 {
        self.skipped[cause_index(cause)].load(Ordering::Relaxed)
    }

    /// The counters in Prometheus's text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let mut counter = |name: &str, help: &str, values: &[(&str, u64)]| {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, value) in values {
                let _ = writeln!(text, "{name}{labels} {value}");
            }
        };
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        counter(
            "parvis_transactions_acknowledged_total",
            "Homeserver transactions stored and acknowledged.",
            &[("", load(&self.transactions_acknowledged))],
        );
        counter(
            "parvis_transactions_refused_total",
            "Homeserver transactions refused for a reason a retry may cure.",
            &[("", load(&self.transactions_refused))],
        );
        counter(
            "parvis_events_received_total",
            "Events received in acknowledged transactions.",
            &[("", load(&self.events_received))],
        );
        let skipped: Vec<(String, u64)> = SkipCause::ALL
            .into_iter()
            .map(|cause| {
                (
                    format!("{{cause=\"{}\"}}", cause.as_str()),
                    self.skipped_count(cause),
                )
            })
            .collect();
        let skipped: Vec<(&str, u64)> = skipped
            .iter()
            .map(|(labels, value)| (labels.as_str(), *value))
            .collect();
        counter(
            "parvis_events_skipped_total",
            "Events acknowledged but not indexed, by cause.",
            &skipped,
        );
        let _ = writeln!(
            text,
            "# HELP parvis_homeserver_reached Whether the homeserver has reached Parvis since it started (1) or not yet (0).\n\
             # TYPE parvis_homeserver_reached gauge\nparvis_homeserver_reached {}",
            u8::from(self.has_homeserver_reached())
        );
        text
    }
}

fn cause_index(cause: SkipCause) -> usize {
    SkipCause::ALL
        .iter()
        .position(|known| *known == cause)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_events_are_counted_by_cause() {
        let metrics = Metrics::default();
        metrics.acknowledged(3);
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
        // A transaction delivered means the homeserver reaches Parvis.
        assert!(text.contains("parvis_homeserver_reached 1"));
        let fresh = Metrics::default();
        assert!(fresh.render().contains("parvis_homeserver_reached 0"));
        fresh.homeserver_reached();
        assert!(fresh.has_homeserver_reached());
    }
}

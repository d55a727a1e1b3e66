//! Transactions in: the [`TransactionSink`] that turns what the homeserver pushes into the index.
//!
//! The transaction is acknowledged once its events are committed, in one database transaction,
//! together with the jobs they call for; the jobs run afterwards ([`crate::bot`]), so the
//! homeserver — which keeps one transaction in flight per appservice — is answered fast.

use std::sync::Arc;

use parvis_e2ee::BotCrypto;
use parvis_homeserver_bridge::{Transaction, TransactionSink, appservice_api::SinkError};
use ruma::{
    RoomAliasId, RoomId, UserId,
    events::{AnyStateEvent, AnyTimelineEvent},
    serde::Raw,
};
use tokio::sync::Notify;

use crate::{
    indexer::{Indexer, IngestReport},
    metrics::Metrics,
    projection::{Identity, Job, RoomEvent, SkipCause, SkippedEvent},
    store::{Index, IndexStore},
};

/// Receives the homeserver's transactions.
#[derive(Debug)]
pub struct Ingest {
    index: Index,
    identity: Identity,
    jobs_waiting: Arc<Notify>,
    pinged: Arc<Notify>,
    crypto: Option<Arc<BotCrypto>>,
    crypto_waiting: Arc<Notify>,
    /// Whether the device's updates come in transactions (else from `/sync`).
    device_updates_in_transactions: bool,
    metrics: Arc<Metrics>,
}

impl Ingest {
    /// A sink writing to `index`, waking `jobs_waiting` when it queues work.
    pub fn new(index: Index, identity: Identity, jobs_waiting: Arc<Notify>) -> Self {
        Self {
            index,
            identity,
            jobs_waiting,
            pinged: Arc::new(Notify::new()),
            crypto: None,
            crypto_waiting: Arc::new(Notify::new()),
            device_updates_in_transactions: true,
            metrics: Arc::default(),
        }
    }

    /// Counts into `metrics` (the server's, shown at `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Leaves the crypto parts of transactions aside: the device reads them with `/sync`
    /// (`e2ee.device_updates = "sync"`), and fed twice, a to-device message would be decrypted
    /// twice.
    pub fn reading_device_updates_with_sync(mut self) -> Self {
        self.device_updates_in_transactions = false;
        self
    }

    /// Feeds the crypto parts of each transaction to the bot's device, waking `crypto_waiting`
    /// so its requests are sent.
    pub fn with_crypto(
        mut self,
        crypto: Option<Arc<BotCrypto>>,
        crypto_waiting: Arc<Notify>,
    ) -> Self {
        self.crypto = crypto;
        self.crypto_waiting = crypto_waiting;
        self
    }

    /// Notified when the homeserver pings the appservice.
    pub fn pinged(&self) -> Arc<Notify> {
        self.pinged.clone()
    }
}

/// Largest event Parvis reads, as JSON. Homeservers refuse events over 64 KiB; what the
/// homeserver adds (`unsigned`: the replaced state's content, the redaction) can double that.
pub const MAX_EVENT_BYTES: usize = 192 * 1024;

/// The events of a transaction Parvis can read, and the ones it skips with their reasons.
#[derive(Debug, Default)]
pub struct AdmittedEvents {
    /// Well-formed room events, NUL characters removed.
    pub events: Vec<RoomEvent>,
    /// Malformed or oversized events.
    pub skipped: Vec<SkippedEvent>,
}

/// Reads the events of a transaction (sans I/O). An event that is not a well-formed room event,
/// or is larger than any homeserver allows, is skipped with its reason: refusing the
/// transaction would make the homeserver retry it forever.
pub fn admit_events(raw: &[Raw<AnyTimelineEvent>]) -> AdmittedEvents {
    let mut admitted = AdmittedEvents::default();
    for event in raw {
        let skip = |cause, reason| SkippedEvent {
            event_id: event.get_field::<String>("event_id").ok().flatten(),
            room_id: event.get_field::<String>("room_id").ok().flatten(),
            cause,
            reason,
        };
        let size = event.json().get().len();
        if size > MAX_EVENT_BYTES {
            admitted.skipped.push(skip(
                SkipCause::TooLarge,
                format!("{size} bytes, over the {MAX_EVENT_BYTES} Parvis reads"),
            ));
            continue;
        }
        match event.deserialize_as_unchecked::<RoomEvent>() {
            Ok(mut event) => {
                event.remove_nul_characters();
                admitted.events.push(event);
            }
            Err(error) => admitted.skipped.push(skip(
                SkipCause::Malformed,
                format!("not a room event: {error}"),
            )),
        }
    }
    admitted
}

/// The readable events of a transaction ([`admit_events`]), the others logged and dropped.
pub fn room_events(raw: &[Raw<AnyTimelineEvent>]) -> Vec<RoomEvent> {
    let admitted = admit_events(raw);
    for skipped in &admitted.skipped {
        tracing::warn!(reason = %skipped.reason, "skipping an event that cannot be read");
    }
    admitted.events
}

/// Reads the events of `GET /rooms/{roomId}/state`, which belong to `room_id` (filled in where a
/// server leaves it out).
pub fn state_events(raw: &[Raw<AnyStateEvent>], room_id: &RoomId) -> Vec<RoomEvent> {
    raw.iter()
        .filter_map(|event| {
            let mut object = event
                .deserialize_as_unchecked::<serde_json::Map<String, serde_json::Value>>()
                .ok()?;
            object
                .entry("room_id")
                .or_insert_with(|| room_id.as_str().into());
            match serde_json::from_value::<RoomEvent>(object.into()) {
                Ok(mut event) if event.room_id == room_id => {
                    event.remove_nul_characters();
                    Some(event)
                }
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(%error, %room_id, "skipping a malformed state event");
                    None
                }
            }
        })
        .collect()
}

impl Ingest {
    /// Stores `events` one database transaction each, skipping those the index refuses for
    /// good; a transient failure still refuses the whole homeserver transaction (the events
    /// already stored are then deduplicated when it comes again).
    async fn ingest_one_by_one(
        &self,
        events: &[RoomEvent],
        skipped: &mut Vec<SkippedEvent>,
    ) -> Result<IngestReport, SinkError> {
        let mut total = IngestReport::default();
        for event in events {
            match self
                .index
                .ingest(&self.identity, std::slice::from_ref(event))
                .await
            {
                Ok(report) => {
                    total.new_events += report.new_events;
                    total.jobs += report.jobs;
                    total.skipped.extend(report.skipped);
                }
                Err(error) if error.is_transient() => {
                    self.metrics.refused();
                    return Err(Box::new(error));
                }
                Err(error) => skipped.push(SkippedEvent {
                    event_id: Some(event.event_id.to_string()),
                    room_id: Some(event.room_id.to_string()),
                    cause: SkipCause::RefusedByIndex,
                    reason: error.to_string(),
                }),
            }
        }
        Ok(total)
    }
}

impl TransactionSink for Ingest {
    async fn ingest(&self, transaction: Transaction) -> Result<(), SinkError> {
        let started = std::time::Instant::now();
        // Keys first: a room key in this transaction may be what its messages need, and a
        // failure here leaves the transaction unacknowledged, to be sent again.
        if let Some(crypto) = self
            .crypto
            .as_ref()
            .filter(|_| self.device_updates_in_transactions)
        {
            let keys = crypto
                .receive_transaction(&transaction)
                .await
                .map_err(|error| -> SinkError { Box::new(error) })?;
            self.crypto_waiting.notify_one();
            if !keys.is_empty() {
                tracing::debug!(keys = keys.len(), "room keys received");
                self.jobs_waiting.notify_one();
            }
        }
        let AdmittedEvents {
            mut events,
            mut skipped,
        } = admit_events(&transaction.events);
        if let Some(crypto) = &self.crypto {
            // Encrypted state (MSC4362) is indexed as the state it holds; rooms with state not
            // readable yet are read again from the homeserver once the key may have come.
            for room_id in
                crate::encrypted_state::decrypt_state(crypto, &self.index, &mut events).await
            {
                self.index.enqueue(&Job::ReconcileRoom { room_id }).await?;
            }
        }
        let report = match self.index.ingest(&self.identity, &events).await {
            Ok(report) => report,
            Err(error) if error.is_transient() => {
                self.metrics.refused();
                return Err(Box::new(error));
            }
            // The database refuses something in this batch, and would on every attempt: each
            // event goes in on its own, and the ones refused are skipped.
            Err(error) => {
                tracing::warn!(%error, txn_id = %transaction.txn_id, "the index refused a transaction; storing its events one by one");
                self.ingest_one_by_one(&events, &mut skipped).await?
            }
        };
        if !skipped.is_empty() {
            self.metrics.skipped(&skipped);
            self.index.record_skipped(&skipped).await?;
        }
        self.metrics.skipped(&report.skipped);
        self.metrics
            .acknowledged(transaction.events.len(), started.elapsed());
        self.metrics.indexed(
            events
                .iter()
                .map(|event| i64::from(event.origin_server_ts.get())),
            crate::store::now_ms(),
        );
        tracing::debug!(txn_id = %transaction.txn_id, received = events.len(), new = report.new_events, jobs = report.jobs, "transaction stored");
        if report.jobs > 0 {
            self.jobs_waiting.notify_one();
        }
        Ok(())
    }

    async fn query_user(&self, user_id: &UserId) -> bool {
        // Parvis registers its users itself before using them; the bot exists from the start.
        user_id == self.identity.bot
    }

    async fn query_room_alias(&self, _alias: &RoomAliasId) -> bool {
        false
    }

    fn pinged(&self, transaction_id: Option<&str>) {
        tracing::info!(?transaction_id, "pinged by the homeserver");
        self.pinged.notify_waiters();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::owned_user_id;
    use serde_json::json;

    use super::*;
    use crate::store::SqliteIndex;

    /// One oversized and one malformed event among good ones: the transaction is acknowledged,
    /// the good events indexed, the two others recorded as skipped with their causes, counted.
    #[tokio::test]
    async fn bad_events_are_skipped_and_the_transaction_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("index.db").display());
        let index = Index::Sqlite(SqliteIndex::connect(&url, 2).await.unwrap());
        let metrics = Arc::new(Metrics::default());
        let ingest = Ingest::new(
            index.clone(),
            Identity {
                bot: owned_user_id!("@parvis:hs"),
                user_prefix: "parvis_".to_owned(),
            },
            Arc::new(Notify::new()),
        )
        .with_metrics(metrics.clone());
        let body = json!({"events": [
            {"event_id": "$create", "room_id": "!r:hs", "sender": "@parvis:hs", "type": "m.room.create",
             "state_key": "", "origin_server_ts": 1, "content": {"room_version": "12"}},
            {"event_id": "$huge", "room_id": "!r:hs", "sender": "@mallory:hs", "type": "m.room.message",
             "origin_server_ts": 2, "content": {"msgtype": "m.text", "body": "x".repeat(MAX_EVENT_BYTES)}},
            {"event_id": "$bad", "room_id": "!r:hs", "type": "m.room.message", "content": {}},
            {"event_id": "$member", "room_id": "!r:hs", "sender": "@parvis:hs", "type": "m.room.member",
             "state_key": "@parvis:hs", "origin_server_ts": 3, "content": {"membership": "join"}},
        ]});
        let transaction = parvis_homeserver_bridge::transaction::parse_transaction(
            "1",
            &serde_json::to_vec(&body).unwrap(),
        )
        .unwrap();
        ingest.ingest(transaction).await.unwrap();
        assert_eq!(
            index
                .membership(ruma::room_id!("!r:hs"), ruma::user_id!("@parvis:hs"))
                .await
                .unwrap(),
            Some(ruma::events::room::member::MembershipState::Join)
        );
        let skipped = index.skipped_events(10).await.unwrap();
        let causes: Vec<(Option<&str>, SkipCause)> = skipped
            .iter()
            .map(|s| (s.event_id.as_deref(), s.cause))
            .collect();
        assert!(
            causes.contains(&(Some("$huge"), SkipCause::TooLarge)),
            "{causes:?}"
        );
        assert!(
            causes.contains(&(Some("$bad"), SkipCause::Malformed)),
            "{causes:?}"
        );
        assert_eq!(metrics.skipped_count(SkipCause::TooLarge), 1);
        assert_eq!(metrics.skipped_count(SkipCause::Malformed), 1);
    }
}

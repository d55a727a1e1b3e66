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
    projection::{Identity, Job, RoomEvent},
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
        }
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

/// Reads the events of a transaction. An event that is not a well-formed room event is
/// skipped with a warning: refusing the transaction would make the homeserver retry it forever.
pub fn room_events(raw: &[Raw<AnyTimelineEvent>]) -> Vec<RoomEvent> {
    raw.iter()
        .filter_map(
            |event| match event.deserialize_as_unchecked::<RoomEvent>() {
                Ok(event) => Some(event),
                Err(error) => {
                    tracing::warn!(%error, "skipping a malformed event in a transaction");
                    None
                }
            },
        )
        .collect()
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
                Ok(event) if event.room_id == room_id => Some(event),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(%error, %room_id, "skipping a malformed state event");
                    None
                }
            }
        })
        .collect()
}

impl TransactionSink for Ingest {
    async fn ingest(&self, transaction: Transaction) -> Result<(), SinkError> {
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
        let mut events = room_events(&transaction.events);
        if let Some(crypto) = &self.crypto {
            // Encrypted state (MSC4362) is indexed as the state it holds; rooms with state not
            // readable yet are read again from the homeserver once the key may have come.
            for room_id in crate::encrypted_state::decrypt_state(crypto, &mut events).await {
                self.index.enqueue(&Job::ReconcileRoom { room_id }).await?;
            }
        }
        let report = self.index.ingest(&self.identity, &events).await?;
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

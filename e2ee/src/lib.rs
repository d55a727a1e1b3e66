//! End-to-end encryption for Parvis's bot.
//!
//! The bot has a device of its own, created the appservice way (MSC4190: `PUT /devices/{id}`
//! with the appservice token and `user_id`), and an [`OlmMachine`] (matrix-sdk-crypto, on
//! vodozemac) whose state lives in a SQLite crypto store beside the index. The machine is fed from
//! appservice transactions ([`changes`]), and everything it asks to send (key uploads, key
//! queries, one-time key claims, to-device messages) is sent as the bot's device with identity
//! assertion. A store whose file is gone starts a new device (its keys are lost for good); one
//! that exists but cannot be opened (wrong passphrase, locked, damaged) stops Parvis with a
//! message saying what to do, so keys are never given up silently.

pub mod changes;

use std::{path::Path, sync::Arc};

use matrix_sdk_crypto::{
    DecryptionSettings, EncryptionSettings, EncryptionSyncChanges, OlmMachine, TrustRequirement,
    types::requests::{AnyOutgoingRequest, ToDeviceRequest},
};
use matrix_sdk_sqlite::SqliteCryptoStore;
use parvis_homeserver_bridge::{ClientError, HomeserverClient};
use ruma::{
    DeviceId, OwnedDeviceId, OwnedUserId, RoomId, TransactionId, UserId,
    api::{
        appservice::event::push_events::v1::Request as Transaction,
        client::{
            device::update_device,
            filter::FilterDefinition,
            keys::{get_keys, upload_signing_keys},
            message::send_message_event,
            sync::sync_events,
            to_device::send_event_to_device,
        },
    },
    events::{AnyMessageLikeEventContent, AnyStateEventContent, AnyTimelineEvent},
    presence::PresenceState,
    serde::Raw,
};
use tokio::sync::Mutex;

pub use changes::{DeviceChanges, changes_for};
pub use matrix_sdk_crypto::store::types::RoomKeyInfo;
pub use matrix_sdk_crypto::types::events::room::encrypted::EncryptedEvent;

/// Why an encryption operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The crypto store could not be opened or written.
    #[error("crypto store: {0}")]
    Store(String),
    /// The homeserver refused or could not be reached.
    #[error(transparent)]
    Homeserver(#[from] ClientError),
    /// Olm/Megolm failed.
    #[error("encryption: {0}")]
    Olm(String),
}

impl CryptoError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Homeserver(error) => error.is_transient(),
            Self::Store(_) | Self::Olm(_) => true,
        }
    }
}

/// Why an event could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum Undecryptable {
    /// The room key has not arrived (yet): retry when it does.
    #[error("the room key for this message has not reached Parvis's device: {0}")]
    MissingKey(String),
    /// The sender's client refused to share the room key with Parvis's device (an
    /// `m.room_key.withheld` code, e.g. `m.unverified`); it may still share it later.
    #[error("the sender's client withheld the room key from Parvis's device ({0})")]
    Withheld(String),
    /// The event cannot ever be decrypted (malformed, or refused by Olm/Megolm).
    #[error("the message cannot be decrypted: {0}")]
    Invalid(String),
}

/// The file, in the store directory, that records which device the store belongs to.
const DEVICE_FILE: &str = "device_id";
/// The SQLite file matrix-sdk-sqlite keeps the crypto store in.
const STORE_FILE: &str = "matrix-sdk-crypto.sqlite3";

/// The bot's device and its Olm machine.
#[derive(Debug)]
pub struct BotCrypto {
    machine: OlmMachine,
    client: HomeserverClient,
    /// Serialises the sending of outgoing requests (the machine hands out the same requests until
    /// they are marked as sent).
    sending: Mutex<()>,
}

impl BotCrypto {
    /// Opens the crypto store in `dir` for `user_id` with the device recorded there, or a new
    /// device (`PARVIS` and 8 random letters) when there is no store: a new installation, or
    /// one whose store file is gone (its keys are lost for good, so a new device begins).
    ///
    /// A store that exists but cannot be opened — a wrong `e2ee.store_passphrase`, a store
    /// locked by another process, a damaged file, a store of another account — is an error:
    /// starting a new device then would silently give up keys that may still be there. The
    /// message says what to do. Local only: [`BotCrypto::register_device`] tells the homeserver.
    pub async fn open(
        client: HomeserverClient,
        user_id: &UserId,
        dir: &Path,
        passphrase: Option<&str>,
    ) -> Result<Self, CryptoError> {
        let store_error = |e: &dyn std::fmt::Display| CryptoError::Store(e.to_string());
        let store_exists = dir.join(STORE_FILE).exists();
        let recorded = std::fs::read_to_string(dir.join(DEVICE_FILE))
            .ok()
            .map(|id| OwnedDeviceId::from(id.trim()))
            .filter(|id| !id.as_str().is_empty());
        let device_id = match (recorded, store_exists) {
            (Some(device_id), true) => device_id,
            (None, true) => {
                return Err(CryptoError::Store(format!(
                    "the crypto store in {} has no `{DEVICE_FILE}` file naming its device;                      restore that file, or move the directory aside to start a new device                      (messages encrypted for the old one will stay unreadable to Parvis)",
                    dir.display()
                )));
            }
            // No store: a new device, whatever an old device file says (its keys are gone).
            (_, false) => new_device_id(),
        };
        let machine = Self::open_machine(user_id, &device_id, dir, passphrase)
            .await
            .map_err(|error| {
                CryptoError::Store(format!(
                    "the crypto store in {} cannot be opened for device {device_id}: {error}.                      Check e2ee.store_passphrase and that no other Parvis uses this directory;                      to give up its keys and start a new device, move the directory aside",
                    dir.display()
                ))
            })?;
        std::fs::write(dir.join(DEVICE_FILE), device_id.as_str()).map_err(|e| store_error(&e))?;
        Ok(Self {
            machine,
            client,
            sending: Mutex::new(()),
        })
    }

    /// Creates the device at the homeserver the appservice way (MSC4190; an existing device is
    /// left as it is) and uploads its keys. Idempotent: run at every start.
    pub async fn register_device(&self) -> Result<(), CryptoError> {
        let mut request = update_device::v3::Request::new(self.device_id().to_owned());
        request.display_name = Some("Parvis".to_owned());
        self.client
            .send_as(request, Some(self.user_id()), None)
            .await?;
        self.send_outgoing_requests().await?;
        tracing::info!(user_id = %self.user_id(), device_id = %self.device_id(),
            curve25519 = %self.curve25519_key(), "the bot's encryption device is ready");
        Ok(())
    }

    /// Gives the bot a cross-signing identity (master, self-signing and user-signing keys) and
    /// signs its device with it, so clients that read only devices their owner signed (MSC4153,
    /// the default of recent Element clients) read what the bot sends, and show its device as
    /// its owner's rather than as an unknown one. Kept keys are uploaded again unchanged (the
    /// homeserver takes that as a no-op); after a lost store the bot has a new identity, which an
    /// appservice may publish without interactive authentication (MSC4190). Run at every start,
    /// after [`BotCrypto::register_device`].
    pub async fn bootstrap_cross_signing(&self) -> Result<(), CryptoError> {
        let requests = self
            .machine
            .bootstrap_cross_signing(false)
            .await
            .map_err(|e| CryptoError::Store(e.to_string()))?;
        if let Some(upload) = &requests.upload_keys_req {
            self.send_request(upload.request_id(), upload.request())
                .await?;
        }
        let keys = requests.upload_signing_keys_req;
        let mut upload = upload_signing_keys::v3::Request::new();
        upload.master_key = keys.master_key.map(|key| key.to_raw());
        upload.self_signing_key = keys.self_signing_key.map(|key| key.to_raw());
        upload.user_signing_key = keys.user_signing_key.map(|key| key.to_raw());
        let (user, device) = (Some(self.user_id()), Some(self.device_id()));
        self.client.send_as(upload, user, device).await?;
        let response = self
            .client
            .send_as(requests.upload_signatures_req, user, device)
            .await?;
        if !response.failures.is_empty() {
            return Err(CryptoError::Olm(format!(
                "the homeserver refused signatures of the bot's keys: {:?}",
                response.failures
            )));
        }
        let status = self.machine.cross_signing_status().await;
        tracing::info!(
            master = status.has_master,
            self_signing = status.has_self_signing,
            user_signing = status.has_user_signing,
            "the bot's device is cross-signed"
        );
        Ok(())
    }

    async fn open_machine(
        user_id: &UserId,
        device_id: &DeviceId,
        dir: &Path,
        passphrase: Option<&str>,
    ) -> Result<OlmMachine, CryptoError> {
        let store = SqliteCryptoStore::open(dir, passphrase)
            .await
            .map_err(|e| CryptoError::Store(e.to_string()))?;
        OlmMachine::with_store(user_id, device_id, store, None)
            .await
            .map_err(|e| CryptoError::Store(e.to_string()))
    }

    /// The bot's user ID.
    pub fn user_id(&self) -> &UserId {
        self.machine.user_id()
    }

    /// The bot's device ID.
    pub fn device_id(&self) -> &DeviceId {
        self.machine.device_id()
    }

    /// The device's Curve25519 identity key, base64.
    pub fn curve25519_key(&self) -> String {
        self.machine.identity_keys().curve25519.to_base64()
    }

    /// Feeds the crypto parts of a transaction (to-device messages, device list changes, key
    /// counts) to the machine. Returns the room keys that arrived, so undecryptable events can
    /// be retried.
    pub async fn receive_transaction(
        &self,
        transaction: &Transaction,
    ) -> Result<Vec<RoomKeyInfo>, CryptoError> {
        let changes = changes_for(transaction, self.user_id(), self.device_id());
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let (_, keys) = self
            .machine
            .receive_sync_changes(
                EncryptionSyncChanges {
                    to_device_events: changes.to_device,
                    changed_devices: &changes.device_lists,
                    one_time_keys_counts: &changes.one_time_keys_count,
                    unused_fallback_keys: changes.unused_fallback_keys.as_deref(),
                    next_batch_token: None,
                },
                &decryption_settings(),
            )
            .await
            .map_err(|e| CryptoError::Olm(e.to_string()))?;
        Ok(keys)
    }

    /// Reads the device's encryption updates with one `/sync` long poll of up to `timeout` (the
    /// fallback for homeservers that do not push them to appservices), and feeds them to the
    /// machine. The sync token is kept in the crypto store with what it brought, so a restart
    /// neither loses nor replays to-device messages. Returns the room keys that arrived.
    ///
    /// The homeserver must let the bot `/sync`: Synapse refuses it to an appservice's own
    /// (sender) user, so the bot is then another user of the appservice.
    pub async fn sync_device_updates(
        &self,
        timeout: std::time::Duration,
    ) -> Result<Vec<RoomKeyInfo>, CryptoError> {
        let since = self
            .machine
            .store()
            .next_batch_token()
            .await
            .map_err(|e| CryptoError::Store(e.to_string()))?;
        let mut request = sync_events::v3::Request::new();
        // The first sync answers at once; later ones wait for something new.
        request.timeout = since.is_some().then_some(timeout);
        request.since = since;
        // Rooms, presence and account data are not wanted: events come in transactions.
        request.filter = Some(sync_events::v3::Filter::FilterDefinition(
            FilterDefinition::ignore_all(),
        ));
        request.set_presence = PresenceState::Offline;
        let response = self
            .client
            .send_as_adjusting(
                request,
                Some(self.user_id()),
                Some(self.device_id()),
                drop_unreadable_device_entries,
            )
            .await?;
        let next_batch = response.next_batch.clone();
        let changes = changes::changes_from_sync(response);
        let (_, keys) = self
            .machine
            .receive_sync_changes(
                EncryptionSyncChanges {
                    to_device_events: changes.to_device,
                    changed_devices: &changes.device_lists,
                    one_time_keys_counts: &changes.one_time_keys_count,
                    unused_fallback_keys: changes.unused_fallback_keys.as_deref(),
                    next_batch_token: Some(next_batch),
                },
                &decryption_settings(),
            )
            .await
            .map_err(|e| CryptoError::Olm(e.to_string()))?;
        Ok(keys)
    }

    /// Sends every request the machine has queued (key upload, key queries, to-device
    /// messages…) as the bot's device, and hands the answers back to it.
    pub async fn send_outgoing_requests(&self) -> Result<(), CryptoError> {
        let _sending = self.sending.lock().await;
        let requests = self
            .machine
            .outgoing_requests()
            .await
            .map_err(|e| CryptoError::Store(e.to_string()))?;
        for request in requests {
            self.send_request(request.request_id(), request.request())
                .await?;
        }
        Ok(())
    }

    async fn send_request(
        &self,
        request_id: &TransactionId,
        request: &AnyOutgoingRequest,
    ) -> Result<(), CryptoError> {
        let (user, device) = (Some(self.user_id()), Some(self.device_id()));
        let olm = |e: matrix_sdk_crypto::OlmError| CryptoError::Olm(e.to_string());
        match request {
            AnyOutgoingRequest::KeysUpload(upload) => {
                let response = self.client.send_as(upload.clone(), user, device).await?;
                self.machine
                    .mark_request_as_sent(request_id, &response)
                    .await
                    .map_err(olm)?;
            }
            AnyOutgoingRequest::KeysQuery(query) => {
                let mut get = get_keys::v3::Request::new();
                get.device_keys = query.device_keys.clone();
                get.timeout = query.timeout;
                let response = self.client.send_as(get, user, device).await?;
                self.machine
                    .mark_request_as_sent(request_id, &response)
                    .await
                    .map_err(olm)?;
            }
            AnyOutgoingRequest::KeysClaim(claim) => {
                let response = self.client.send_as(claim.clone(), user, device).await?;
                self.machine
                    .mark_request_as_sent(request_id, &response)
                    .await
                    .map_err(olm)?;
            }
            AnyOutgoingRequest::ToDeviceRequest(to_device) => {
                self.send_to_device(to_device).await?;
            }
            AnyOutgoingRequest::SignatureUpload(signatures) => {
                let response = self
                    .client
                    .send_as(signatures.clone(), user, device)
                    .await?;
                self.machine
                    .mark_request_as_sent(request_id, &response)
                    .await
                    .map_err(olm)?;
            }
            AnyOutgoingRequest::RoomMessage(message) => {
                let request = send_message_event::v3::Request::new(
                    message.room_id.clone(),
                    message.txn_id.clone(),
                    &*message.content,
                )
                .map_err(|e| CryptoError::Olm(e.to_string()))?;
                let response = self.client.send_as(request, user, device).await?;
                self.machine
                    .mark_request_as_sent(request_id, &response)
                    .await
                    .map_err(olm)?;
            }
        }
        Ok(())
    }

    async fn send_to_device(&self, to_device: &ToDeviceRequest) -> Result<(), CryptoError> {
        let request = send_event_to_device::v3::Request::new_raw(
            to_device.event_type.clone(),
            to_device.txn_id.clone(),
            to_device.messages.clone(),
        );
        let response = self
            .client
            .send_as_adjusting(
                request,
                Some(self.user_id()),
                Some(self.device_id()),
                drop_unreadable_device_entries,
            )
            .await?;
        self.machine
            .mark_request_as_sent(&to_device.txn_id, &response)
            .await
            .map_err(|e| CryptoError::Olm(e.to_string()))
    }

    /// Decrypts a room event (`m.room.encrypted`, full event JSON).
    pub async fn decrypt(
        &self,
        room_id: &RoomId,
        event: &Raw<EncryptedEvent>,
    ) -> Result<Raw<AnyTimelineEvent>, Undecryptable> {
        decrypt_with(&self.machine, room_id, event).await
    }

    /// Decrypts many events of a room at once, on as many tasks as the machine has cores (an
    /// Olm machine is shared between tasks). Results are in the order of `events`.
    pub async fn decrypt_many(
        &self,
        room_id: &RoomId,
        events: Vec<Raw<EncryptedEvent>>,
    ) -> Vec<Result<Raw<AnyTimelineEvent>, Undecryptable>> {
        decrypt_many_with(&self.machine, room_id, events).await
    }

    /// Encrypts a message-like event for a room whose members are `members`: their device
    /// lists are brought up to date, Olm sessions established where missing, and the room key
    /// shared with their devices first.
    pub async fn encrypt(
        &self,
        room_id: &RoomId,
        members: &[OwnedUserId],
        event_type: &str,
        content: &Raw<AnyMessageLikeEventContent>,
    ) -> Result<Raw<AnyMessageLikeEventContent>, CryptoError> {
        self.prepare_room_key(room_id, members).await?;
        let result = self
            .machine
            .encrypt_room_event_raw(room_id, event_type, content)
            .await
            .map_err(|e| CryptoError::Olm(e.to_string()))?;
        // An `m.room.encrypted` content.
        Ok(result.content.cast_unchecked())
    }

    /// Encrypts a state event for a room whose `m.room.encryption` asks for encrypted state
    /// (MSC4362): the content of an `m.room.encrypted` state event whose state key is
    /// `{event_type}:{state_key}`.
    pub async fn encrypt_state(
        &self,
        room_id: &RoomId,
        members: &[OwnedUserId],
        event_type: &str,
        state_key: &str,
        content: &Raw<AnyStateEventContent>,
    ) -> Result<Raw<AnyStateEventContent>, CryptoError> {
        self.prepare_room_key(room_id, members).await?;
        let encrypted = self
            .machine
            .encrypt_state_event_raw(room_id, event_type, state_key, content)
            .await
            .map_err(|e| CryptoError::Olm(e.to_string()))?;
        Ok(encrypted.cast_unchecked())
    }

    /// Makes sure the room key of `room_id` is shared with every device of `members`.
    async fn prepare_room_key(
        &self,
        room_id: &RoomId,
        members: &[OwnedUserId],
    ) -> Result<(), CryptoError> {
        let olm = |e: &dyn std::fmt::Display| CryptoError::Olm(e.to_string());
        self.machine
            .update_tracked_users(members.iter().map(AsRef::as_ref))
            .await
            .map_err(|e| olm(&e))?;
        // Key queries for new or changed users.
        self.send_outgoing_requests().await?;
        let _sending = self.sending.lock().await;
        if let Some((request_id, claim)) = self
            .machine
            .get_missing_sessions(members.iter().map(AsRef::as_ref))
            .await
            .map_err(|e| olm(&e))?
        {
            let response = self
                .client
                .send_as(claim, Some(self.user_id()), Some(self.device_id()))
                .await?;
            self.machine
                .mark_request_as_sent(&request_id, &response)
                .await
                .map_err(|e| olm(&e))?;
        }
        let requests = self
            .machine
            .share_room_key(
                room_id,
                members.iter().map(AsRef::as_ref),
                EncryptionSettings::default(),
            )
            .await
            .map_err(|e| olm(&e))?;
        for request in requests {
            self.send_to_device(&request).await?;
        }
        Ok(())
    }

    /// The underlying machine, for what this type does not wrap.
    pub fn machine(&self) -> &OlmMachine {
        &self.machine
    }
}

/// Decrypts an encrypted attachment (AES-CTR, as `m.file` messages in encrypted rooms carry
/// them), checking the ciphertext's SHA-256 against the one in `file`.
pub fn decrypt_attachment(
    ciphertext: &[u8],
    file: &ruma::events::room::EncryptedFile,
) -> Result<Vec<u8>, CryptoError> {
    use std::io::Read;
    let mut reader = std::io::Cursor::new(ciphertext);
    let info = matrix_sdk_crypto::MediaEncryptionInfo::from(file.clone());
    let mut decryptor = matrix_sdk_crypto::AttachmentDecryptor::new(&mut reader, info)
        .map_err(|e| CryptoError::Olm(e.to_string()))?;
    let mut plain = Vec::with_capacity(ciphertext.len());
    decryptor
        .read_to_end(&mut plain)
        .map_err(|e| CryptoError::Olm(e.to_string()))?;
    Ok(plain)
}

/// Decrypts one room event with `machine`.
async fn decrypt_with(
    machine: &OlmMachine,
    room_id: &RoomId,
    event: &Raw<EncryptedEvent>,
) -> Result<Raw<AnyTimelineEvent>, Undecryptable> {
    match machine
        .decrypt_room_event(event, room_id, &decryption_settings())
        .await
    {
        Ok(decrypted) => Ok(decrypted.event),
        Err(matrix_sdk_crypto::MegolmError::MissingRoomKey(Some(code))) => {
            Err(Undecryptable::Withheld(code.to_string()))
        }
        Err(matrix_sdk_crypto::MegolmError::MissingRoomKey(None)) => {
            Err(Undecryptable::MissingKey("no room key yet".to_owned()))
        }
        Err(error @ matrix_sdk_crypto::MegolmError::Store(_)) => {
            Err(Undecryptable::MissingKey(error.to_string()))
        }
        Err(error) => Err(Undecryptable::Invalid(error.to_string())),
    }
}

/// Decrypts events of one room on one task per core; results in the order of `events`.
pub async fn decrypt_many_with(
    machine: &OlmMachine,
    room_id: &RoomId,
    events: Vec<Raw<EncryptedEvent>>,
) -> Vec<Result<Raw<AnyTimelineEvent>, Undecryptable>> {
    let tasks = std::thread::available_parallelism().map_or(1, usize::from);
    if events.len() < 2 || tasks < 2 {
        let mut results = Vec::with_capacity(events.len());
        for event in &events {
            results.push(decrypt_with(machine, room_id, event).await);
        }
        return results;
    }
    let chunk = events.len().div_ceil(tasks);
    let mut set = tokio::task::JoinSet::new();
    for (index, part) in events.chunks(chunk).enumerate() {
        let (machine, room_id, part) = (machine.clone(), room_id.to_owned(), part.to_vec());
        set.spawn(async move {
            let mut results = Vec::with_capacity(part.len());
            for event in &part {
                results.push(decrypt_with(&machine, &room_id, event).await);
            }
            (index, results)
        });
    }
    let mut parts = Vec::with_capacity(tasks);
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(part) => parts.push(part),
            Err(error) => tracing::error!(%error, "a decryption task failed"),
        }
    }
    parts.sort_by_key(|(index, _)| *index);
    parts.into_iter().flat_map(|(_, results)| results).collect()
}

/// What Parvis requires of a sender's device to read their message: nothing beyond a valid
/// Megolm session (Parvis is a participant, not a verifier of users' devices).
fn decryption_settings() -> DecryptionSettings {
    DecryptionSettings {
        sender_device_trust_requirement: TrustRequirement::Untrusted,
    }
}

/// A new device ID: `PARVIS` and 8 random capital letters.
fn new_device_id() -> OwnedDeviceId {
    use rand::Rng;
    let mut rng = rand::rng();
    let suffix: String = (0..8)
        .map(|_| char::from(rng.random_range(b'A'..=b'Z')))
        .collect();
    OwnedDeviceId::from(format!("PARVIS{suffix}"))
}

/// A shared handle.
pub type SharedBotCrypto = Arc<BotCrypto>;

/// A `/sync` answer with the device entries ruma would refuse (an invalid user ID in
/// `device_lists`…) dropped and logged: one of them must not stop the device's updates.
fn drop_unreadable_device_entries(body: bytes::Bytes) -> bytes::Bytes {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body;
    };
    let dropped = parvis_homeserver_bridge::lenient::clean_sync_device_fields(&mut value);
    if dropped.is_empty() {
        return body;
    }
    for reason in &dropped {
        tracing::warn!(%reason, "dropped an entry of a /sync answer");
    }
    serde_json::to_vec(&value).map_or(body, bytes::Bytes::from)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::user_id;

    use super::*;

    fn client() -> HomeserverClient {
        HomeserverClient::new(&"http://127.0.0.1:9".parse().unwrap(), "as-token").unwrap()
    }

    /// A wrong passphrase used to move the store aside and start a new device: the bot's keys
    /// were given up without a word. Now Parvis refuses to start, and the store is untouched.
    #[tokio::test]
    async fn a_wrong_passphrase_refuses_to_start_and_keeps_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("crypto");
        let bot = user_id!("@parvis:hs");
        let first = BotCrypto::open(client(), bot, &store, Some("right"))
            .await
            .unwrap();
        let device = first.device_id().to_owned();
        drop(first);
        let error = BotCrypto::open(client(), bot, &store, Some("wrong"))
            .await
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("e2ee.store_passphrase"),
            "{error}"
        );
        assert!(store.join(STORE_FILE).exists());
        let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(siblings.len(), 1, "nothing moved aside");
        let again = BotCrypto::open(client(), bot, &store, Some("right"))
            .await
            .unwrap();
        assert_eq!(again.device_id(), device, "the same device, keys kept");
    }

    /// A store whose file is gone is provably lost: a new device begins.
    #[tokio::test]
    async fn a_store_file_gone_starts_a_new_device() {
        let dir = tempfile::tempdir().unwrap();
        let bot = user_id!("@parvis:hs");
        let first = BotCrypto::open(client(), bot, dir.path(), None)
            .await
            .unwrap();
        let device = first.device_id().to_owned();
        drop(first);
        // The store's connections close on threads of their own after the drop: wait until
        // none holds a file of the directory (Linux's /proc), or a connection still open on
        // the removed files makes the new store's first write fail ("disk I/O error").
        let held = || {
            std::fs::read_dir("/proc/self/fd").is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|target| target.starts_with(dir.path()))
                })
            })
        };
        for _ in 0..200 {
            if !held() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("matrix-sdk-crypto")
            {
                // The store's -wal and -shm files may go on their own as the closing
                // connection finishes: gone is what this wants.
                match std::fs::remove_file(entry.path()) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        panic!("{}: {error}", entry.path().display())
                    }
                    _ => {}
                }
            }
        }
        let second = BotCrypto::open(client(), bot, dir.path(), None)
            .await
            .unwrap();
        assert_ne!(second.device_id(), device);
    }
}

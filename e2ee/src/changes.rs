//! What of an appservice transaction concerns one device's end-to-end encryption (sans-I/O):
//! the to-device messages addressed to it (MSC2409/MSC4203), the users whose device lists
//! changed, and its one-time and fallback key counts (MSC3202), in the shape
//! `OlmMachine::receive_sync_changes` takes.

use std::collections::BTreeMap;

use ruma::{
    DeviceId, OneTimeKeyAlgorithm, UInt, UserId,
    api::{appservice::event::push_events::v1::Request as Transaction, client::sync::sync_events},
    events::AnyToDeviceEvent,
    serde::Raw,
};
use serde::Deserialize;

/// The crypto parts of a transaction for one device, owned (borrowed by `EncryptionSyncChanges`).
#[derive(Debug, Default)]
pub struct DeviceChanges {
    /// To-device events for the device, in the order received.
    pub to_device: Vec<Raw<AnyToDeviceEvent>>,
    /// Users whose devices changed or who left every shared room.
    pub device_lists: sync_events::DeviceLists,
    /// The device's unclaimed one-time keys on the server, per algorithm.
    pub one_time_keys_count: BTreeMap<OneTimeKeyAlgorithm, UInt>,
    /// Algorithms with an unused fallback key, when the homeserver said.
    pub unused_fallback_keys: Option<Vec<OneTimeKeyAlgorithm>>,
}

impl DeviceChanges {
    /// Whether the transaction carried nothing for the device.
    pub fn is_empty(&self) -> bool {
        self.to_device.is_empty()
            && self.device_lists.is_empty()
            && self.one_time_keys_count.is_empty()
            && self.unused_fallback_keys.is_none()
    }
}

/// The recipient fields MSC4203 adds to each to-device event in a transaction.
#[derive(Deserialize)]
struct Recipient<'a> {
    #[serde(borrow)]
    to_user_id: &'a str,
    #[serde(borrow)]
    to_device_id: &'a str,
}

/// The parts of `transaction` for `device_id` of `user_id`. To-device events for other users or
/// devices (the appservice receives those of its whole namespace) are left out, and so are
/// events without recipient fields.
pub fn changes_for(
    transaction: &Transaction,
    user_id: &UserId,
    device_id: &DeviceId,
) -> DeviceChanges {
    let to_device = transaction
        .to_device
        .iter()
        .filter(|raw| {
            serde_json::from_str::<Recipient<'_>>(raw.json().get()).is_ok_and(|recipient| {
                recipient.to_user_id == user_id.as_str()
                    && recipient.to_device_id == device_id.as_str()
            })
        })
        .map(|raw| raw.clone().cast_unchecked())
        .collect();
    let mut device_lists = sync_events::DeviceLists::new();
    device_lists.changed = transaction.device_lists.changed.clone();
    device_lists.left = transaction.device_lists.left.clone();
    let one_time_keys_count = transaction
        .device_one_time_keys_count
        .get(user_id)
        .and_then(|devices| devices.get(device_id))
        .cloned()
        .unwrap_or_default();
    let unused_fallback_keys = transaction
        .device_unused_fallback_key_types
        .get(user_id)
        .and_then(|devices| devices.get(device_id))
        .cloned();
    DeviceChanges {
        to_device,
        device_lists,
        one_time_keys_count,
        unused_fallback_keys,
    }
}

/// The device's part of a `/sync` response (the fallback for homeservers that push none of it
/// to appservices): `/sync` is already for one device, so everything in it is kept.
pub fn changes_from_sync(response: sync_events::v3::Response) -> DeviceChanges {
    DeviceChanges {
        to_device: response.to_device.events,
        device_lists: response.device_lists,
        one_time_keys_count: response.device_one_time_keys_count,
        unused_fallback_keys: response.device_unused_fallback_key_types,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::{device_id, user_id};
    use serde_json::json;

    use super::*;

    fn transaction(body: serde_json::Value) -> Transaction {
        let body = serde_json::to_vec(&body).unwrap();
        parvis_homeserver_bridge::transaction::parse_transaction("1", &body).unwrap()
    }

    #[test]
    fn keeps_what_is_addressed_to_the_device() {
        let txn = transaction(json!({
            "events": [],
            "de.sorunome.msc2409.to_device": [
                {"type": "m.room.encrypted", "sender": "@alice:hs", "to_user_id": "@parvis:hs", "to_device_id": "PARVIS",
                 "content": {"algorithm": "m.olm.v1.curve25519-aes-sha2", "sender_key": "k", "ciphertext": {}}},
                {"type": "m.room.encrypted", "sender": "@alice:hs", "to_user_id": "@parvis:hs", "to_device_id": "OTHER",
                 "content": {"algorithm": "m.olm.v1.curve25519-aes-sha2", "sender_key": "k", "ciphertext": {}}},
                {"type": "m.room.encrypted", "sender": "@alice:hs", "to_user_id": "@parvis_bob:hs", "to_device_id": "PARVIS",
                 "content": {"algorithm": "m.olm.v1.curve25519-aes-sha2", "sender_key": "k", "ciphertext": {}}}
            ],
            "org.matrix.msc3202.device_lists": {"changed": ["@alice:hs"], "left": ["@carol:hs"]},
            "org.matrix.msc3202.device_one_time_key_counts": {
                "@parvis:hs": {"PARVIS": {"signed_curve25519": 42}, "OTHER": {"signed_curve25519": 1}}
            },
            "org.matrix.msc3202.device_unused_fallback_key_types": {"@parvis:hs": {"PARVIS": ["signed_curve25519"]}}
        }));
        let changes = changes_for(&txn, user_id!("@parvis:hs"), device_id!("PARVIS"));
        assert_eq!(changes.to_device.len(), 1);
        assert_eq!(
            changes.device_lists.changed,
            vec![user_id!("@alice:hs").to_owned()]
        );
        assert_eq!(
            changes.device_lists.left,
            vec![user_id!("@carol:hs").to_owned()]
        );
        assert_eq!(
            changes
                .one_time_keys_count
                .get(&OneTimeKeyAlgorithm::SignedCurve25519),
            Some(&UInt::from(42u32))
        );
        assert_eq!(
            changes.unused_fallback_keys,
            Some(vec![OneTimeKeyAlgorithm::SignedCurve25519])
        );
        assert!(!changes.is_empty());
    }

    #[test]
    fn a_sync_response_is_the_device_s_own() {
        let body = json!({
            "next_batch": "s72595_4483_1934",
            "to_device": {"events": [
                {"type": "m.room.encrypted", "sender": "@alice:hs",
                 "content": {"algorithm": "m.olm.v1.curve25519-aes-sha2", "sender_key": "k", "ciphertext": {}}}
            ]},
            "device_lists": {"changed": ["@alice:hs"], "left": []},
            "device_one_time_keys_count": {"signed_curve25519": 7},
            "device_unused_fallback_key_types": ["signed_curve25519"]
        });
        let response = http::Response::builder()
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap();
        let response =
            <sync_events::v3::Response as ruma::api::IncomingResponse>::try_from_http_response(
                response,
            )
            .unwrap();
        let changes = changes_from_sync(response);
        assert_eq!(changes.to_device.len(), 1);
        assert_eq!(
            changes.device_lists.changed,
            vec![user_id!("@alice:hs").to_owned()]
        );
        assert_eq!(
            changes
                .one_time_keys_count
                .get(&OneTimeKeyAlgorithm::SignedCurve25519),
            Some(&UInt::from(7u32))
        );
        assert_eq!(
            changes.unused_fallback_keys,
            Some(vec![OneTimeKeyAlgorithm::SignedCurve25519])
        );

        // An empty answer (the long poll timed out) changes nothing.
        let empty = http::Response::builder()
            .body(br#"{"next_batch": "s2"}"#.to_vec())
            .unwrap();
        let empty =
            <sync_events::v3::Response as ruma::api::IncomingResponse>::try_from_http_response(
                empty,
            )
            .unwrap();
        assert!(changes_from_sync(empty).is_empty());
    }

    #[test]
    fn a_plain_transaction_carries_nothing() {
        let txn = transaction(json!({"events": []}));
        let changes = changes_for(&txn, user_id!("@parvis:hs"), device_id!("PARVIS"));
        assert!(changes.is_empty());
    }
}

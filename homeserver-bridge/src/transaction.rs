//! Appservice transactions, parsed without I/O.
//!
//! A homeserver pushes events to the appservice with `PUT /_matrix/app/v1/transactions/{txnId}`
//! ([spec](https://spec.matrix.org/v1.18/application-service-api/#put_matrixappv1transactionstxnid)).
//! Homeservers disagree on some field names while MSCs are unstable, so the body is first
//! normalised to the names ruma reads, then parsed into ruma's request type.

use http::Method;
use ruma::api::{IncomingRequest, appservice::event::push_events};
use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// A parsed appservice transaction (ruma's `push_events` request).
pub type Transaction = push_events::v1::Request;

/// Why a transaction body was refused; each maps to a Matrix error code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TransactionRejection {
    /// The body is not JSON at all (`M_NOT_JSON`).
    #[error("the transaction body is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not a transaction (`M_BAD_JSON`).
    #[error("the transaction body is not a valid transaction: {0}")]
    BadJson(String),
}

/// Field names that some homeservers send, mapped to the name ruma reads.
///
/// Synapse sends `org.matrix.msc3202.device_one_time_key_counts` and `de.sorunome.msc2409.ephemeral`;
/// the stable names (`ephemeral`, and the ones MSC3202/MSC4203 will get) are accepted too.
const FIELD_ALIASES: &[(&str, &str)] = &[
    ("de.sorunome.msc2409.ephemeral", "ephemeral"),
    ("to_device", "de.sorunome.msc2409.to_device"),
    (
        "org.matrix.msc4203.to_device",
        "de.sorunome.msc2409.to_device",
    ),
    ("device_lists", "org.matrix.msc3202.device_lists"),
    (
        "org.matrix.msc3202.device_one_time_key_counts",
        "org.matrix.msc3202.device_one_time_keys_count",
    ),
    (
        "device_one_time_keys_count",
        "org.matrix.msc3202.device_one_time_keys_count",
    ),
    (
        "device_unused_fallback_key_types",
        "org.matrix.msc3202.device_unused_fallback_key_types",
    ),
];

/// The top level of a transaction body: each field's JSON kept as received, unparsed.
pub type TransactionFields = BTreeMap<String, Box<RawValue>>;

/// Renames aliased fields in place to the names ruma reads. Returns whether anything changed.
///
/// When both names are present the one ruma reads wins and the alias is dropped.
pub fn normalize_field_names(body: &mut TransactionFields) -> bool {
    let mut changed = false;
    for (alias, canonical) in FIELD_ALIASES {
        if let Some(value) = body.remove(*alias) {
            changed = true;
            body.entry((*canonical).to_owned()).or_insert(value);
        }
    }
    changed
}

/// Parses a transaction body received for `txn_id`.
///
/// Only the top level is read here (the fields' JSON is kept as received), so a renamed field
/// costs a copy of the bytes, not a parse and re-serialisation of every event.
pub fn parse_transaction(txn_id: &str, body: &[u8]) -> Result<Transaction, TransactionRejection> {
    let mut object: TransactionFields = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            TransactionRejection::BadJson(format!("expected a JSON object: {e}"))
        } else {
            TransactionRejection::NotJson(e.to_string())
        }
    })?;
    if !object
        .get("events")
        .is_some_and(|events| events.get().starts_with('['))
    {
        return Err(TransactionRejection::BadJson(
            "`events` must be an array".to_owned(),
        ));
    }
    // Re-serialise only when a field had to be renamed: the common case parses the bytes as received.
    let normalized;
    let body = if normalize_field_names(&mut object) {
        normalized = serde_json::to_vec(&object)
            .map_err(|e| TransactionRejection::BadJson(e.to_string()))?;
        normalized.as_slice()
    } else {
        body
    };
    let request = http::Request::builder()
        .method(Method::PUT)
        .uri(format!("/_matrix/app/v1/transactions/{txn_id}"))
        .body(body)
        .map_err(|e| TransactionRejection::BadJson(e.to_string()))?;
    Transaction::try_from_http_request(request, &[txn_id])
        .map_err(|e| TransactionRejection::BadJson(e.to_string()))
}

/// Compares a presented token with the expected one in time independent of where they differ.
pub fn token_matches(expected: &str, presented: &str) -> bool {
    let (expected, presented) = (expected.as_bytes(), presented.as_bytes());
    if expected.len() != presented.len() {
        return false;
    }
    let difference = expected
        .iter()
        .zip(presented)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_synapse_transaction_with_prefixed_fields() {
        let body = json!({
            "events": [{
                "type": "m.room.message", "event_id": "$a", "room_id": "!r:hs", "sender": "@u:hs",
                "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "hi"}
            }],
            "de.sorunome.msc2409.ephemeral": [{"type": "m.typing", "room_id": "!r:hs", "content": {"user_ids": []}}],
            "org.matrix.msc3202.device_one_time_key_counts": {"@parvis:hs": {"DEV": {"signed_curve25519": 50}}},
            "org.matrix.msc3202.device_lists": {"changed": ["@u:hs"]},
            "de.sorunome.msc2409.to_device": [{
                "type": "m.room_key_request", "sender": "@u:hs", "to_user_id": "@parvis:hs", "to_device_id": "DEV",
                "content": {"action": "request_cancellation", "request_id": "x", "requesting_device_id": "D"}
            }]
        });
        let txn = parse_transaction("42", &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(txn.txn_id, "42");
        assert_eq!(txn.events.len(), 1);
        assert_eq!(txn.ephemeral.len(), 1);
        assert_eq!(txn.to_device.len(), 1);
        assert_eq!(txn.device_lists.changed.len(), 1);
        assert_eq!(txn.device_one_time_keys_count.len(), 1);
    }

    #[test]
    fn stable_names_are_accepted_too() {
        let body = json!({"events": [], "ephemeral": [{"type": "m.typing", "room_id": "!r:hs", "content": {"user_ids": []}}]});
        let txn = parse_transaction("1", &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(txn.ephemeral.len(), 1);
    }

    #[test]
    fn not_json_and_bad_json_are_told_apart() {
        assert!(matches!(
            parse_transaction("1", b"{not json"),
            Err(TransactionRejection::NotJson(_))
        ));
        assert!(matches!(
            parse_transaction("1", b"[1,2]"),
            Err(TransactionRejection::BadJson(_))
        ));
        assert!(matches!(
            parse_transaction("1", br#"{"events": 3}"#),
            Err(TransactionRejection::BadJson(_))
        ));
        assert!(matches!(
            parse_transaction("1", br#"{"ephemeral": []}"#),
            Err(TransactionRejection::BadJson(_))
        ));
    }

    #[test]
    fn token_comparison() {
        assert!(token_matches("secret-token", "secret-token"));
        assert!(!token_matches("secret-token", "secret-tokem"));
        assert!(!token_matches("secret-token", "secret"));
        assert!(!token_matches("secret-token", ""));
    }
}

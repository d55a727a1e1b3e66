//! Appservice transactions, parsed without I/O.
//!
//! A homeserver pushes events to the appservice with `PUT /_matrix/app/v1/transactions/{txnId}`
//! ([spec](https://spec.matrix.org/v1.18/application-service-api/#put_matrixappv1transactionstxnid)).
//! Homeservers disagree on some field names while MSCs are unstable, so the body is first
//! normalised to the names ruma reads, then parsed into ruma's request type.

use http::Method;
use ruma::api::{IncomingRequest, appservice::event::push_events};

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

pub use crate::lenient::TransactionFields;

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

/// A transaction as parsed, with what had to be dropped from it to parse it.
#[derive(Clone, Debug)]
pub struct ParsedTransaction {
    /// The transaction.
    pub transaction: Transaction,
    /// Why entries of the device fields were dropped, one human-readable reason each (see
    /// [`crate::lenient`]); empty when the body parsed as received. The caller logs them.
    pub dropped: Vec<String>,
}

/// Parses a transaction body received for `txn_id`, dropping invalid device-field entries.
///
/// Same as [`parse_transaction_lenient`], without the report of what was dropped.
pub fn parse_transaction(txn_id: &str, body: &[u8]) -> Result<Transaction, TransactionRejection> {
    parse_transaction_lenient(txn_id, body).map(|parsed| parsed.transaction)
}

/// Parses a transaction body received for `txn_id`.
///
/// Only the top level is read here (the fields' JSON is kept as received), so a renamed field
/// costs a copy of the bytes, not a parse and re-serialisation of every event.
///
/// When ruma refuses the body, the MSC3202 device fields are cleaned entry by entry
/// ([`crate::lenient::clean_transaction_device_fields`]) and the body parsed again: refusing
/// the transaction would make the homeserver resend it forever and deliver nothing after it,
/// for the sake of one bad user ID in data that is only a hint to re-query keys.
pub fn parse_transaction_lenient(
    txn_id: &str,
    body: &[u8],
) -> Result<ParsedTransaction, TransactionRejection> {
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
    let first_try = if normalize_field_names(&mut object) {
        normalized = serialize(&object)?;
        ruma_parse(txn_id, &normalized)
    } else {
        ruma_parse(txn_id, body)
    };
    let error = match first_try {
        Ok(transaction) => {
            return Ok(ParsedTransaction {
                transaction,
                dropped: Vec::new(),
            });
        }
        Err(error) => error,
    };
    let dropped = crate::lenient::clean_transaction_device_fields(&mut object);
    if dropped.is_empty() {
        // The device fields were not the cause: ruma's error is the one to report.
        return Err(error);
    }
    let transaction = ruma_parse(txn_id, &serialize(&object)?)?;
    Ok(ParsedTransaction {
        transaction,
        dropped,
    })
}

fn serialize(object: &TransactionFields) -> Result<Vec<u8>, TransactionRejection> {
    serde_json::to_vec(object).map_err(|e| TransactionRejection::BadJson(e.to_string()))
}

/// ruma's parse of a transaction body, as the HTTP request it came in.
fn ruma_parse(txn_id: &str, body: &[u8]) -> Result<Transaction, TransactionRejection> {
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
    fn one_invalid_user_id_in_device_lists_does_not_block_delivery() {
        // Attack: a remote user ID ruma refuses, pushed by the homeserver in the device lists,
        // used to make ruma refuse the whole transaction, so the homeserver resent it forever.
        let body = json!({
            "events": [{
                "type": "m.room.message", "event_id": "$a", "room_id": "!r:hs", "sender": "@u:hs",
                "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "hi"}
            }],
            "org.matrix.msc3202.device_lists": {"changed": ["@u:hs", "not-a-user-id"], "left": ["@"]}
        });
        let parsed = parse_transaction_lenient("9", &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(parsed.transaction.events.len(), 1);
        assert_eq!(parsed.transaction.device_lists.changed, ["@u:hs"]);
        assert!(parsed.transaction.device_lists.left.is_empty());
        assert_eq!(parsed.dropped.len(), 2, "{:?}", parsed.dropped);
        assert!(parsed.dropped[0].contains("not-a-user-id"));
        // The plain parse is lenient too.
        assert!(parse_transaction("9", &serde_json::to_vec(&body).unwrap()).is_ok());
    }

    #[test]
    fn invalid_keys_in_key_count_maps_do_not_block_delivery() {
        // Attack: a bad user-ID key in the one-time-key counts or fallback key types (Synapse's
        // prefixed name here) failed the whole transaction the same way.
        let body = json!({
            "events": [],
            "org.matrix.msc3202.device_one_time_key_counts": {
                "@parvis:hs": {"DEV": {"signed_curve25519": 50}},
                "garbage": {"DEV": {"signed_curve25519": 1}}
            },
            "org.matrix.msc3202.device_unused_fallback_key_types": {
                "@parvis:hs": {"DEV": ["signed_curve25519"]},
                "@parvis": {"DEV": ["signed_curve25519"]}
            }
        });
        let parsed = parse_transaction_lenient("10", &serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(parsed.dropped.len(), 2, "{:?}", parsed.dropped);
        let txn = parsed.transaction;
        assert_eq!(txn.device_one_time_keys_count.len(), 1);
        assert_eq!(txn.device_unused_fallback_key_types.len(), 1);
    }

    #[test]
    fn a_device_field_of_the_wrong_shape_is_dropped_not_fatal() {
        let body = json!({"events": [], "org.matrix.msc3202.device_lists": ["@u:hs"]});
        let parsed = parse_transaction_lenient("11", &serde_json::to_vec(&body).unwrap()).unwrap();
        assert!(parsed.transaction.device_lists.is_empty());
        assert_eq!(parsed.dropped.len(), 1);
    }

    #[test]
    fn a_valid_transaction_drops_nothing_and_other_errors_still_refuse() {
        let body = json!({"events": [], "org.matrix.msc3202.device_lists": {"changed": ["@u:hs"]}});
        let parsed = parse_transaction_lenient("12", &serde_json::to_vec(&body).unwrap()).unwrap();
        assert!(parsed.dropped.is_empty());
        // Not a device field: cleaning cannot help, and the transaction is refused as before.
        let body = json!({"events": [], "ephemeral": {"not": "a list"}});
        assert!(matches!(
            parse_transaction_lenient("12", &serde_json::to_vec(&body).unwrap()),
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

//! Lenient reading of the device fields a homeserver pushes, without I/O.
//!
//! ruma parses a transaction (or a `/sync` response) as a whole: one user ID that does not
//! validate in `org.matrix.msc3202.device_lists`, or one bad key in the one-time-key counts,
//! fails the whole body. For a transaction that is fatal: the appservice answers 400, the
//! homeserver resends the same transaction forever, and nothing after it is ever delivered.
//!
//! The functions here clean those fields entry by entry, in the JSON, before ruma parses it
//! again: a user ID that [`UserId::parse`] refuses is dropped, an entry whose value is not of
//! ruma's type is dropped, and a field that still does not parse is dropped whole. Each drop is
//! reported as a human-readable reason so the caller can log it; nothing else is touched.

use std::collections::BTreeMap;

use ruma::{
    OneTimeKeyAlgorithm, OwnedDeviceId, UInt, UserId,
    api::{appservice::event::push_events, client::sync::sync_events},
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, value::RawValue};

/// The top level of a transaction body: each field's JSON kept as received, unparsed.
pub type TransactionFields = std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>;

/// Most drop reasons reported one by one; past this, the rest are counted in a last line, so a
/// body full of garbage does not become a log full of garbage.
pub const MAX_REPORTED_DROPS: usize = 32;

/// Longest piece of a dropped value quoted in a reason: enough to recognise it, not enough to
/// flood a log line.
const QUOTE_CHARS: usize = 80;

/// The transaction field holding device list changes (MSC3202), as ruma reads it.
pub const TRANSACTION_DEVICE_LISTS: &str = "org.matrix.msc3202.device_lists";
/// The transaction field holding one-time key counts per user and device (MSC3202).
pub const TRANSACTION_ONE_TIME_KEYS_COUNT: &str = "org.matrix.msc3202.device_one_time_keys_count";
/// The transaction field holding unused fallback key types per user and device (MSC3202).
pub const TRANSACTION_UNUSED_FALLBACK_KEY_TYPES: &str =
    "org.matrix.msc3202.device_unused_fallback_key_types";

/// The reasons collected while cleaning, capped at [`MAX_REPORTED_DROPS`].
#[derive(Default)]
struct DropReport {
    reasons: Vec<String>,
    unreported: usize,
}

impl DropReport {
    fn drop(&mut self, reason: impl FnOnce() -> String) {
        if self.reasons.len() < MAX_REPORTED_DROPS {
            self.reasons.push(reason());
        } else {
            self.unreported += 1;
        }
    }

    fn into_reasons(mut self) -> Vec<String> {
        if self.unreported > 0 {
            self.reasons
                .push(format!("… and {} more entries dropped", self.unreported));
        }
        self.reasons
    }
}

/// A dropped value, quoted (escaped, so it cannot forge log lines) and truncated.
fn quote(value: &str) -> String {
    let mut quoted: String = value.chars().take(QUOTE_CHARS).collect();
    if quoted.len() < value.len() {
        quoted.push('…');
    }
    format!("{quoted:?}")
}

/// Quotes any JSON value, for reasons about values that are not strings.
fn quote_json(value: &Value) -> String {
    quote(&value.to_string())
}

/// Whether `value` deserializes as `T`, without copying it.
fn parses_as<T: DeserializeOwned>(value: &Value) -> bool {
    T::deserialize(value).is_ok()
}

/// Keeps the strings of a user ID list that are user IDs. Returns whether the list itself can
/// be kept (it is an array).
fn clean_user_id_list(path: &str, list: &mut Value, report: &mut DropReport) -> bool {
    let Value::Array(items) = list else {
        report.drop(|| format!("{path}: not a list of user IDs, dropped whole"));
        return false;
    };
    items.retain(|item| match item.as_str().map(UserId::parse) {
        Some(Ok(_)) => true,
        Some(Err(error)) => {
            report.drop(|| format!("{path}: dropped {} ({error})", quote_json(item)));
            false
        }
        None => {
            report.drop(|| format!("{path}: dropped {} (not a string)", quote_json(item)));
            false
        }
    });
    true
}

/// Cleans a `device_lists` object (`changed` and `left` lists of user IDs), then checks it is
/// ruma's `T`. Returns whether the field can be kept.
fn clean_device_lists<T: DeserializeOwned>(
    field: &str,
    value: &mut Value,
    report: &mut DropReport,
) -> bool {
    let Value::Object(lists) = value else {
        report.drop(|| format!("{field}: not an object, dropped whole"));
        return false;
    };
    for list in ["changed", "left"] {
        if let Some(users) = lists.get_mut(list)
            && !clean_user_id_list(&format!("{field}.{list}"), users, report)
        {
            lists.remove(list);
        }
    }
    keep_if_parses::<T>(field, value, report)
}

/// Cleans a map keyed by user ID, then device ID, whose leaves must be `Leaf`, then checks the
/// whole is ruma's type. Returns whether the field can be kept.
fn clean_per_user_per_device<Leaf: DeserializeOwned>(
    field: &str,
    value: &mut Value,
    report: &mut DropReport,
) -> bool {
    let Value::Object(users) = value else {
        report.drop(|| format!("{field}: not an object, dropped whole"));
        return false;
    };
    users.retain(|user, devices| {
        if let Err(error) = UserId::parse(user.as_str()) {
            report.drop(|| format!("{field}: dropped user {} ({error})", quote(user)));
            return false;
        }
        let Value::Object(devices) = devices else {
            report.drop(|| {
                format!(
                    "{field}: dropped user {} (its devices are not an object)",
                    quote(user)
                )
            });
            return false;
        };
        devices.retain(|device, leaf| {
            if !parses_as::<OwnedDeviceId>(&Value::String(device.clone())) {
                report.drop(|| {
                    format!(
                        "{field}: dropped device {} of {user} (not a device ID)",
                        quote(device)
                    )
                });
                return false;
            }
            if !parses_as::<Leaf>(leaf) {
                report.drop(|| {
                    format!(
                        "{field}: dropped device {} of {user} (unexpected value {})",
                        quote(device),
                        quote_json(leaf)
                    )
                });
                return false;
            }
            true
        });
        true
    });
    true
}

/// Final guard: a field that is still not ruma's `T` after cleaning is dropped whole, so one
/// shape ruma does not expect cannot block the rest of the body.
fn keep_if_parses<T: DeserializeOwned>(
    field: &str,
    value: &Value,
    report: &mut DropReport,
) -> bool {
    if parses_as::<T>(value) {
        true
    } else {
        report.drop(|| format!("{field}: still not valid after cleaning, dropped whole"));
        false
    }
}

/// Counts of one-time keys per user and device, as a transaction carries them.
type PerDeviceKeyCounts = BTreeMap<OneTimeKeyAlgorithm, UInt>;
/// Unused fallback key types per user and device, as a transaction carries them.
type PerDeviceFallbackKeys = Vec<OneTimeKeyAlgorithm>;

/// Cleans one field of `object` with `clean`, removing it when `clean` says it cannot be kept.
fn clean_field(
    object: &mut Map<String, Value>,
    field: &str,
    report: &mut DropReport,
    clean: impl FnOnce(&str, &mut Value, &mut DropReport) -> bool,
) {
    if let Some(value) = object.get_mut(field)
        && !clean(field, value, report)
    {
        object.remove(field);
    }
}

/// Cleans the three MSC3202 device fields of a transaction's top level (already normalised to
/// the names ruma reads, see [`crate::transaction::normalize_field_names`]).
///
/// Only those three fields are parsed and re-serialised; the events and everything else keep
/// the JSON they were received with. Returns the reasons for what was dropped (empty when
/// nothing was).
pub fn clean_transaction_device_fields(fields: &mut TransactionFields) -> Vec<String> {
    let mut report = DropReport::default();
    for field in [
        TRANSACTION_DEVICE_LISTS,
        TRANSACTION_ONE_TIME_KEYS_COUNT,
        TRANSACTION_UNUSED_FALLBACK_KEY_TYPES,
    ] {
        let Some(raw) = fields.get(field) else {
            continue;
        };
        // The top level was valid JSON, so each field is too; only its shape can be wrong.
        let Ok(value) = serde_json::from_str::<Value>(raw.get()) else {
            continue;
        };
        let mut object = Map::new();
        object.insert(field.to_owned(), value);
        let before = report.reasons.len() + report.unreported;
        match field {
            TRANSACTION_DEVICE_LISTS => clean_field(&mut object, field, &mut report, |f, v, r| {
                clean_device_lists::<push_events::v1::DeviceLists>(f, v, r)
            }),
            TRANSACTION_ONE_TIME_KEYS_COUNT => {
                clean_field(&mut object, field, &mut report, |f, v, r| {
                    clean_per_user_per_device::<PerDeviceKeyCounts>(f, v, r)
                })
            }
            _ => clean_field(&mut object, field, &mut report, |f, v, r| {
                clean_per_user_per_device::<PerDeviceFallbackKeys>(f, v, r)
            }),
        }
        if report.reasons.len() + report.unreported == before {
            // Nothing dropped: keep the bytes as received.
            continue;
        }
        match object
            .remove(field)
            .map(|value| RawValue::from_string(value.to_string()))
        {
            Some(Ok(raw)) => {
                fields.insert(field.to_owned(), raw);
            }
            _ => {
                fields.remove(field);
            }
        }
    }
    report.into_reasons()
}

/// Cleans the device fields of a `/sync` response
/// ([spec](https://spec.matrix.org/v1.18/client-server-api/#get_matrixclientv3sync)) in place,
/// so that ruma's parse of the response does not fail on them.
///
/// `response` is the whole response object. Its top-level `device_lists` (`changed` and `left`
/// lists of user IDs) loses the entries that are not user IDs; `device_one_time_keys_count`
/// (algorithm → count) loses the entries whose count is not a non-negative integer;
/// `device_unused_fallback_key_types` (a list of algorithms) loses the entries that are not
/// strings; a field that still does not parse as ruma's type is removed. Returns the reasons for
/// what was dropped (empty when nothing was, and when `response` is not an object).
pub fn clean_sync_device_fields(response: &mut Value) -> Vec<String> {
    let mut report = DropReport::default();
    let Value::Object(object) = response else {
        return Vec::new();
    };
    clean_field(object, "device_lists", &mut report, |f, v, r| {
        clean_device_lists::<sync_events::DeviceLists>(f, v, r)
    });
    clean_field(
        object,
        "device_one_time_keys_count",
        &mut report,
        |f, v, r| {
            let Value::Object(counts) = v else {
                r.drop(|| format!("{f}: not an object, dropped whole"));
                return false;
            };
            counts.retain(|algorithm, count| {
                let keep = parses_as::<UInt>(count);
                if !keep {
                    r.drop(|| {
                        format!(
                            "{f}: dropped {} (count {} is not a non-negative integer)",
                            quote(algorithm),
                            quote_json(count)
                        )
                    });
                }
                keep
            });
            keep_if_parses::<PerDeviceKeyCounts>(f, v, r)
        },
    );
    clean_field(
        object,
        "device_unused_fallback_key_types",
        &mut report,
        |f, v, r| {
            // `null` is what ruma reads as "the server does not support fallback keys".
            if v.is_null() {
                return true;
            }
            let Value::Array(algorithms) = v else {
                r.drop(|| format!("{f}: not a list, dropped whole"));
                return false;
            };
            algorithms.retain(|algorithm| {
                let keep = algorithm.is_string();
                if !keep {
                    r.drop(|| format!("{f}: dropped {} (not a string)", quote_json(algorithm)));
                }
                keep
            });
            keep_if_parses::<PerDeviceFallbackKeys>(f, v, r)
        },
    );
    report.into_reasons()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> TransactionFields {
        serde_json::from_value(value).unwrap()
    }

    fn field(fields: &TransactionFields, name: &str) -> Option<Value> {
        fields
            .get(name)
            .map(|raw| serde_json::from_str(raw.get()).unwrap())
    }

    #[test]
    fn invalid_user_ids_in_device_lists_are_dropped_one_by_one() {
        let mut body = fields(json!({
            "events": [],
            TRANSACTION_DEVICE_LISTS: {"changed": ["@ok:hs", "not a user", 7], "left": ["@gone:hs", "@"]}
        }));
        let dropped = clean_transaction_device_fields(&mut body);
        assert_eq!(dropped.len(), 3, "{dropped:?}");
        assert_eq!(
            field(&body, TRANSACTION_DEVICE_LISTS),
            Some(json!({"changed": ["@ok:hs"], "left": ["@gone:hs"]}))
        );
        assert_eq!(field(&body, "events"), Some(json!([])));
    }

    #[test]
    fn bad_keys_and_values_in_key_maps_are_dropped() {
        let mut body = fields(json!({
            TRANSACTION_ONE_TIME_KEYS_COUNT: {
                "@ok:hs": {"DEV": {"signed_curve25519": 5}, "NEG": {"signed_curve25519": -1}},
                "bogus": {"DEV": {"signed_curve25519": 5}},
                "@list:hs": []
            },
            TRANSACTION_UNUSED_FALLBACK_KEY_TYPES: {
                "@ok:hs": {"DEV": ["signed_curve25519"], "BAD": "signed_curve25519"},
                "": {"DEV": []}
            }
        }));
        let dropped = clean_transaction_device_fields(&mut body);
        assert_eq!(dropped.len(), 5, "{dropped:?}");
        assert_eq!(
            field(&body, TRANSACTION_ONE_TIME_KEYS_COUNT),
            Some(json!({"@ok:hs": {"DEV": {"signed_curve25519": 5}}}))
        );
        assert_eq!(
            field(&body, TRANSACTION_UNUSED_FALLBACK_KEY_TYPES),
            Some(json!({"@ok:hs": {"DEV": ["signed_curve25519"]}}))
        );
    }

    #[test]
    fn a_field_of_the_wrong_shape_is_dropped_whole() {
        let mut body = fields(json!({
            TRANSACTION_DEVICE_LISTS: "changed",
            TRANSACTION_ONE_TIME_KEYS_COUNT: [1, 2],
            TRANSACTION_UNUSED_FALLBACK_KEY_TYPES: {"@ok:hs": {"DEV": ["a"]}}
        }));
        let dropped = clean_transaction_device_fields(&mut body);
        assert_eq!(dropped.len(), 2, "{dropped:?}");
        assert!(!body.contains_key(TRANSACTION_DEVICE_LISTS));
        assert!(!body.contains_key(TRANSACTION_ONE_TIME_KEYS_COUNT));
        // Untouched fields keep the bytes they came with.
        assert!(body.contains_key(TRANSACTION_UNUSED_FALLBACK_KEY_TYPES));
    }

    #[test]
    fn a_flood_of_bad_entries_is_reported_in_bounded_lines() {
        let garbage: Vec<String> = (0..1000).map(|i| format!("bad{i}")).collect();
        let mut body = fields(json!({TRANSACTION_DEVICE_LISTS: {"changed": garbage}}));
        let dropped = clean_transaction_device_fields(&mut body);
        assert_eq!(dropped.len(), MAX_REPORTED_DROPS + 1);
        assert!(dropped.last().unwrap().contains("968 more"), "{dropped:?}");
    }

    #[test]
    fn reasons_quote_dropped_values_escaped_and_truncated() {
        let forged = format!("evil\n[INFO] forged log line {}", "x".repeat(500));
        let mut body = fields(json!({TRANSACTION_DEVICE_LISTS: {"changed": [forged]}}));
        let dropped = clean_transaction_device_fields(&mut body);
        assert_eq!(dropped.len(), 1);
        assert!(!dropped[0].contains('\n'), "{}", dropped[0]);
        assert!(dropped[0].len() < 300, "{}", dropped[0]);
    }

    #[test]
    fn sync_device_fields_are_cleaned_and_then_parse() {
        let mut response = json!({
            "next_batch": "s1",
            "device_lists": {"changed": ["@ok:hs", "nope"], "left": ["@:"]},
            "device_one_time_keys_count": {"signed_curve25519": 10, "curve25519": "ten"},
            "device_unused_fallback_key_types": ["signed_curve25519", {"x": 1}]
        });
        let dropped = clean_sync_device_fields(&mut response);
        assert_eq!(dropped.len(), 4, "{dropped:?}");
        assert_eq!(
            response,
            json!({
                "next_batch": "s1",
                "device_lists": {"changed": ["@ok:hs"], "left": []},
                "device_one_time_keys_count": {"signed_curve25519": 10},
                "device_unused_fallback_key_types": ["signed_curve25519"]
            })
        );
        let http_response = http::Response::builder()
            .body(serde_json::to_vec(&response).unwrap())
            .unwrap();
        let parsed =
            <sync_events::v3::Response as ruma::api::IncomingResponse>::try_from_http_response(
                http_response,
            )
            .unwrap();
        assert_eq!(parsed.device_lists.changed, ["@ok:hs"]);
    }

    #[test]
    fn a_valid_sync_response_is_left_alone() {
        let original = json!({
            "next_batch": "s1",
            "device_lists": {"changed": ["@ok:hs"]},
            "device_one_time_keys_count": {"signed_curve25519": 10},
            "device_unused_fallback_key_types": null
        });
        let mut response = original.clone();
        assert!(clean_sync_device_fields(&mut response).is_empty());
        assert_eq!(response, original);
        assert!(clean_sync_device_fields(&mut json!([1])).is_empty());
    }
}

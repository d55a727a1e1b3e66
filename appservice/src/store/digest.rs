//! A stable digest of the index, so that two indexes (say, before and after a rebuild) can be
//! compared with one line each.

use ruma::CanonicalJsonValue;
use sha2::{Digest, Sha256};

/// Accumulates rows of named tables into a SHA-256 digest. Fields are length-prefixed, so
/// `("ab", "c")` and `("a", "bc")` differ.
#[derive(Default)]
pub struct IndexDigest {
    hasher: Sha256,
}

impl IndexDigest {
    /// Starts a table.
    pub fn table(&mut self, name: &str) {
        self.field(&format!("#table {name}"));
    }

    /// Adds one field of the current row.
    pub fn field(&mut self, value: &str) {
        self.hasher.update((value.len() as u64).to_le_bytes());
        self.hasher.update(value.as_bytes());
    }

    /// Adds a JSON field in canonical form (sorted keys, no spaces), so that the same content
    /// received through different APIs digests the same.
    pub fn json_field(&mut self, json: &str) {
        let canonical = serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|value| CanonicalJsonValue::try_from(value).ok())
            .map(|value| value.to_string());
        self.field(canonical.as_deref().unwrap_or(json));
    }

    /// Ends a row.
    pub fn end_row(&mut self) {
        self.hasher.update([0xff]);
    }

    /// The digest, as lowercase hex.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_delimited_and_json_is_canonical() {
        let digest = |fields: &[&str]| {
            let mut digest = IndexDigest::default();
            fields.iter().for_each(|field| digest.field(field));
            digest.finish()
        };
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
        let json = |text: &str| {
            let mut digest = IndexDigest::default();
            digest.json_field(text);
            digest.finish()
        };
        assert_eq!(
            json(r#"{"b": 1, "a": [true]}"#),
            json(r#"{"a":[true],"b":1}"#)
        );
        assert_ne!(json(r#"{"a": 1}"#), json(r#"{"a": 2}"#));
    }
}

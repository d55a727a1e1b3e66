//! Encrypted state (MSC4362): in a room whose `m.room.encryption` sets
//! `io.element.msc4362.encrypt_state_events`, a state event is sent as `m.room.encrypted` with the
//! state key `{type}:{state_key}`. The bot's device decrypts it back into the state event it
//! holds (matrix-sdk-crypto checks that the packed and the inner type and key agree), so the
//! index projects the plaintext like any other state; what cannot be decrypted yet is reported,
//! so the room is reconciled again once the room key has arrived.

use std::collections::{BTreeMap, BTreeSet};

use parvis_e2ee::{BotCrypto, EncryptedEvent, Undecryptable};
use ruma::{OwnedRoomId, serde::Raw};
use serde::Deserialize;

use crate::projection::{JsonObject, RoomEvent};

/// The key of an `m.room.encryption` content that turns encrypted state on.
pub const ENCRYPT_STATE_EVENTS: &str = "io.element.msc4362.encrypt_state_events";

/// Whether an `m.room.encryption` content asks for encrypted state.
pub fn encrypts_state(encryption: &JsonObject) -> bool {
    encryption
        .get(ENCRYPT_STATE_EVENTS)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// Whether an event is an encrypted state event.
pub fn is_encrypted_state(event: &RoomEvent) -> bool {
    event.event_type == "m.room.encrypted" && event.state_key.is_some()
}

#[derive(Deserialize)]
struct Inner {
    #[serde(rename = "type")]
    event_type: String,
    state_key: String,
    #[serde(default)]
    content: JsonObject,
}

/// Replaces each encrypted state event of `events` that the bot's device can decrypt with the
/// state event it holds (same event ID, sender, time and `unsigned`). Returns the rooms holding
/// encrypted state it could not decrypt yet (its room key has not arrived).
pub async fn decrypt_state(crypto: &BotCrypto, events: &mut [RoomEvent]) -> BTreeSet<OwnedRoomId> {
    let mut waiting = BTreeSet::new();
    // Per room, every encrypted state event at once (decrypted on all cores).
    let mut by_room: BTreeMap<OwnedRoomId, Vec<(usize, Raw<EncryptedEvent>)>> = BTreeMap::new();
    for (index, event) in events.iter().enumerate() {
        if !is_encrypted_state(event) {
            continue;
        }
        if let Ok(raw) =
            serde_json::to_value(event).and_then(|v| serde_json::value::to_raw_value(&v))
        {
            by_room
                .entry(event.room_id.clone())
                .or_default()
                .push((index, Raw::from_json(raw)));
        }
    }
    for (room_id, encrypted) in by_room {
        let (indices, raws): (Vec<usize>, Vec<_>) = encrypted.into_iter().unzip();
        let results = crypto.decrypt_many(&room_id, raws).await;
        for (index, result) in indices.into_iter().zip(results) {
            let event = &mut events[index];
            match result {
                Ok(plain) => match plain.deserialize_as_unchecked::<Inner>() {
                    Ok(inner) => {
                        event.event_type = inner.event_type;
                        event.state_key = Some(inner.state_key);
                        event.content = inner.content;
                    }
                    Err(error) => {
                        tracing::warn!(%error, event_id = %event.event_id, "decrypted state is not a state event");
                    }
                },
                Err(why @ (Undecryptable::MissingKey(_) | Undecryptable::Withheld(_))) => {
                    tracing::debug!(event_id = %event.event_id, %why, "encrypted state not readable yet");
                    waiting.insert(room_id.clone());
                }
                Err(error @ Undecryptable::Invalid(_)) => {
                    tracing::warn!(%error, event_id = %event.event_id, "encrypted state Parvis will never read");
                }
            }
        }
    }
    waiting
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn encryption_settings() {
        let on = json!({"algorithm": "m.megolm.v1.aes-sha2", ENCRYPT_STATE_EVENTS: true});
        let off = json!({"algorithm": "m.megolm.v1.aes-sha2"});
        assert!(encrypts_state(on.as_object().unwrap()));
        assert!(!encrypts_state(off.as_object().unwrap()));
    }
}

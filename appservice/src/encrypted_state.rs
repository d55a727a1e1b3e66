//! Encrypted state (MSC4362): in a room whose `m.room.encryption` sets
//! `io.element.msc4362.encrypt_state_events`, a state event is sent as `m.room.encrypted` with the
//! state key `{type}:{state_key}`. The bot's device decrypts it back into the state event it
//! holds (matrix-sdk-crypto checks that the packed and the inner type and key agree), so the
//! index projects the plaintext like any other state; what cannot be decrypted yet is reported,
//! so the room is reconciled again once the room key has arrived.

use std::collections::{BTreeMap, BTreeSet};

use parvis_e2ee::{BotCrypto, EncryptedEvent, Undecryptable};
use ruma::{OwnedRoomId, RoomId, UserId, events::StateEventType, serde::Raw};
use serde::Deserialize;

use crate::{
    permission::RoomPowers,
    projection::{JsonObject, RoomEvent},
    store::{Index, IndexStore, StoreError},
};

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

/// State types that are never encrypted (MSC4362 keeps them in clear: the homeserver authorises
/// events with them), and the state that only Parvis writes, in clear, when it creates a room.
/// An encrypted state event claiming one of them is forged: the homeserver authorised an
/// `m.room.encrypted` event, not a membership or a power level.
pub const CLEAR_ONLY_STATE: &[&str] = &[
    "m.room.create",
    "m.room.member",
    "m.room.join_rules",
    "m.room.power_levels",
    "m.room.third_party_invite",
    "m.room.history_visibility",
    "m.room.guest_access",
    "m.room.encryption",
    "m.room.server_acl",
    "m.room.tombstone",
    "m.room.redaction",
    "m.space.child",
    "m.space.parent",
    "org.parvis.community",
    "org.parvis.community.room",
];

/// Why decrypted state is not taken for what it says it is, or `None` when it may be: its type
/// is one kept in clear, or its sender's power level in the room's real (clear) power levels
/// does not allow that type.
pub fn refusal_of_decrypted_state(
    inner_type: &str,
    sender: &UserId,
    powers: &RoomPowers,
) -> Option<String> {
    if CLEAR_ONLY_STATE.contains(&inner_type) {
        return Some(format!(
            "`{inner_type}` is never sent encrypted: an encrypted event claiming it is forged"
        ));
    }
    (!powers.may_send(sender, inner_type, true))
        .then(|| format!("{sender} may not send `{inner_type}` in this room's power levels"))
}

/// The power levels that judge the encrypted state of `room_id`: the room's latest clear
/// power levels and creation among `events` (a full state), else the index's.
async fn powers_of(
    index: &Index,
    events: &[RoomEvent],
    room_id: &RoomId,
) -> Result<RoomPowers, StoreError> {
    // Each from the batch when it holds it (newest first), else from the index.
    let mut state = Vec::with_capacity(2);
    for event_type in ["m.room.power_levels", "m.room.create"] {
        let in_batch = events.iter().rev().find(|event| {
            event.room_id == room_id
                && event.event_type == event_type
                && event.state_key.as_deref() == Some("")
        });
        state.push(match in_batch {
            Some(event) => Some((event.sender.clone(), event.content.clone())),
            None => {
                index
                    .state_content(room_id, &StateEventType::from(event_type), "")
                    .await?
            }
        });
    }
    let create = state.pop().flatten();
    let levels = state.pop().flatten().map(|(_, content)| content);
    Ok(RoomPowers::from_state(levels, create))
}

/// Replaces each encrypted state event of `events` that the bot's device can decrypt with the
/// state event it holds (same event ID, sender, time and `unsigned`), when its sender may send
/// that state ([`refusal_of_decrypted_state`]; a refused one stays an opaque
/// `m.room.encrypted`). Returns the rooms holding encrypted state it could not decrypt yet
/// (its room key has not arrived).
pub async fn decrypt_state(
    crypto: &BotCrypto,
    index: &Index,
    events: &mut [RoomEvent],
) -> BTreeSet<OwnedRoomId> {
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
        let powers = match powers_of(index, events, &room_id).await {
            Ok(powers) => powers,
            Err(error) => {
                // Without the power levels nothing can be judged: read the room again later.
                tracing::warn!(%error, %room_id, "power levels unreadable; encrypted state left for later");
                waiting.insert(room_id);
                continue;
            }
        };
        let (indices, raws): (Vec<usize>, Vec<_>) = encrypted.into_iter().unzip();
        let results = crypto.decrypt_many(&room_id, raws).await;
        for (position, result) in indices.into_iter().zip(results) {
            let event = &mut events[position];
            match result {
                Ok(plain) => match plain.deserialize_as_unchecked::<Inner>() {
                    Ok(inner) => {
                        if let Some(refusal) =
                            refusal_of_decrypted_state(&inner.event_type, &event.sender, &powers)
                        {
                            tracing::warn!(event_id = %event.event_id, sender = %event.sender, %refusal, "encrypted state refused");
                            continue;
                        }
                        event.event_type = inner.event_type;
                        event.state_key = Some(inner.state_key);
                        event.content = inner.content;
                        event.remove_nul_characters();
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

    fn powers() -> RoomPowers {
        let levels = json!({
            "users": {"@owner:hs": 100, "@moderator:hs": 50},
            "users_default": 0,
            "events": {"org.parvis.wiki.page": 0, "m.room.name": 50},
            "state_default": 50,
        });
        let create = json!({"room_version": "11"});
        RoomPowers::from_state(
            levels.as_object().cloned(),
            Some((
                ruma::owned_user_id!("@parvis:hs"),
                create.as_object().cloned().unwrap(),
            )),
        )
    }

    #[test]
    fn forged_clear_only_state_is_refused_whoever_sends_it() {
        for forged in [
            "m.room.member",
            "m.room.power_levels",
            "m.room.create",
            "m.room.encryption",
            "m.room.join_rules",
            "org.parvis.community.room",
            "org.parvis.community",
        ] {
            assert!(
                refusal_of_decrypted_state(forged, ruma::user_id!("@moderator:hs"), &powers())
                    .is_some(),
                "{forged} accepted"
            );
            assert!(
                refusal_of_decrypted_state(forged, ruma::user_id!("@owner:hs"), &powers())
                    .is_some()
            );
        }
    }

    #[test]
    fn decrypted_state_needs_the_senders_power_for_its_type() {
        assert_eq!(
            refusal_of_decrypted_state(
                "org.parvis.wiki.page",
                ruma::user_id!("@member:hs"),
                &powers()
            ),
            None
        );
        assert!(
            refusal_of_decrypted_state("m.room.name", ruma::user_id!("@member:hs"), &powers())
                .is_some()
        );
        assert_eq!(
            refusal_of_decrypted_state("m.room.name", ruma::user_id!("@moderator:hs"), &powers()),
            None
        );
        // A type the power levels do not name falls to state_default (50).
        assert!(
            refusal_of_decrypted_state(
                "org.example.other",
                ruma::user_id!("@member:hs"),
                &powers()
            )
            .is_some()
        );
    }

    #[test]
    fn encryption_settings() {
        let on = json!({"algorithm": "m.megolm.v1.aes-sha2", ENCRYPT_STATE_EVENTS: true});
        let off = json!({"algorithm": "m.megolm.v1.aes-sha2"});
        assert!(encrypts_state(on.as_object().unwrap()));
        assert!(!encrypts_state(off.as_object().unwrap()));
    }
}

//! Encrypted messages: decrypted to find commands; their senders told when Parvis cannot.

use super::*;

impl Bot {
    /// Decrypts an encrypted message and, when it is a `!parvis` command, answers it (in the
    /// room, encrypted). Without its room key yet, the job is retried (2 s, 4 s, 8 s…); the
    /// sender is told once per Megolm session when the key still has not come.
    pub(super) async fn decrypt_message(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        event: &serde_json::Value,
        attempts: i64,
    ) -> Result<(), JobError> {
        let Some(crypto) = &self.crypto else {
            return Ok(());
        };
        let raw: Raw<EncryptedEvent> = match serde_json::value::to_raw_value(event) {
            Ok(raw) => Raw::from_json(raw),
            Err(error) => {
                tracing::warn!(%error, %event_id, "an encrypted event that is not JSON");
                return Ok(());
            }
        };
        let decrypted = match crypto.decrypt(room_id, &raw).await {
            Ok(decrypted) => decrypted,
            Err(Undecryptable::MissingKey(why)) => {
                // Counted once per event, at its first attempt (it is retried).
                if attempts == 0 {
                    self.metrics.undecryptable();
                }
                if attempts + 1 >= UNDECRYPTABLE_TELL_AFTER {
                    self.tell_undecryptable(room_id, event_id, event, None)
                        .await?;
                }
                return Err(JobError::Undecryptable(Undecryptable::MissingKey(why)));
            }
            Err(Undecryptable::Withheld(code)) => {
                if attempts == 0 {
                    self.metrics.undecryptable();
                }
                // Refused on purpose: say so at once (the key may still be shared later).
                self.tell_undecryptable(room_id, event_id, event, Some(&code))
                    .await?;
                return Err(JobError::Undecryptable(Undecryptable::Withheld(code)));
            }
            Err(error @ Undecryptable::Invalid(_)) => {
                self.metrics.undecryptable();
                tracing::warn!(%error, %event_id, "an encrypted message Parvis will never read");
                return Ok(());
            }
        };
        let Ok(message) = serde_json::from_str::<serde_json::Value>(decrypted.json().get()) else {
            return Ok(());
        };
        // What a tool counts of it (a 👍 in an encrypted room), as if it had come in clear.
        self.plan_decrypted_for_tools(room_id, &message).await?;
        let content = &message["content"];
        let is_edit = content["m.relates_to"]["rel_type"] == "m.replace";
        let body = content["body"].as_str().unwrap_or_default();
        if message["type"] != "m.room.message"
            || content["msgtype"] != "m.text"
            || is_edit
            || !body.trim_start().starts_with(command::PREFIX)
        {
            return Ok(());
        }
        let Some(sender) = message["sender"]
            .as_str()
            .and_then(|s| OwnedUserId::try_from(s).ok())
        else {
            return Ok(());
        };
        tracing::info!(%room_id, %event_id, %sender, "answering an encrypted command");
        self.answer(room_id, event_id, &sender, body).await
    }

    /// Gives a decrypted event of a community room to the tools' planners, when it is of a
    /// type a tool owns, and writes what they plan. Encrypted events are not projected at
    /// ingest (the index cannot read them), so this is their only way in.
    pub(super) async fn plan_decrypted_for_tools(
        &self,
        room_id: &OwnedRoomId,
        decrypted: &serde_json::Value,
    ) -> Result<(), JobError> {
        let owned = decrypted["type"].as_str().is_some_and(crate::tools::owns);
        if !owned || self.community_of(room_id).await?.is_none() {
            return Ok(());
        }
        let mut decrypted = decrypted.clone();
        decrypted["room_id"] = serde_json::Value::String(room_id.to_string());
        let Ok(event) = serde_json::from_value::<crate::projection::RoomEvent>(decrypted) else {
            return Ok(());
        };
        let writes = crate::projection::tool_writes(&self.identity, &event);
        if !writes.is_empty() {
            self.index.apply_tool_writes(room_id, writes).await?;
        }
        Ok(())
    }

    /// Tells the room, once per Megolm session, that Parvis cannot read its messages.
    pub(super) async fn tell_undecryptable(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        event: &serde_json::Value,
        withheld: Option<&str>,
    ) -> Result<(), JobError> {
        let session = event["content"]["session_id"]
            .as_str()
            .unwrap_or(event_id.as_str())
            .to_owned();
        let first = self
            .undecryptable_told
            .lock()
            .map(|mut told| told.insert(session))
            .unwrap_or(false);
        if first {
            let sender = event["sender"].as_str().unwrap_or("?");
            let why = match withheld {
                Some(code) => {
                    format!("your client withheld its room key from Parvis's device ({code})")
                }
                None => "its room key did not reach Parvis's device".to_owned(),
            };
            let text = format!(
                "🔒 Parvis cannot read the encrypted messages {sender} sent from this session: {why}. Commands in them were not run; send them again, or let your client share keys with Parvis's device (it is not verified)."
            );
            self.reply(room_id, event_id, &text).await?;
        }
        Ok(())
    }
}

/// After how many failed attempts to decrypt a message its sender is told (≈ 1 minute).
const UNDECRYPTABLE_TELL_AFTER: i64 = 5;

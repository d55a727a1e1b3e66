//! Sending as the bot: replies, reactions, messages (encrypted in encrypted rooms) and state.

use super::*;

impl Bot {
    pub(super) async fn reply(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        text: &str,
    ) -> Result<(), JobError> {
        self.reply_mentioning(room_id, event_id, text, &[]).await
    }

    pub(super) async fn react(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        key: &str,
    ) -> Result<(), JobError> {
        let content = ReactionEventContent::new(Annotation::new(event_id.clone(), key.to_owned()));
        self.send_message(room_id, derived_txn_id(event_id, "reaction"), &content)
            .await
            .map(drop)
    }

    /// Sends a message-like event as the bot: encrypted for the room's members when the room
    /// is encrypted (never in clear there: without a device, the bot does not answer). Returns
    /// the event's ID when it was sent in clear.
    pub(super) async fn send_message(
        &self,
        room_id: &OwnedRoomId,
        txn_id: OwnedTransactionId,
        content: &impl MessageLikeEventContent,
    ) -> Result<Option<OwnedEventId>, JobError> {
        let bad = |e: serde_json::Error| ClientError::Request(e.to_string());
        let encrypted = self
            .index
            .state_content(room_id, &StateEventType::RoomEncryption, "")
            .await?
            .is_some();
        if !encrypted {
            let request = send_message_event::v3::Request::new(room_id.clone(), txn_id, content)
                .map_err(bad)?;
            let sent = self.intents.bot().send(request).await?;
            return Ok(Some(sent.event_id));
        }
        let Some(crypto) = &self.crypto else {
            tracing::warn!(%room_id, "not answering in an encrypted room: e2ee.enabled is false");
            return Ok(None);
        };
        let members = self.key_recipients(room_id).await?;
        let plain = Raw::new(content).map_err(bad)?.cast_unchecked();
        let ciphertext = crypto
            .encrypt(room_id, &members, &content.event_type().to_string(), &plain)
            .await?;
        let request = send_message_event::v3::Request::new_raw(
            room_id.clone(),
            txn_id,
            MessageLikeEventType::RoomEncrypted,
            ciphertext,
        );
        self.intents.bot().send(request).await?;
        Ok(None)
    }

    /// Who gets the room keys of what the bot sends: joined and invited members.
    pub(super) async fn key_recipients(
        &self,
        room_id: &RoomId,
    ) -> Result<Vec<OwnedUserId>, JobError> {
        Ok(self
            .index
            .state_events(room_id, &StateEventType::RoomMember)
            .await?
            .into_iter()
            .filter(|(_, _, content)| {
                matches!(
                    content.get("membership").and_then(|m| m.as_str()),
                    Some("join" | "invite")
                )
            })
            .filter_map(|(state_key, _, _)| OwnedUserId::try_from(state_key).ok())
            .collect())
    }

    /// Sends a state event as the bot: encrypted (MSC4362) when the room asks for encrypted
    /// state. Returns its event ID.
    pub(super) async fn send_state(
        &self,
        room_id: &OwnedRoomId,
        event_type: &str,
        state_key: &str,
        content: &crate::events::JsonObject,
    ) -> Result<OwnedEventId, JobError> {
        let bad = |e: serde_json::Error| ClientError::Request(e.to_string());
        let encrypts_state = self
            .index
            .state_content(room_id, &StateEventType::RoomEncryption, "")
            .await?
            .is_some_and(|(_, encryption)| crate::encrypted_state::encrypts_state(&encryption));
        let request = if encrypts_state {
            let Some(crypto) = &self.crypto else {
                return Err(JobError::Crypto(CryptoError::Olm(
                    "this room encrypts its state and e2ee.enabled is false".to_owned(),
                )));
            };
            let members = self.key_recipients(room_id).await?;
            let plain = Raw::new(content).map_err(bad)?.cast_unchecked();
            let encrypted = crypto
                .encrypt_state(room_id, &members, event_type, state_key, &plain)
                .await?;
            send_state_event::v3::Request::new_raw(
                room_id.clone(),
                StateEventType::RoomEncrypted,
                format!("{event_type}:{state_key}"),
                encrypted,
            )
        } else {
            send_state_event::v3::Request::new_raw(
                room_id.clone(),
                event_type.into(),
                state_key.to_owned(),
                Raw::new(content).map_err(bad)?.cast_unchecked(),
            )
        };
        Ok(self.intents.bot().send(request).await?.event_id)
    }
}

/// A notice of the bot's, mentioning no one: it often quotes what people wrote (titles, search
/// words), and with the bot's power a quoted `@room` would notify the whole room. An explicit,
/// empty `m.mentions` turns off the mention rules that read the body.
pub(super) fn notice(text: impl Into<String>) -> RoomMessageEventContent {
    let mut content = RoomMessageEventContent::notice_plain(text);
    content.mentions = Some(ruma::events::Mentions::new());
    content
}

/// A transaction ID that is the same each time the same answer to the same event is sent, so a
/// retried job does not post twice; a UUID, so different senders never collide.
pub(super) fn derived_txn_id(event_id: &OwnedEventId, purpose: &str) -> OwnedTransactionId {
    let name = format!("{purpose}:{event_id}");
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
        .to_string()
        .into()
}

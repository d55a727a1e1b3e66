//! Who may read and write where, from the index's copy of each room's membership and power
//! levels — the rule the homeserver applies, checked by Parvis before it writes on anyone's
//! behalf, so the bot is never a confused deputy.

use ruma::RoomVersionId;
use serde_json::Value;

use crate::{
    community::{RoomVersionFacts, may_send},
    store::{Index, IndexStore, StoreError},
};

/// Why a user may not do something in a room; the message is shown to them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not joined to the room.
    #[error("{user} is not a member of this room ({room}): join it first")]
    NotMember {
        /// The user.
        user: String,
        /// The room.
        room: String,
    },
    /// Joined, but the power levels do not allow this event type.
    #[error(
        "{user} may not write `{event_type}` here: the community's power levels give this to members (power level 0) or above, and readers only read"
    )]
    NotAllowed {
        /// The user.
        user: String,
        /// The event type.
        event_type: String,
    },
}

/// Checks that `user_id` is joined to `room_id`.
pub async fn check_member(
    index: &Index,
    room_id: &str,
    user_id: &str,
) -> Result<Result<(), Refusal>, StoreError> {
    Ok(match index.membership(room_id, user_id).await?.as_deref() {
        Some("join") => Ok(()),
        _ => Err(Refusal::NotMember {
            user: user_id.to_owned(),
            room: room_id.to_owned(),
        }),
    })
}

/// Checks that `user_id` is joined to `room_id` and may send the state event `event_type` there.
pub async fn check_writer(
    index: &Index,
    room_id: &str,
    user_id: &str,
    event_type: &str,
) -> Result<Result<(), Refusal>, StoreError> {
    check(index, room_id, user_id, event_type, true).await
}

/// Checks that `user_id` is joined to `room_id` and may send the message event `event_type` there.
pub async fn check_sender(
    index: &Index,
    room_id: &str,
    user_id: &str,
    event_type: &str,
) -> Result<Result<(), Refusal>, StoreError> {
    check(index, room_id, user_id, event_type, false).await
}

async fn check(
    index: &Index,
    room_id: &str,
    user_id: &str,
    event_type: &str,
    is_state: bool,
) -> Result<Result<(), Refusal>, StoreError> {
    if let Err(refusal) = check_member(index, room_id, user_id).await? {
        return Ok(Err(refusal));
    }
    let levels = index
        .state_content(room_id, "m.room.power_levels", "")
        .await?;
    let create = index.state_content(room_id, "m.room.create", "").await?;
    let (creator, version) = match &create {
        Some((sender, content)) => (
            sender.as_str(),
            content
                .get("room_version")
                .and_then(Value::as_str)
                .and_then(|v| RoomVersionId::try_from(v).ok())
                .unwrap_or(RoomVersionId::V1),
        ),
        None => ("", RoomVersionId::V12),
    };
    let facts = RoomVersionFacts::of(&version);
    let allowed = may_send(
        levels.as_ref().map(|(_, content)| content),
        &[creator],
        facts.privileged_creators,
        user_id,
        event_type,
        is_state,
    );
    Ok(if allowed {
        Ok(())
    } else {
        Err(Refusal::NotAllowed {
            user: user_id.to_owned(),
            event_type: event_type.to_owned(),
        })
    })
}

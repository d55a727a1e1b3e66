//! Who may read and write where, from the index's copy of each room's membership and power
//! levels — the rule the homeserver applies, checked by Parvis before it writes on anyone's
//! behalf, so the bot is never a confused deputy.

use ruma::RoomVersionId;
use serde_json::Value;

use crate::{
    community::{Role, RoomVersionFacts, may_send, power_level_of},
    events::JsonObject,
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
    let allowed = RoomPowers::load(index, room_id)
        .await?
        .may_send(user_id, event_type, is_state);
    Ok(if allowed {
        Ok(())
    } else {
        Err(Refusal::NotAllowed {
            user: user_id.to_owned(),
            event_type: event_type.to_owned(),
        })
    })
}

/// A room's power levels and creators, as indexed: who may do what there.
#[derive(Clone, Debug, Default)]
pub struct RoomPowers {
    levels: Option<JsonObject>,
    creators: Vec<String>,
    privileged_creators: bool,
}

impl RoomPowers {
    /// Reads them from the index.
    pub async fn load(index: &Index, room_id: &str) -> Result<Self, StoreError> {
        let levels = index
            .state_content(room_id, "m.room.power_levels", "")
            .await?
            .map(|(_, content)| content);
        let create = index.state_content(room_id, "m.room.create", "").await?;
        Ok(Self::from_state(levels, create))
    }

    /// From a room's `m.room.power_levels` content and its `m.room.create` (sender, content).
    pub fn from_state(levels: Option<JsonObject>, create: Option<(String, JsonObject)>) -> Self {
        let Some((creator, content)) = create else {
            return Self {
                levels,
                creators: Vec::new(),
                privileged_creators: true,
            };
        };
        let version = content
            .get("room_version")
            .and_then(Value::as_str)
            .and_then(|v| RoomVersionId::try_from(v).ok())
            .unwrap_or(RoomVersionId::V1);
        let facts = RoomVersionFacts::of(&version);
        let mut creators = vec![creator];
        if facts.privileged_creators {
            // Room version 12: `additional_creators` have the creator's unlimited power too.
            creators.extend(
                content
                    .get("additional_creators")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
        }
        Self {
            levels,
            creators,
            privileged_creators: facts.privileged_creators,
        }
    }

    fn creators(&self) -> Vec<&str> {
        self.creators.iter().map(String::as_str).collect()
    }

    /// The power level of `user`; `None` for a creator with unlimited power.
    pub fn level_of(&self, user: &str) -> Option<i64> {
        power_level_of(
            self.levels.as_ref(),
            &self.creators(),
            self.privileged_creators,
            user,
        )
    }

    /// The community role of `user` in this room.
    pub fn role_of(&self, user: &str) -> Role {
        self.level_of(user)
            .map_or(Role::Owner, Role::from_power_level)
    }

    /// Whether `user` may send `event_type` here.
    pub fn may_send(&self, user: &str, event_type: &str, is_state: bool) -> bool {
        may_send(
            self.levels.as_ref(),
            &self.creators(),
            self.privileged_creators,
            user,
            event_type,
            is_state,
        )
    }
}

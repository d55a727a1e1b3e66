//! Who may read and write where, from the index's copy of each room's membership and power
//! levels — the rule the homeserver applies, checked by Parvis before it writes on anyone's
//! behalf, so the bot is never a confused deputy.

use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, RoomVersionId, UserId,
    events::{
        MessageLikeEventType, StateEventType,
        room::member::MembershipState,
        room::power_levels::{
            RoomPowerLevels, RoomPowerLevelsEventContent, RoomPowerLevelsSource, UserPowerLevel,
        },
    },
    room_version_rules::RoomVersionRules,
};
use serde_json::Value;

use crate::{
    community::Role,
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
        user: OwnedUserId,
        /// The room.
        room: OwnedRoomId,
    },
    /// Joined, but the power levels do not allow this event type.
    #[error(
        "{user} may not write `{event_type}` here: the community's power levels give this to members (power level 0) or above, and readers only read"
    )]
    NotAllowed {
        /// The user.
        user: OwnedUserId,
        /// The event type.
        event_type: String,
    },
}

/// Checks that `user_id` is joined to `room_id`.
pub async fn check_member(
    index: &Index,
    room_id: &RoomId,
    user_id: &UserId,
) -> Result<Result<(), Refusal>, StoreError> {
    Ok(match index.membership(room_id, user_id).await? {
        Some(MembershipState::Join) => Ok(()),
        _ => Err(Refusal::NotMember {
            user: user_id.to_owned(),
            room: room_id.to_owned(),
        }),
    })
}

/// Checks that `user_id` is joined to `room_id` and may send the state event `event_type` there.
pub async fn check_writer(
    index: &Index,
    room_id: &RoomId,
    user_id: &UserId,
    event_type: &str,
) -> Result<Result<(), Refusal>, StoreError> {
    check(index, room_id, user_id, event_type, true).await
}

/// Checks that `user_id` is joined to `room_id` and may send the message event `event_type` there.
pub async fn check_sender(
    index: &Index,
    room_id: &RoomId,
    user_id: &UserId,
    event_type: &str,
) -> Result<Result<(), Refusal>, StoreError> {
    check(index, room_id, user_id, event_type, false).await
}

async fn check(
    index: &Index,
    room_id: &RoomId,
    user_id: &UserId,
    event_type: &str,
    is_state: bool,
) -> Result<Result<(), Refusal>, StoreError> {
    Ok(RoomAccess::load(index, room_id, user_id)
        .await?
        .may_send(event_type, is_state))
}

/// A user's access to a room, read from the index in one go: their membership, the room's
/// powers, whether it is encrypted, and its change stamp (answers kept from the room are good
/// while it stays).
#[derive(Clone, Debug)]
pub struct RoomAccess {
    room_id: OwnedRoomId,
    user_id: OwnedUserId,
    membership: Option<MembershipState>,
    powers: RoomPowers,
    /// The room is end-to-end encrypted.
    pub encrypted: bool,
    /// The room's change stamp; `None` when the index does not follow it.
    pub stamp: Option<i64>,
}

impl RoomAccess {
    /// Reads it from the index.
    pub async fn load(
        index: &Index,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> Result<Self, StoreError> {
        let state = index.room_access(room_id, user_id).await?;
        Ok(Self {
            room_id: room_id.to_owned(),
            user_id: user_id.to_owned(),
            membership: state.membership,
            powers: RoomPowers::from_state(state.power_levels, state.create),
            encrypted: state.encrypted,
            stamp: state.stamp,
        })
    }

    /// The user is joined to the room.
    pub fn member(&self) -> Result<(), Refusal> {
        match self.membership {
            Some(MembershipState::Join) => Ok(()),
            _ => Err(Refusal::NotMember {
                user: self.user_id.clone(),
                room: self.room_id.clone(),
            }),
        }
    }

    /// The user is joined and may send `event_type` (a state event when `is_state`).
    pub fn may_send(&self, event_type: &str, is_state: bool) -> Result<(), Refusal> {
        self.member()?;
        if self.powers.may_send(&self.user_id, event_type, is_state) {
            Ok(())
        } else {
            Err(Refusal::NotAllowed {
                user: self.user_id.clone(),
                event_type: event_type.to_owned(),
            })
        }
    }
}

/// A room's power levels and creators, as indexed: who may do what there, by ruma's
/// [`RoomPowerLevels`] and the room version's authorization rules (creators have unlimited
/// power from room version 12).
#[derive(Clone, Debug)]
pub struct RoomPowers {
    levels: RoomPowerLevels,
}

impl RoomPowers {
    /// Reads them from the index.
    pub async fn load(index: &Index, room_id: &RoomId) -> Result<Self, StoreError> {
        let levels = index
            .state_content(room_id, &StateEventType::RoomPowerLevels, "")
            .await?
            .map(|(_, content)| content);
        let create = index
            .state_content(room_id, &StateEventType::RoomCreate, "")
            .await?;
        Ok(Self::from_state(levels, create))
    }

    /// From a room's `m.room.power_levels` content and its `m.room.create` (sender, content).
    /// Power levels that do not parse count as absent (the spec's defaults: state needs 50),
    /// as does an unknown room version's rules (those of version 1).
    pub fn from_state(
        levels: Option<JsonObject>,
        create: Option<(OwnedUserId, JsonObject)>,
    ) -> Self {
        let (version, creators) = match &create {
            None => (RoomVersionId::V1, Vec::new()),
            Some((creator, content)) => {
                let version = content
                    .get("room_version")
                    .and_then(Value::as_str)
                    .and_then(|v| RoomVersionId::try_from(v).ok())
                    .unwrap_or(RoomVersionId::V1);
                let mut creators: Vec<OwnedUserId> = vec![creator.clone()];
                // Room version 12: `additional_creators` are creators too (ruma's rules give
                // creators their unlimited power only where the version says so).
                creators.extend(
                    content
                        .get("additional_creators")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .filter_map(|user| OwnedUserId::try_from(user).ok()),
                );
                (version, creators)
            }
        };
        let rules = version
            .rules()
            .unwrap_or(RoomVersionRules::V1)
            .authorization;
        let source = match levels {
            None => RoomPowerLevelsSource::None,
            Some(levels) => {
                match serde_json::from_value::<RoomPowerLevelsEventContent>(Value::Object(levels)) {
                    Ok(content) => RoomPowerLevelsSource::Original(content),
                    Err(error) => {
                        tracing::warn!(%error, "a room's power levels do not parse: the spec's defaults apply");
                        RoomPowerLevelsSource::None
                    }
                }
            }
        };
        Self {
            levels: RoomPowerLevels::new(source, &rules, creators),
        }
    }

    /// The power level of `user`; `None` for a creator with unlimited power.
    pub fn level_of(&self, user: &UserId) -> Option<i64> {
        match self.levels.for_user(user) {
            UserPowerLevel::Int(level) => Some(level.into()),
            _ => None,
        }
    }

    /// The community role of `user` in this room.
    pub fn role_of(&self, user: &UserId) -> Role {
        self.level_of(user)
            .map_or(Role::Owner, Role::from_power_level)
    }

    /// Whether `user` may send `event_type` here (a state event when `is_state`).
    pub fn may_send(&self, user: &UserId, event_type: &str, is_state: bool) -> bool {
        if is_state {
            self.levels
                .user_can_send_state(user, StateEventType::from(event_type))
        } else {
            self.levels
                .user_can_send_message(user, MessageLikeEventType::from(event_type))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::user_id;
    use serde_json::json;

    use super::*;

    fn powers(levels: Value, creator: &str, create: Value) -> RoomPowers {
        RoomPowers::from_state(
            levels.as_object().cloned(),
            Some((
                OwnedUserId::try_from(creator).unwrap(),
                create.as_object().cloned().unwrap(),
            )),
        )
    }

    fn community_levels() -> Value {
        json!({
            "users": {"@alice:hs": 100, "@reader:hs": -1},
            "users_default": 0,
            "events": {"org.parvis.wiki.page": 0, "org.parvis.faq.entry": 50, "m.room.power_levels": 100},
            "events_default": 0,
            "state_default": 50,
        })
    }

    #[test]
    fn members_write_pages_readers_do_not_and_state_needs_its_level() {
        let room = powers(
            community_levels(),
            "@parvis:hs",
            json!({"room_version": "12"}),
        );
        let may = |user: &str, event_type: &str| {
            room.may_send(&UserId::parse(user).unwrap(), event_type, true)
        };
        assert!(may("@member:hs", "org.parvis.wiki.page"));
        assert!(!may("@reader:hs", "org.parvis.wiki.page"));
        assert!(!may("@member:hs", "org.parvis.faq.entry"));
        assert!(!may("@member:hs", "m.room.name"), "state_default is 50");
        assert!(may("@alice:hs", "m.room.power_levels"));
        assert!(
            may("@parvis:hs", "m.room.power_levels"),
            "creators are unlimited in v12"
        );
        assert!(room.may_send(user_id!("@member:hs"), "m.reaction", false));
        assert!(!room.may_send(user_id!("@reader:hs"), "m.reaction", false));
    }

    #[test]
    fn creators_are_unlimited_from_version_12_only() {
        let v12 = powers(
            community_levels(),
            "@parvis:hs",
            json!({"room_version": "12", "additional_creators": ["@bob:hs"]}),
        );
        assert_eq!(v12.level_of(user_id!("@parvis:hs")), None);
        assert_eq!(v12.level_of(user_id!("@bob:hs")), None);
        assert_eq!(v12.role_of(user_id!("@bob:hs")), Role::Owner);
        assert_eq!(v12.level_of(user_id!("@alice:hs")), Some(100));
        assert_eq!(v12.level_of(user_id!("@reader:hs")), Some(-1));
        // Before version 12 a creator has the level the power levels give them, and
        // `additional_creators` means nothing.
        let v10 = powers(
            community_levels(),
            "@parvis:hs",
            json!({"room_version": "10", "additional_creators": ["@bob:hs"]}),
        );
        assert_eq!(v10.level_of(user_id!("@parvis:hs")), Some(0));
        assert_eq!(v10.level_of(user_id!("@bob:hs")), Some(0));
        // Without power levels the creator has 100 before version 12, everyone else 0.
        let bare = powers(json!(null), "@parvis:hs", json!({"room_version": "10"}));
        assert_eq!(bare.level_of(user_id!("@parvis:hs")), Some(100));
        assert_eq!(bare.level_of(user_id!("@bob:hs")), Some(0));
    }

    #[test]
    fn old_rooms_may_give_levels_as_strings() {
        let room = powers(
            json!({"users": {"@alice:hs": "75"}, "events": {"org.parvis.wiki.page": "50"}}),
            "@parvis:hs",
            json!({"room_version": "1"}),
        );
        assert_eq!(room.level_of(user_id!("@alice:hs")), Some(75));
        assert!(room.may_send(user_id!("@alice:hs"), "org.parvis.wiki.page", true));
        assert!(!room.may_send(user_id!("@bob:hs"), "org.parvis.wiki.page", true));
    }

    #[test]
    fn power_levels_that_do_not_parse_fall_back_to_the_specs_defaults() {
        let room = powers(
            json!({"users": {"@alice:hs": "lots"}, "state_default": 0}),
            "@parvis:hs",
            json!({"room_version": "11"}),
        );
        assert!(!room.may_send(user_id!("@alice:hs"), "org.parvis.wiki.page", true));
        assert!(room.may_send(user_id!("@alice:hs"), "m.room.message", false));
    }
}

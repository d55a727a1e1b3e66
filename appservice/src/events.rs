//! The custom events Parvis declares, each once, under the `org.parvis.` namespace.
//!
//! The web front end reads these same shapes (see `widgets/`); the round-trip tests at the end
//! pin the wire format.

use ruma::{
    OwnedRoomId, OwnedUserId,
    events::{EmptyStateKey, macros::EventContent},
};
use serde::{Deserialize, Serialize};

/// What a room of a community is for. Each tool of a community has its own room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomPurpose {
    /// The community's landing room: description, members, recent activity.
    Home,
    /// The community's general discussion.
    Discussion,
    /// Document library (files, folders, versions, co-editing).
    Documents,
    /// Wiki pages.
    Wiki,
    /// Blog posts.
    Blog,
    /// Frequently asked questions.
    Faq,
    /// Calendar events.
    Calendar,
    /// Polls and surveys.
    Polls,
    /// Kanban boards and Gantt charts.
    Tasks,
}

impl RoomPurpose {
    /// Rooms every community has, whatever tools it enables.
    pub const BASE: [RoomPurpose; 2] = [RoomPurpose::Home, RoomPurpose::Discussion];

    /// The optional tools, in the order their rooms are listed in the space.
    pub const TOOLS: [RoomPurpose; 7] = [
        RoomPurpose::Documents,
        RoomPurpose::Wiki,
        RoomPurpose::Blog,
        RoomPurpose::Faq,
        RoomPurpose::Calendar,
        RoomPurpose::Polls,
        RoomPurpose::Tasks,
    ];

    /// The name used in commands, events and the database (`"wiki"`, `"faq"`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Home => "home",
            Self::Discussion => "discussion",
            Self::Documents => "documents",
            Self::Wiki => "wiki",
            Self::Blog => "blog",
            Self::Faq => "faq",
            Self::Calendar => "calendar",
            Self::Polls => "polls",
            Self::Tasks => "tasks",
        }
    }

    /// Parses the name used in commands and events.
    pub fn parse(name: &str) -> Option<Self> {
        Self::BASE
            .into_iter()
            .chain(Self::TOOLS)
            .find(|purpose| purpose.as_str() == name)
    }

    /// Whether this is an optional tool (rather than a room every community has).
    pub fn is_tool(self) -> bool {
        Self::TOOLS.contains(&self)
    }

    /// The room's display name suffix, shown after the community name.
    pub fn title(self) -> &'static str {
        match self {
            Self::Home => "Home",
            Self::Discussion => "Discussion",
            Self::Documents => "Documents",
            Self::Wiki => "Wiki",
            Self::Blog => "Blog",
            Self::Faq => "FAQ",
            Self::Calendar => "Calendar",
            Self::Polls => "Polls",
            Self::Tasks => "Tasks",
        }
    }
}

/// `org.parvis.community`: a Parvis community, in the state of its space (`m.space`), state key `""`.
///
/// Only owners (power level 100) may change it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "org.parvis.community", kind = State, state_key_type = EmptyStateKey)]
pub struct CommunityEventContent {
    /// The community's name.
    pub name: String,
    /// What the community is about (plain text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The tools this community has enabled; each has a room in the space.
    #[serde(default)]
    pub tools: Vec<RoomPurpose>,
    /// The user who asked for the community (the bot creates the rooms on their behalf).
    pub requested_by: OwnedUserId,
}

/// `org.parvis.community.room`: what a room of a community is for, in that room's state, state key `""`.
///
/// Each room describes itself, so the index can be rebuilt room by room.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "org.parvis.community.room", kind = State, state_key_type = EmptyStateKey)]
pub struct CommunityRoomEventContent {
    /// The community's space.
    pub community: OwnedRoomId,
    /// What the room is for.
    pub purpose: RoomPurpose,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::{events::StateEventContent, owned_room_id, owned_user_id};
    use serde_json::{from_value, json, to_value};

    use super::*;

    #[test]
    fn community_round_trip() {
        let content = CommunityEventContent {
            name: "Projet Alpha".to_owned(),
            description: "Coordination interministérielle".to_owned(),
            tools: vec![RoomPurpose::Wiki, RoomPurpose::Faq],
            requested_by: owned_user_id!("@alice:example.org"),
        };
        let json = json!({
            "name": "Projet Alpha",
            "description": "Coordination interministérielle",
            "tools": ["wiki", "faq"],
            "requested_by": "@alice:example.org",
        });
        assert_eq!(to_value(&content).unwrap(), json);
        assert_eq!(from_value::<CommunityEventContent>(json).unwrap(), content);
        assert_eq!(content.event_type().to_string(), "org.parvis.community");
    }

    #[test]
    fn community_without_description_or_tools() {
        let content: CommunityEventContent =
            from_value(json!({"name": "X", "requested_by": "@a:hs"})).unwrap();
        assert!(content.description.is_empty() && content.tools.is_empty());
        assert!(from_value::<CommunityEventContent>(json!({"tools": ["wiki"]})).is_err());
        assert!(
            from_value::<CommunityEventContent>(
                json!({"name": "X", "requested_by": "@a:hs", "tools": ["games"]})
            )
            .is_err()
        );
    }

    #[test]
    fn community_room_round_trip() {
        let content = CommunityRoomEventContent {
            community: owned_room_id!("!space:example.org"),
            purpose: RoomPurpose::Discussion,
        };
        let json = json!({"community": "!space:example.org", "purpose": "discussion"});
        assert_eq!(to_value(&content).unwrap(), json);
        assert_eq!(
            from_value::<CommunityRoomEventContent>(json).unwrap(),
            content
        );
        assert_eq!(
            content.event_type().to_string(),
            "org.parvis.community.room"
        );
    }

    #[test]
    fn purpose_names_round_trip() {
        for purpose in RoomPurpose::BASE.into_iter().chain(RoomPurpose::TOOLS) {
            assert_eq!(RoomPurpose::parse(purpose.as_str()), Some(purpose));
            assert_eq!(to_value(purpose).unwrap(), json!(purpose.as_str()));
        }
        assert!(!RoomPurpose::Home.is_tool() && RoomPurpose::Wiki.is_tool());
    }
}

//! The events of communities themselves, each declared once under the `org.parvis.` namespace
//! (each tool declares its own in its folder: [`crate::tools`]), what bodies too large for an
//! event are, and the shapes of Element's widget events Parvis writes.
//!
//! The web front end reads these same shapes (see `widgets/`); the round-trip tests at the end
//! pin the wire format.

use ruma::{
    OwnedEventId, OwnedMxcUri, OwnedRoomId, OwnedUserId,
    events::{EmptyStateKey, macros::EventContent, room::EncryptedFile},
};
use serde::{Deserialize, Serialize};

/// A JSON object: the content of an event.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

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

    /// Every purpose a tool's room may have, in the order rooms are listed in the space. A new
    /// community only gets the rooms of registered tools ([`crate::tools::tool_rooms`]); the
    /// others are the rooms of tools still to come, read as they are named.
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

/// `m.room.message`: the notice the bot posts about a new revision of an object, for people on
/// clients without widgets. It refers to the revision (`m.reference`), so what is said of the
/// notice — a 👍 in Element — is said of the object. It mentions nobody.
#[derive(Clone, Debug, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "m.room.message", kind = MessageLike)]
pub struct RevisionNoticeEventContent {
    /// Always `m.notice`.
    pub msgtype: String,
    /// What happened, with a link to the revision.
    pub body: String,
    /// Nobody: the notice quotes what people wrote.
    #[serde(rename = "m.mentions")]
    pub mentions: ruma::events::Mentions,
    /// `{"rel_type": "m.reference", "event_id": <the revision>}`.
    #[serde(rename = "m.relates_to")]
    pub relates_to: ReferenceRelation,
}

impl RevisionNoticeEventContent {
    /// A notice about `revision`.
    pub fn new(body: impl Into<String>, revision: OwnedEventId) -> Self {
        Self {
            msgtype: "m.notice".to_owned(),
            body: body.into(),
            mentions: ruma::events::Mentions::new(),
            relates_to: ReferenceRelation {
                rel_type: "m.reference".to_owned(),
                event_id: revision,
            },
        }
    }
}

/// An `m.reference` relation to an event.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ReferenceRelation {
    /// Always `m.reference`.
    pub rel_type: String,
    /// The event referred to.
    pub event_id: OwnedEventId,
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

/// A body stored in the homeserver's media repository because it is over the event size limit:
/// in clear (`url`), or, in an encrypted room, as an encrypted attachment (`file`, as `m.file`
/// messages carry one: the `mxc://` URI of the ciphertext, its AES key, IV and hash).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct MediaBody {
    /// The `mxc://` URI of the markdown text (UTF-8, `text/markdown`), in a room without
    /// encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<OwnedMxcUri>,
    /// The encrypted attachment holding the text, in an encrypted room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Box<EncryptedFile>>,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex, checked when it is read back.
    pub sha256: String,
}

// ruma's `EncryptedFile` has no `PartialEq`: two bodies are equal when their JSON is.
impl PartialEq for MediaBody {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
            && self.size == other.size
            && self.sha256 == other.sha256
            && serde_json::to_value(&self.file).ok() == serde_json::to_value(&other.file).ok()
    }
}

impl Eq for MediaBody {}

impl MediaBody {
    /// The `mxc://` URI to download: the clear text's, or the ciphertext's.
    pub fn mxc(&self) -> Option<&OwnedMxcUri> {
        self.url
            .as_ref()
            .or(self.file.as_ref().map(|file| &file.url))
    }
}

/// Events larger than this keep their body in the media repository (the homeserver refuses
/// events over 64 KiB, envelope and signatures included).
pub const MAX_INLINE_BODY_BYTES: usize = 48 * 1024;

/// Largest body Parvis reads or writes, in the media repository: 1 MiB of markdown is a long
/// book; a larger file is not a page, and rendering it on every read would cost every reader.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// `im.vector.modular.widgets`: a widget in a room, in the shape Element reads (Element's own
/// event type, not Parvis's), state key = the widget's ID. Parvis adds one to each tool room.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "im.vector.modular.widgets", kind = State, state_key_type = String)]
pub struct WidgetEventContent {
    /// The widget's ID (same as the state key).
    pub id: String,
    /// Widget type; `m.custom` for an application's own page.
    #[serde(rename = "type")]
    pub widget_type: String,
    /// Its URL, with template variables (`$matrix_user_id`, `$matrix_room_id`…) Element fills in.
    pub url: String,
    /// The name shown in Element.
    pub name: String,
    /// Free data (Element shows `data.title` under the name).
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Who added it.
    #[serde(rename = "creatorUserId")]
    pub creator_user_id: OwnedUserId,
    /// Whether Element waits for the page's load event before showing it.
    #[serde(rename = "waitForIframeLoad", default)]
    pub wait_for_iframe_load: bool,
}

/// `io.element.widgets.layout`: where Element places a room's widgets (Element's event type),
/// state key `""`. Parvis pins its tool widget to the top of the room.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "io.element.widgets.layout", kind = State, state_key_type = EmptyStateKey)]
pub struct WidgetLayoutEventContent {
    /// Placement per widget ID.
    pub widgets: std::collections::BTreeMap<String, WidgetPlacement>,
}

/// Where one widget goes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct WidgetPlacement {
    /// `top` (pinned above the timeline) or `right`.
    pub container: String,
    /// Order among the container's widgets.
    pub index: u32,
    /// Width, in percent of the container.
    pub width: u32,
    /// Height, in percent of the room's view.
    pub height: u32,
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
    fn widget_events_round_trip() {
        let widget = json!({
            "id": "parvis_wiki", "type": "m.custom", "url": "https://p.example/widgets/index.html#/c/!s:hs/wiki?userId=$matrix_user_id",
            "name": "Wiki", "data": {}, "creatorUserId": "@parvis:hs", "waitForIframeLoad": true,
        });
        let content: WidgetEventContent = from_value(widget.clone()).unwrap();
        assert_eq!(to_value(&content).unwrap(), widget);
        assert_eq!(
            content.event_type().to_string(),
            "im.vector.modular.widgets"
        );
        let layout = json!({"widgets": {"parvis_wiki": {"container": "top", "index": 0, "width": 100, "height": 60}}});
        let content: WidgetLayoutEventContent = from_value(layout.clone()).unwrap();
        assert_eq!(to_value(&content).unwrap(), layout);
    }

    #[test]
    fn revision_notice_round_trip() {
        let content =
            RevisionNoticeEventContent::new("📄 edited", ruma::owned_event_id!("$revision"));
        let json = json!({
            "msgtype": "m.notice",
            "body": "📄 edited",
            "m.mentions": {},
            "m.relates_to": {"rel_type": "m.reference", "event_id": "$revision"},
        });
        assert_eq!(to_value(&content).unwrap(), json);
        let read: RevisionNoticeEventContent = from_value(json).unwrap();
        assert_eq!(read.relates_to, content.relates_to);
        assert_eq!(read.body, content.body);
        assert_eq!(
            <RevisionNoticeEventContent as ruma::events::StaticEventContent>::TYPE,
            "m.room.message"
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

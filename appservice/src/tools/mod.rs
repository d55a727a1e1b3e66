//! The tools of a community, each declared once in its own folder and listed once in [`TOOLS`].
//!
//! A tool declares the event types it owns with the least role that may send each, the room it
//! lives in, the help lines it adds to `!parvis help`, the index tables it keeps (created by its
//! migration pair in `appservice/migrations/{sqlite,postgres}/`), the relations the bot reads on
//! a reconcile, and its planners, sans-I/O: room events in, writes to its tables out — every
//! event as it is delivered ([`Tool::plan`]: reactions, messages), or the room's *current* state
//! of a key whenever it changes ([`Tool::state`]: boards, cards), which follows state
//! resolution, redactions and a room's reconcile as publishing's objects do. The shared
//! code — power levels and rooms of a new community, projection, the store's forgetting,
//! clearing and digest, the help text, the history read on a reconcile — iterates [`TOOLS`] and
//! never names a tool. A tool that publishes objects with revisions (the wiki, the blog…) also
//! declares their kind, a [`PublicationSpec`], which publishing's projection, index, routes and
//! the bot's commands read. A tool's HTTP routes are listed beside, in
//! [`crate::server::TOOL_ROUTES`], since they sit in the layer above.

pub mod blog;
pub mod faq;
pub mod guides;
pub mod likes;
pub mod tasks;
pub mod wiki;

use ruma::{EventId, MilliSecondsSinceUnixEpoch, OwnedUserId, RoomId, UserId};
use serde_json::{Map, Value};

use crate::{
    events::{JsonObject, RoomPurpose},
    publishing::kind::{PublicationKind, PublicationSpec},
    role::Role,
};

/// Every tool, in the order its room is listed in a community's space: one line per tool.
#[rustfmt::skip]
pub static TOOLS: &[&Tool] = &[
    &wiki::TOOL,
    &blog::TOOL,
    &faq::TOOL,
    &guides::TOOL,
    &tasks::TOOL,
    &likes::TOOL,
];

/// What a tool brings. Every field but `name` may be empty: a tool may have no room of its own
/// (likes count reactions in every room), no event type of its own, no index table.
#[derive(Debug)]
pub struct Tool {
    /// Its name in commands, the API and the web app (`wiki`, `likes`).
    pub name: &'static str,
    /// The room a community has for it, if it has one (guides live in the wiki's room).
    pub room: Option<RoomPurpose>,
    /// The web app's route that the Element widget pinned in its room opens, when the tool
    /// gives its room that widget (one tool per room does).
    pub widget: Option<&'static str>,
    /// The event types it owns, each with the least role that may send it. Two tools never
    /// claim one type.
    pub events: &'static [(&'static str, Role)],
    /// Its lines in `!parvis help`.
    pub help: &'static [&'static str],
    /// The descriptions of its migrations (`0008_likes.sql` → `likes`, `0011_task_comments.sql`
    /// → `task comments`), in order, each present for both backends.
    pub migrations: &'static [&'static str],
    /// Its index tables.
    pub tables: &'static [ToolTable],
    /// Relation types (`m.annotation`…) whose events on an object's revisions belong to it:
    /// read again from the homeserver when a room is reconciled (the index is rebuilt from the
    /// rooms), and one level further on what they find.
    pub history_relations: &'static [&'static str],
    /// Its planner: one event of a room Parvis created → the writes to its tables.
    pub plan: Option<fn(&ToolEvent<'_>) -> Vec<ToolWrite>>,
    /// Its state planner: the current state of one `(type, state key)` of a room Parvis
    /// created, whenever it changes → the writes to its tables of current state (whose rows
    /// go when the room's state is read again, and are written anew from it).
    pub state: Option<fn(&ToolState<'_>) -> StatePlan>,
    /// The objects it publishes, when it is a publishing tool.
    pub publication: Option<&'static PublicationSpec>,
    /// Its `!parvis {word} …` commands, for people whose client has no widgets.
    pub commands: &'static [ToolCommand],
    /// The notices it posts in its room when someone changes its state there, for people whose
    /// client has no widgets.
    pub notices: Option<ToolNotices>,
    /// Its objects people comment on in Matrix threads, as on published objects.
    pub comments: Option<ToolComments>,
}

/// A tool's objects that people comment on in Matrix threads, as on published objects: a thread
/// may hang off any event of an object's history (the one a client showed), and the comments of
/// the object are those of all of them, kept in the shared `comments` table.
#[derive(Debug)]
pub struct ToolComments {
    /// The objects' state event type (the state key is the object's ID).
    pub event_type: &'static str,
    /// The tool's table of every event of that type, superseded ones included, with the
    /// columns `event_id`, `room_id` and `object_id`; its planner writes it, and a reconcile
    /// that rewrote the room reads the objects' earlier events back into it.
    pub events_table: &'static str,
}

/// A current state event of a tool's room, as its commands and notices read it.
#[derive(Clone, Debug, PartialEq)]
pub struct StateEntry {
    /// Its type.
    pub event_type: String,
    /// Its state key.
    pub state_key: String,
    /// Who sent it.
    pub sender: OwnedUserId,
    /// Its content.
    pub content: JsonObject,
}

/// A `!parvis {word} …` command of a tool: the bot reads the tool's room, the tool decides,
/// sans-I/O, what to write and answer, and the bot writes it on the sender's behalf.
#[derive(Debug)]
pub struct ToolCommand {
    /// The word after `!parvis` (`task`).
    pub word: &'static str,
    /// Its usage, shown when it is misused.
    pub usage: &'static str,
    /// What it does.
    pub run: fn(&CommandCall<'_>) -> CommandOutcome,
}

/// A tool command as the bot gives it to the tool.
#[derive(Clone, Copy, Debug)]
pub struct CommandCall<'a> {
    /// Who sent it.
    pub sender: &'a UserId,
    /// Its arguments after the command word, quotes removed.
    pub args: &'a [String],
    /// The current state of the tool's event types in its room.
    pub state: &'a [StateEntry],
    /// The tool's event types the sender may send in its room.
    pub writable: &'a [&'a str],
    /// A text that is the same each time this command is run (from its event ID), so objects
    /// it creates get the same ID when a failed run is retried.
    pub seed: &'a str,
    /// Now, in milliseconds since the epoch.
    pub now_ms: i64,
}

/// What a tool command does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommandOutcome {
    /// Whether it did what was asked (✅ or ❌ on the command).
    pub success: bool,
    /// The answer, for people.
    pub reply: String,
    /// The users the answer names, for their clients to notify them.
    pub mentions: Vec<OwnedUserId>,
    /// The state events the bot writes in the tool's room, in order.
    pub writes: Vec<StateWrite>,
    /// What the tool's room is told, when the command was sent in another room.
    pub notice: Option<ToolNotice>,
}

impl CommandOutcome {
    /// A refusal or an answer that writes nothing.
    pub fn answer(success: bool, reply: impl Into<String>) -> Self {
        Self {
            success,
            reply: reply.into(),
            ..Self::default()
        }
    }
}

/// A state event a tool command writes.
#[derive(Clone, Debug, PartialEq)]
pub struct StateWrite {
    /// Its type, one of the tool's.
    pub event_type: &'static str,
    /// Its state key.
    pub state_key: String,
    /// Its content.
    pub content: JsonObject,
}

/// A notice a tool posts in its room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolNotice {
    /// Its text.
    pub body: String,
    /// The users it names, for their clients to notify them (`m.mentions`).
    pub mentions: Vec<OwnedUserId>,
}

/// How a tool words the changes people make to its state.
#[derive(Debug)]
pub struct ToolNotices {
    /// The event types whose changes it may announce.
    pub announced: &'static [&'static str],
    /// The event types of its room it reads to word a notice (a board's column names…).
    pub context: &'static [&'static str],
    /// The notice for one change, if it is worth one.
    pub notice: fn(&StateChange<'_>) -> Option<ToolNotice>,
}

/// A change of one key of a tool's state, made by someone.
#[derive(Clone, Copy, Debug)]
pub struct StateChange<'a> {
    /// The state event type.
    pub event_type: &'a str,
    /// The state key.
    pub state_key: &'a str,
    /// Who made it.
    pub sender: &'a UserId,
    /// The content before, if the key held one.
    pub before: Option<&'a JsonObject>,
    /// The content after.
    pub after: &'a JsonObject,
    /// The current state of the [`ToolNotices::context`] types of the room.
    pub context: &'a [StateEntry],
}

/// An index table of a tool. It has a `room_id` column: the rows of a room go when it is
/// forgotten.
#[derive(Debug)]
pub struct ToolTable {
    /// Its name.
    pub name: &'static str,
    /// Its rows come from immutable timeline events (kept when a room's state is re-read,
    /// like revisions and comments), not from the room's current state.
    pub history: bool,
    /// The query listing its rows in a stable order, for the index digest.
    pub digest: &'static str,
}

/// An event as a tool's planner sees it: in a room Parvis's bot created and follows.
#[derive(Clone, Copy, Debug)]
pub struct ToolEvent<'a> {
    /// The room.
    pub room_id: &'a RoomId,
    /// The event.
    pub event_id: &'a EventId,
    /// Who sent it.
    pub sender: &'a UserId,
    /// Its type.
    pub event_type: &'a str,
    /// Its state key, for a state event.
    pub state_key: Option<&'a str>,
    /// Its content.
    pub content: &'a Map<String, Value>,
    /// The event it redacts, for a redaction.
    pub redacts: Option<&'a EventId>,
    /// When it was sent.
    pub origin_server_ts: MilliSecondsSinceUnixEpoch,
    /// Whether Parvis's bot sent it.
    pub sent_by_bot: bool,
}

/// The current state of one key of a room, as a tool's state planner sees it.
#[derive(Clone, Copy, Debug)]
pub struct ToolState<'a> {
    /// The room.
    pub room_id: &'a RoomId,
    /// The state event type.
    pub event_type: &'a str,
    /// The state key.
    pub state_key: &'a str,
    /// The event that holds it.
    pub event_id: &'a EventId,
    /// Who sent that event.
    pub sender: &'a UserId,
    /// Its content: empty when the key was emptied (how Matrix removes state) or the event
    /// redacted.
    pub content: &'a Map<String, Value>,
    /// When it was sent (unknown once redacted).
    pub origin_server_ts: Option<MilliSecondsSinceUnixEpoch>,
}

/// What a state planner makes of one key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatePlan {
    /// The writes to its tables.
    pub writes: Vec<ToolWrite>,
    /// Why the content could not be read, when it could not: the event is recorded as skipped
    /// with that reason (the writes still remove what the key held).
    pub unreadable: Option<String>,
}

/// One statement on a tool's tables: SQL both backends run as it is (`$1`… parameters,
/// `INSERT … ON CONFLICT`), with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolWrite {
    /// The statement, a constant of the tool.
    pub statement: &'static str,
    /// Its parameters, in order.
    pub args: Vec<SqlValue>,
}

/// A value bound to, or read from, a tool's statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqlValue {
    /// `NULL`.
    Null,
    /// An integer.
    Integer(i64),
    /// A text.
    Text(String),
}

impl SqlValue {
    /// The text, if this is one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Self::Integer(value) => Some(*value),
            _ => None,
        }
    }
}

impl From<&str> for SqlValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for SqlValue {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

/// The rooms a community gets for its tools, in the order of [`TOOLS`].
pub fn tool_rooms() -> Vec<RoomPurpose> {
    let mut rooms = Vec::new();
    for room in TOOLS.iter().filter_map(|tool| tool.room) {
        if !rooms.contains(&room) {
            rooms.push(room);
        }
    }
    rooms
}

/// The web app's route of the widget pinned in a community's room of `purpose`, if a tool
/// gives that room one.
pub fn widget_of(purpose: RoomPurpose) -> Option<&'static str> {
    TOOLS
        .iter()
        .filter(|tool| tool.room == Some(purpose))
        .find_map(|tool| tool.widget)
}

/// Every registered tool's writes for one event.
pub fn plan(event: &ToolEvent<'_>) -> Vec<ToolWrite> {
    TOOLS
        .iter()
        .filter_map(|tool| tool.plan)
        .flat_map(|plan| plan(event))
        .collect()
}

/// Every registered tool's writes for the current state of one key.
pub fn plan_state(state: &ToolState<'_>) -> StatePlan {
    let mut plan = StatePlan::default();
    for planned in TOOLS
        .iter()
        .filter_map(|tool| tool.state)
        .map(|planner| planner(state))
    {
        plan.writes.extend(planned.writes);
        plan.unreadable = plan.unreadable.or(planned.unreadable);
    }
    plan
}

/// The tool whose command word is `word`, and that command.
pub fn tool_command(word: &str) -> Option<(&'static Tool, &'static ToolCommand)> {
    TOOLS.iter().find_map(|tool| {
        tool.commands
            .iter()
            .find(|command| command.word == word)
            .map(|command| (*tool, command))
    })
}

/// The tool that announces changes of `event_type`, if one does.
pub fn announcer(event_type: &str) -> Option<&'static Tool> {
    TOOLS.iter().copied().find(|tool| {
        tool.notices
            .as_ref()
            .is_some_and(|notices| notices.announced.contains(&event_type))
    })
}

/// The commented objects whose state events are of `event_type`, if a tool has such.
pub fn commented(event_type: &str) -> Option<&'static ToolComments> {
    TOOLS
        .iter()
        .filter_map(|tool| tool.comments.as_ref())
        .find(|comments| comments.event_type == event_type)
}

/// The tables of the events of every tool's commented objects.
pub fn comment_roots_tables() -> impl Iterator<Item = &'static str> {
    TOOLS
        .iter()
        .filter_map(|tool| tool.comments.as_ref())
        .map(|comments| comments.events_table)
}

/// Whether a registered tool owns events of `event_type`.
pub fn owns(event_type: &str) -> bool {
    TOOLS
        .iter()
        .flat_map(|tool| tool.events.iter())
        .any(|(owned, _)| *owned == event_type)
}

/// The relation types any tool reads again on a reconcile, each once.
pub fn history_relations() -> Vec<&'static str> {
    let mut relations = Vec::new();
    for relation in TOOLS.iter().flat_map(|tool| tool.history_relations) {
        if !relations.contains(relation) {
            relations.push(*relation);
        }
    }
    relations
}

/// Every kind of published object, in the order of [`TOOLS`].
pub fn publication_kinds() -> impl Iterator<Item = PublicationKind> {
    TOOLS
        .iter()
        .filter_map(|tool| tool.publication)
        .map(PublicationKind::of)
}

/// The kind of published object named `name` (`wiki_page`).
pub fn publication_kind(name: &str) -> Option<PublicationKind> {
    publication_kinds().find(|kind| kind.as_str() == name)
}

/// The kind of published object whose state events are of `event_type`.
pub fn publication_kind_of_event(event_type: &str) -> Option<PublicationKind> {
    publication_kinds().find(|kind| kind.event_type() == event_type)
}

/// The kind of published object of the tool named `tool` in the API's paths.
pub fn publication_kind_of_tool(tool: &str) -> Option<PublicationKind> {
    publication_kinds().find(|kind| kind.tool() == tool)
}

impl<'de> serde::Deserialize<'de> for PublicationKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        publication_kind(&name).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown kind of published object `{name}`"))
        })
    }
}

impl utoipa::PartialSchema for PublicationKind {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "The kinds of published objects, each one custom state event type.",
            ))
            .enum_values(Some(publication_kinds().map(PublicationKind::as_str)))
            .into()
    }
}

impl utoipa::ToSchema for PublicationKind {}

/// The columns of one row of a tool's read query, taken in order.
#[derive(Debug)]
pub struct ToolRow {
    columns: std::vec::IntoIter<SqlValue>,
    at: usize,
}

/// A column of a tool's read query that is not what the tool expected: the index is not the
/// one its migrations made.
#[derive(Debug, PartialEq, Eq)]
pub struct UnexpectedColumn {
    /// Which column (from 0).
    pub column: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl std::fmt::Display for UnexpectedColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {} is not {}", self.column, self.expected)
    }
}

impl std::error::Error for UnexpectedColumn {}

impl ToolRow {
    /// Reads `row` from its first column.
    pub fn new(row: Vec<SqlValue>) -> Self {
        Self {
            columns: row.into_iter(),
            at: 0,
        }
    }

    fn next(&mut self) -> (usize, Option<SqlValue>) {
        let at = self.at;
        self.at += 1;
        (at, self.columns.next())
    }

    /// The next column, a text or null.
    pub fn optional_text(&mut self) -> Result<Option<String>, UnexpectedColumn> {
        match self.next() {
            (_, Some(SqlValue::Text(text))) => Ok(Some(text)),
            (_, Some(SqlValue::Null)) => Ok(None),
            (column, _) => Err(UnexpectedColumn {
                column,
                expected: "a text or null",
            }),
        }
    }

    /// The next column, a text.
    pub fn text(&mut self) -> Result<String, UnexpectedColumn> {
        match self.next() {
            (_, Some(SqlValue::Text(text))) => Ok(text),
            (column, _) => Err(UnexpectedColumn {
                column,
                expected: "a text",
            }),
        }
    }

    /// The next column, an integer.
    pub fn integer(&mut self) -> Result<i64, UnexpectedColumn> {
        match self.next() {
            (_, Some(SqlValue::Integer(value))) => Ok(value),
            (column, _) => Err(UnexpectedColumn {
                column,
                expected: "an integer",
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_tool_row_is_read_in_order_and_names_the_column_that_is_wrong() {
        let mut row = ToolRow::new(vec![
            SqlValue::from("$event"),
            SqlValue::Null,
            SqlValue::Integer(7),
        ]);
        assert_eq!(row.text().unwrap(), "$event");
        assert_eq!(row.optional_text().unwrap(), None);
        assert_eq!(row.integer().unwrap(), 7);
        assert_eq!(
            row.text(),
            Err(UnexpectedColumn {
                column: 3,
                expected: "a text"
            })
        );
        let mut row = ToolRow::new(vec![SqlValue::Integer(1)]);
        assert_eq!(
            row.text().unwrap_err().to_string(),
            "column 0 is not a text"
        );
    }

    #[test]
    fn no_two_tools_claim_one_event_type() {
        let mut owners: HashMap<&str, &str> = crate::community::COMMUNITY_EVENT_ROLES
            .iter()
            .map(|(event_type, _)| (*event_type, "the community"))
            .collect();
        for tool in TOOLS {
            for (event_type, _) in tool.events {
                if let Some(owner) = owners.insert(event_type, tool.name) {
                    panic!("{event_type} is claimed by {owner} and by {}", tool.name);
                }
            }
        }
    }

    #[test]
    fn publication_kinds_are_their_tools_and_named_once() {
        let mut names = Vec::new();
        for tool in TOOLS {
            let Some(spec) = tool.publication else {
                continue;
            };
            assert_eq!(
                spec.tool, tool.name,
                "{} publishes as another tool",
                tool.name
            );
            if let Some(room) = tool.room {
                assert_eq!(spec.room, room, "{}'s objects live in its room", tool.name);
            }
            assert!(
                tool.events
                    .iter()
                    .any(|(owned, _)| *owned == spec.event_type),
                "{} does not own {}",
                tool.name,
                spec.event_type
            );
            assert!(!names.contains(&spec.kind), "{} declared twice", spec.kind);
            names.push(spec.kind);
            let kind = PublicationKind::of(spec);
            assert_eq!(publication_kind(spec.kind), Some(kind));
            assert_eq!(publication_kind_of_event(spec.event_type), Some(kind));
            assert_eq!(publication_kind_of_tool(spec.tool), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(
                serde_json::from_value::<PublicationKind>(json).unwrap(),
                kind
            );
        }
        assert!(serde_json::from_value::<PublicationKind>(serde_json::json!("poll")).is_err());
        assert!(
            publication_kinds()
                .filter(|kind| kind.spec().link_target)
                .count()
                <= 1,
            "[[links]] resolve to one kind"
        );
    }

    #[test]
    fn tool_names_are_unique() {
        let mut names: Vec<&str> = TOOLS.iter().map(|tool| tool.name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a tool is registered twice");
    }

    /// Every tool with tables has a migration, and that migration exists for both backends.
    #[test]
    fn every_tool_with_tables_has_a_migration_for_each_backend() {
        let sqlite: Vec<String> = sqlx::migrate!("migrations/sqlite")
            .iter()
            .map(|migration| migration.description.to_string())
            .collect();
        let postgres: Vec<String> = sqlx::migrate!("migrations/postgres")
            .iter()
            .map(|migration| migration.description.to_string())
            .collect();
        for tool in TOOLS {
            assert!(
                !tool.migrations.is_empty() || tool.tables.is_empty(),
                "{} has tables but no migration",
                tool.name
            );
            for migration in tool.migrations {
                for (backend, migrations) in [("sqlite", &sqlite), ("postgres", &postgres)] {
                    assert!(
                        migrations.iter().any(|m| m == migration),
                        "{} has no {backend} migration `{migration}`",
                        tool.name
                    );
                }
            }
        }
    }

    #[test]
    fn tables_are_named_once_and_digested_in_order() {
        let mut names = Vec::new();
        for table in TOOLS.iter().flat_map(|tool| tool.tables) {
            assert!(
                !names.contains(&table.name),
                "{} declared twice",
                table.name
            );
            names.push(table.name);
            assert!(
                table.digest.contains(table.name) && table.digest.contains("ORDER BY"),
                "the digest query of {} reads it in a stable order",
                table.name
            );
        }
    }

    #[test]
    fn a_room_has_one_widget_at_most_and_only_a_tool_room() {
        for room in tool_rooms() {
            let widgets = TOOLS
                .iter()
                .filter(|tool| tool.room == Some(room) && tool.widget.is_some())
                .count();
            assert!(widgets <= 1, "{} has {widgets} widgets", room.as_str());
        }
        for tool in TOOLS {
            assert!(
                tool.widget.is_none() || tool.room.is_some(),
                "{} has a widget but no room to pin it in",
                tool.name
            );
        }
        assert_eq!(widget_of(RoomPurpose::Wiki), Some("wiki"));
        assert_eq!(widget_of(RoomPurpose::Home), None);
    }

    #[test]
    fn rooms_are_only_those_of_registered_tools() {
        assert_eq!(
            tool_rooms(),
            vec![
                RoomPurpose::Wiki,
                RoomPurpose::Blog,
                RoomPurpose::Faq,
                RoomPurpose::Tasks
            ]
        );
    }
}

//! `org.parvis.kanban.card`: a task on a board.

use ruma::{OwnedUserId, events::macros::EventContent};
use serde::{Deserialize, Serialize};

use super::date::CalendarDate;

/// `org.parvis.kanban.card`: a card of the community's tasks room, state key = the card's stable
/// ID. Moving it rewrites this card only: its `position` is a fractional index (see
/// [`super::position`]) that sorts between its new neighbours' as a string.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "org.parvis.kanban.card", kind = State, state_key_type = String)]
pub struct KanbanCardEventContent {
    /// Its title.
    pub title: String,
    /// Its description, in markdown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Its board's ID.
    pub board: String,
    /// Its column's ID on that board.
    pub column: String,
    /// Its place in the column: sorts as a string (byte order); ties by card ID.
    pub position: String,
    /// Who does it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignees: Vec<OwnedUserId>,
    /// Its labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Its first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<CalendarDate>,
    /// Its last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<CalendarDate>,
    /// Its checklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<ChecklistItem>,
    /// The cards that must be done before it starts (their IDs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Archived: off the board.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
    /// Who asked for this revision, when the bot wrote it on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<OwnedUserId>,
}

/// An item of a card's checklist.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    /// What to do.
    pub text: String,
    /// Whether it is done.
    #[serde(default)]
    pub done: bool,
}

impl KanbanCardEventContent {
    /// A card titled `title` in `column` of `board`, at `position`; the rest empty.
    pub fn new(
        title: impl Into<String>,
        board: impl Into<String>,
        column: impl Into<String>,
        position: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            description: String::new(),
            board: board.into(),
            column: column.into(),
            position: position.into(),
            assignees: Vec::new(),
            labels: Vec::new(),
            start: None,
            due: None,
            checklist: Vec::new(),
            depends_on: Vec::new(),
            archived: false,
            requested_by: None,
        }
    }
}

/// The card's JSON schema, written out: the derived one cannot be had, since ruma's derive copies
/// the fields' attributes into the redacted variant it makes.
impl utoipa::PartialSchema for KanbanCardEventContent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ArrayBuilder, ObjectBuilder, schema::Type};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let texts = |description: &str| {
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(description))
        };
        ObjectBuilder::new()
            .description(Some("org.parvis.kanban.card: a task on a board"))
            .property("title", text("Its title"))
            .required("title")
            .property("description", text("Its description, in markdown"))
            .property("board", text("Its board's ID"))
            .required("board")
            .property("column", text("Its column's ID on that board"))
            .required("column")
            .property(
                "position",
                text("Its place in the column, a fractional index: sorts byte by byte, ties by card ID"),
            )
            .required("position")
            .property("assignees", texts("Who does it: Matrix user IDs"))
            .property("labels", texts("Its labels"))
            .property("start", <CalendarDate as utoipa::PartialSchema>::schema())
            .property("due", <CalendarDate as utoipa::PartialSchema>::schema())
            .property(
                "checklist",
                ArrayBuilder::new().items(<ChecklistItem as utoipa::PartialSchema>::schema()),
            )
            .property("depends_on", texts("The cards that must be done before it (their IDs)"))
            .property(
                "archived",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some("Off the board")),
            )
            .property(
                "requested_by",
                text("Who asked for this revision, when the bot wrote it on their behalf"),
            )
            .into()
    }
}

impl utoipa::ToSchema for KanbanCardEventContent {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::events::StateEventContent;
    use serde_json::{from_value, json, to_value};

    use super::*;

    #[test]
    fn card_round_trip() {
        let json = json!({
            "title": "Commander les cartons",
            "description": "Voir *le devis*.",
            "board": "b1",
            "column": "doing",
            "position": "a0V",
            "assignees": ["@alice:ministere.example", "@bob:partenaire.example"],
            "labels": ["achats"],
            "start": "2026-12-14",
            "due": "2026-12-18",
            "checklist": [{"text": "Devis", "done": true}, {"text": "Bon de commande", "done": false}],
            "depends_on": ["c0"],
            "archived": true,
            "requested_by": "@alice:ministere.example",
        });
        let card: KanbanCardEventContent = from_value(json.clone()).unwrap();
        assert_eq!(card.due.unwrap().to_string(), "2026-12-18");
        assert_eq!(card.assignees[1].server_name(), "partenaire.example");
        assert_eq!(to_value(&card).unwrap(), json);
        assert_eq!(card.event_type().to_string(), "org.parvis.kanban.card");
    }

    #[test]
    fn new_card_round_trip_and_bad_fields_refused() {
        let card = KanbanCardEventContent::new("Appeler", "b1", "todo", "a0");
        let json = to_value(&card).unwrap();
        assert_eq!(
            json,
            json!({"title": "Appeler", "board": "b1", "column": "todo", "position": "a0"})
        );
        assert_eq!(from_value::<KanbanCardEventContent>(json).unwrap(), card);
        for bad in [
            json!({"title": "T", "board": "b1", "column": "todo", "position": "a0", "due": "18/12/2026"}),
            json!({"title": "T", "board": "b1", "column": "todo", "position": "a0", "assignees": ["bob"]}),
            json!({"title": "T", "board": "b1", "column": "todo"}),
        ] {
            assert!(
                from_value::<KanbanCardEventContent>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}

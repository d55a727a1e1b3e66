//! `org.parvis.kanban.board`: a kanban board and its columns.

use ruma::events::macros::EventContent;
use serde::{Deserialize, Serialize};

/// `org.parvis.kanban.board`: a board of the community's tasks room, state key = the board's
/// stable ID. A community may hold several. Its columns are listed in their order on the board;
/// cards name their column by its ID, so a column renamed or moved keeps its cards.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent, utoipa::ToSchema)]
#[ruma_event(type = "org.parvis.kanban.board", kind = State, state_key_type = String)]
pub struct KanbanBoardEventContent {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    #[serde(default)]
    pub columns: Vec<KanbanColumn>,
    /// Archived: shown apart, and its cards no longer change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

/// A column of a board.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct KanbanColumn {
    /// Its stable ID on the board.
    pub id: String,
    /// Its name ("To do", "Done").
    pub name: String,
    /// The most cards it should hold at once, if it has a limit (work in progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wip_limit: Option<u32>,
    /// Its cards are done: off "my tasks", and a card moved in is announced as done.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
}

impl KanbanBoardEventContent {
    /// A board with these columns, in order.
    pub fn new(name: impl Into<String>, columns: Vec<KanbanColumn>) -> Self {
        Self {
            name: name.into(),
            columns,
            archived: false,
        }
    }

    /// The board a community starts with: to do, in progress, done.
    pub fn starter(name: impl Into<String>) -> Self {
        let mut done = KanbanColumn::new("done", "Done");
        done.done = true;
        Self::new(
            name,
            vec![
                KanbanColumn::new("todo", "To do"),
                KanbanColumn::new("doing", "In progress"),
                done,
            ],
        )
    }

    /// The column with this ID.
    pub fn column(&self, id: &str) -> Option<&KanbanColumn> {
        self.columns.iter().find(|column| column.id == id)
    }
}

impl KanbanColumn {
    /// A column without a limit.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            wip_limit: None,
            done: false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::events::StateEventContent;
    use serde_json::{from_value, json, to_value};

    use super::*;

    #[test]
    fn board_round_trip() {
        let json = json!({
            "name": "Déménagement",
            "columns": [
                {"id": "todo", "name": "À faire"},
                {"id": "doing", "name": "En cours", "wip_limit": 3},
                {"id": "done", "name": "Fait", "done": true},
            ],
            "archived": true,
        });
        let board: KanbanBoardEventContent = from_value(json.clone()).unwrap();
        assert_eq!(board.column("doing").unwrap().wip_limit, Some(3));
        assert!(board.column("done").unwrap().done);
        assert_eq!(to_value(&board).unwrap(), json);
        assert_eq!(board.event_type().to_string(), "org.parvis.kanban.board");
    }

    #[test]
    fn new_board_round_trip() {
        let board =
            KanbanBoardEventContent::new("Projet", vec![KanbanColumn::new("todo", "À faire")]);
        let json = to_value(&board).unwrap();
        assert_eq!(
            json,
            json!({"name": "Projet", "columns": [{"id": "todo", "name": "À faire"}]})
        );
        assert_eq!(from_value::<KanbanBoardEventContent>(json).unwrap(), board);
        assert!(from_value::<KanbanBoardEventContent>(json!({"columns": []})).is_err());
    }
}

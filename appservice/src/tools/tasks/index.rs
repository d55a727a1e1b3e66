//! The tasks tool's index: its tables, the state planner that keeps them equal to the tasks
//! room's current state, and the queries its routes and commands read.

use serde_json::Value;

use super::{KanbanBoardEventContent, KanbanCardEventContent};
use crate::tools::{
    SqlValue, StatePlan, ToolEvent, ToolRow, ToolState, ToolTable, ToolWrite, UnexpectedColumn,
};

/// The board event type.
pub const BOARD_EVENT: &str = "org.parvis.kanban.board";
/// The card event type.
pub const CARD_EVENT: &str = "org.parvis.kanban.card";

/// The tool's tables, all of current state.
pub const TABLES: &[ToolTable] = &[
    ToolTable {
        name: "kanban_boards",
        history: false,
        digest: "SELECT room_id, board_id, event_id, sender, archived, content \
                 FROM kanban_boards ORDER BY room_id, board_id",
    },
    ToolTable {
        name: "kanban_cards",
        history: false,
        digest: "SELECT room_id, card_id, event_id, sender, board_id, column_id, position, \
                 archived, due, content FROM kanban_cards ORDER BY room_id, card_id",
    },
    ToolTable {
        name: "kanban_assignees",
        history: false,
        digest: "SELECT room_id, card_id, user_id FROM kanban_assignees \
                 ORDER BY room_id, card_id, user_id",
    },
    // History: a rebuild reads back the events of each card's own line of history (linked by
    // `replaces_state`); the digest holds those that root comments, which is what the index
    // shows of them.
    ToolTable {
        name: "kanban_card_events",
        history: true,
        digest: "SELECT e.event_id, e.room_id, e.object_id FROM kanban_card_events e \
                 WHERE EXISTS (SELECT 1 FROM comments c WHERE c.thread_root = e.event_id) \
                 ORDER BY e.event_id",
    },
];

/// The table of every card event, for comments.
pub const CARD_EVENTS: &str = "kanban_card_events";

const PUT_CARD_EVENT: &str = "INSERT INTO kanban_card_events (event_id, room_id, object_id) \
     VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING";

/// The planner of events as delivered: every card event is kept, for the comments in its thread.
pub fn plan(event: &ToolEvent<'_>) -> Vec<ToolWrite> {
    match event.state_key {
        Some(card) if event.event_type == CARD_EVENT && !card.is_empty() => vec![ToolWrite {
            statement: PUT_CARD_EVENT,
            args: vec![
                event.event_id.as_str().into(),
                event.room_id.as_str().into(),
                card.into(),
            ],
        }],
        _ => Vec::new(),
    }
}

/// The comments on a card (`$1` room, `$2` card), oldest first: rows as the `comments` table
/// holds them `(event_id, room_id, thread_root, sender, body, origin_server_ts)`.
pub const CARD_COMMENTS: &str = "SELECT c.event_id, c.room_id, c.thread_root, c.sender, c.body, \
     c.origin_server_ts FROM comments c \
     JOIN kanban_card_events e ON e.event_id = c.thread_root \
     WHERE e.room_id = $1 AND e.object_id = $2 \
     ORDER BY c.origin_server_ts, c.event_id";

const PUT_BOARD: &str = "INSERT INTO kanban_boards (room_id, board_id, event_id, sender, archived, content) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (room_id, board_id) DO UPDATE SET \
     event_id = excluded.event_id, sender = excluded.sender, archived = excluded.archived, \
     content = excluded.content";
const DELETE_BOARD: &str = "DELETE FROM kanban_boards WHERE room_id = $1 AND board_id = $2";
const PUT_CARD: &str = "INSERT INTO kanban_cards (room_id, card_id, event_id, sender, board_id, \
     column_id, position, archived, due, updated_at, content) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (room_id, card_id) DO UPDATE SET \
     event_id = excluded.event_id, sender = excluded.sender, board_id = excluded.board_id, \
     column_id = excluded.column_id, position = excluded.position, archived = excluded.archived, \
     due = excluded.due, updated_at = excluded.updated_at, content = excluded.content";
const DELETE_CARD: &str = "DELETE FROM kanban_cards WHERE room_id = $1 AND card_id = $2";
const DELETE_ASSIGNEES: &str = "DELETE FROM kanban_assignees WHERE room_id = $1 AND card_id = $2";
const PUT_ASSIGNEE: &str = "INSERT INTO kanban_assignees (room_id, card_id, user_id) \
     VALUES ($1, $2, $3) ON CONFLICT (room_id, card_id, user_id) DO NOTHING";

/// The state planner: a board or a card as the room now holds it.
pub fn plan_state(state: &ToolState<'_>) -> StatePlan {
    match state.event_type {
        BOARD_EVENT => plan_board(state),
        CARD_EVENT => plan_card(state),
        _ => StatePlan::default(),
    }
}

fn key_args(state: &ToolState<'_>) -> Vec<SqlValue> {
    vec![state.room_id.as_str().into(), state.state_key.into()]
}

fn write(statement: &'static str, args: Vec<SqlValue>) -> ToolWrite {
    ToolWrite { statement, args }
}

/// Reads a content: `Ok(None)` when the key was emptied or redacted.
fn read<T: serde::de::DeserializeOwned>(
    state: &ToolState<'_>,
    what: &str,
) -> Result<Option<T>, String> {
    if state.content.is_empty() {
        return Ok(None);
    }
    if state.state_key.is_empty() {
        return Err(format!("a {what} needs its ID as state key"));
    }
    serde_json::from_value(Value::Object(state.content.clone()))
        .map(Some)
        .map_err(|error| format!("not a valid {what}: {error}"))
}

fn plan_board(state: &ToolState<'_>) -> StatePlan {
    let delete = write(DELETE_BOARD, key_args(state));
    match read::<KanbanBoardEventContent>(state, "board") {
        Ok(Some(board)) => {
            let mut args = key_args(state);
            args.extend([
                state.event_id.as_str().into(),
                state.sender.as_str().into(),
                i64::from(board.archived).into(),
                Value::Object(state.content.clone()).to_string().into(),
            ]);
            StatePlan {
                writes: vec![write(PUT_BOARD, args)],
                unreadable: None,
            }
        }
        Ok(None) => StatePlan {
            writes: vec![delete],
            unreadable: None,
        },
        Err(reason) => StatePlan {
            writes: vec![delete],
            unreadable: Some(reason),
        },
    }
}

fn plan_card(state: &ToolState<'_>) -> StatePlan {
    let mut writes = vec![write(DELETE_ASSIGNEES, key_args(state))];
    let card = match read::<KanbanCardEventContent>(state, "card") {
        Ok(Some(card)) => card,
        Ok(None) => {
            writes.push(write(DELETE_CARD, key_args(state)));
            return StatePlan {
                writes,
                unreadable: None,
            };
        }
        Err(reason) => {
            writes.push(write(DELETE_CARD, key_args(state)));
            return StatePlan {
                writes,
                unreadable: Some(reason),
            };
        }
    };
    let mut args = key_args(state);
    args.extend([
        state.event_id.as_str().into(),
        state.sender.as_str().into(),
        card.board.as_str().into(),
        card.column.as_str().into(),
        card.position.as_str().into(),
        i64::from(card.archived).into(),
        card.due
            .map_or(SqlValue::Null, |due| due.to_string().into()),
        state
            .origin_server_ts
            .map_or(0, |ts| i64::from(ts.get()))
            .into(),
        Value::Object(state.content.clone()).to_string().into(),
    ]);
    writes.push(write(PUT_CARD, args));
    let mut assignees: Vec<&str> = card.assignees.iter().map(|user| user.as_str()).collect();
    assignees.sort_unstable();
    assignees.dedup();
    for user in assignees {
        let mut args = key_args(state);
        args.push(user.into());
        writes.push(write(PUT_ASSIGNEE, args));
    }
    StatePlan {
        writes,
        unreadable: None,
    }
}

/// The boards of a room (`$1`): rows `(board_id, event_id, content)`.
pub const ROOM_BOARDS: &str =
    "SELECT board_id, event_id, content FROM kanban_boards WHERE room_id = $1 ORDER BY board_id";

/// One board (`$1` room, `$2` board): a row as [`ROOM_BOARDS`]'.
pub const BOARD: &str =
    "SELECT board_id, event_id, content FROM kanban_boards WHERE room_id = $1 AND board_id = $2";

/// The cards of a room (`$1`), of every board: rows as [`CARD_COLUMNS`] reads them.
pub const ROOM_CARDS: &str = "SELECT card_id, event_id, sender, updated_at, content \
     FROM kanban_cards WHERE room_id = $1";

/// The cards of one board (`$1` room, `$2` board).
pub const BOARD_CARDS: &str = "SELECT card_id, event_id, sender, updated_at, content \
     FROM kanban_cards WHERE room_id = $1 AND board_id = $2";

/// One card (`$1` room, `$2` card).
pub const CARD: &str = "SELECT card_id, event_id, sender, updated_at, content \
     FROM kanban_cards WHERE room_id = $1 AND card_id = $2";

/// Where a card moves (`$1` room, `$2` card, `$3` its new column, `$4` the card it goes right
/// after, `''` for the top): one row, the card as [`CARD`] reads it, then the number of other
/// open cards in that column, the position of the card it goes after (null when that card is
/// not in the column), and the lowest position above it (null at the bottom). Positions
/// compare byte by byte (BINARY in SQLite, the column's "C" collation in PostgreSQL); cards
/// sharing the lower position (concurrent moves) are passed, so the new key goes strictly
/// between two different ones.
pub const MOVE_PLACE: &str = "SELECT c.card_id, c.event_id, c.sender, c.updated_at, c.content, \
     (SELECT COUNT(*) FROM kanban_cards o WHERE o.room_id = $1 AND o.board_id = c.board_id \
      AND o.column_id = $3 AND o.archived = 0 AND o.card_id <> $2), \
     (SELECT o.position FROM kanban_cards o WHERE o.room_id = $1 AND o.card_id = $4 \
      AND o.board_id = c.board_id AND o.column_id = $3 AND o.archived = 0 AND o.card_id <> $2), \
     (SELECT MIN(o.position) FROM kanban_cards o WHERE o.room_id = $1 AND o.board_id = c.board_id \
      AND o.column_id = $3 AND o.archived = 0 AND o.card_id <> $2 AND o.position > \
      COALESCE((SELECT p.position FROM kanban_cards p WHERE p.room_id = $1 AND p.card_id = $4), '')) \
     FROM kanban_cards c WHERE c.room_id = $1 AND c.card_id = $2";

/// The cards assigned to someone (`$1`), not archived, in any room: rows `(room_id, card_id,
/// event_id, sender, updated_at, content)`.
pub const ASSIGNED_CARDS: &str = "SELECT c.room_id, c.card_id, c.event_id, c.sender, \
     c.updated_at, c.content FROM kanban_assignees a \
     JOIN kanban_cards c ON c.room_id = a.room_id AND c.card_id = a.card_id \
     WHERE a.user_id = $1 AND c.archived = 0";

/// A board as the index holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedBoard {
    /// Its ID (state key).
    pub id: String,
    /// The event holding it.
    pub event_id: String,
    /// Its content.
    pub content: KanbanBoardEventContent,
}

/// A card as the index holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedCard {
    /// Its ID (state key).
    pub id: String,
    /// The event holding it.
    pub event_id: String,
    /// Who wrote it last.
    pub sender: String,
    /// When, in milliseconds since the epoch.
    pub updated_at: i64,
    /// Its content.
    pub content: KanbanCardEventContent,
}

/// Why an indexed row could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    /// A column is not what the migration made.
    #[error(transparent)]
    Column(#[from] UnexpectedColumn),
    /// The content the planner checked no longer parses.
    #[error("indexed content: {0}")]
    Content(#[from] serde_json::Error),
}

/// Reads a row of [`ROOM_BOARDS`].
pub fn board_of(row: Vec<SqlValue>) -> Result<IndexedBoard, RowError> {
    let mut row = ToolRow::new(row);
    Ok(IndexedBoard {
        id: row.text()?,
        event_id: row.text()?,
        content: serde_json::from_str(&row.text()?)?,
    })
}

/// Reads a row of [`ROOM_CARDS`] or [`BOARD_CARDS`] (or the end of one of
/// [`ASSIGNED_CARDS`], past its room).
pub fn card_of(row: &mut ToolRow) -> Result<IndexedCard, RowError> {
    Ok(IndexedCard {
        id: row.text()?,
        event_id: row.text()?,
        sender: row.text()?,
        updated_at: row.integer()?,
        content: serde_json::from_str(&row.text()?)?,
    })
}

/// Sorts cards the way every client does: by position byte by byte, then by ID, so that two
/// cards given one position by concurrent moves keep one order everywhere.
pub fn sort_cards(cards: &mut [IndexedCard]) {
    cards.sort_by(|a, b| {
        a.content
            .position
            .as_bytes()
            .cmp(b.content.position.as_bytes())
            .then_with(|| a.id.as_bytes().cmp(b.id.as_bytes()))
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::{MilliSecondsSinceUnixEpoch, UInt, event_id, room_id, user_id};
    use serde_json::json;

    use super::*;

    fn state<'a>(
        event_type: &'a str,
        key: &'a str,
        content: &'a serde_json::Map<String, Value>,
    ) -> ToolState<'a> {
        ToolState {
            room_id: room_id!("!tasks:hs"),
            event_type,
            state_key: key,
            event_id: event_id!("$card"),
            sender: user_id!("@alice:hs"),
            content,
            origin_server_ts: Some(MilliSecondsSinceUnixEpoch(UInt::new(7).unwrap())),
        }
    }

    fn object(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn statements(plan: &StatePlan) -> Vec<&str> {
        plan.writes.iter().map(|write| write.statement).collect()
    }

    #[test]
    fn a_card_is_indexed_with_each_assignee_once() {
        let content = object(json!({
            "title": "Appeler", "board": "b1", "column": "todo", "position": "a0",
            "due": "2026-12-18",
            "assignees": ["@bob:hs", "@alice:hs", "@bob:hs"],
        }));
        let plan = plan_state(&state(CARD_EVENT, "c1", &content));
        assert_eq!(plan.unreadable, None);
        assert_eq!(
            statements(&plan),
            [DELETE_ASSIGNEES, PUT_CARD, PUT_ASSIGNEE, PUT_ASSIGNEE]
        );
        assert_eq!(plan.writes[1].args[8], SqlValue::from("2026-12-18"));
        assert_eq!(plan.writes[1].args[9], SqlValue::Integer(7));
        assert_eq!(plan.writes[2].args[2], SqlValue::from("@alice:hs"));
        assert_eq!(plan.writes[3].args[2], SqlValue::from("@bob:hs"));
    }

    #[test]
    fn an_emptied_card_goes_and_a_malformed_one_goes_with_its_reason() {
        let empty = serde_json::Map::new();
        let plan = plan_state(&state(CARD_EVENT, "c1", &empty));
        assert_eq!(statements(&plan), [DELETE_ASSIGNEES, DELETE_CARD]);
        assert_eq!(plan.unreadable, None);

        let malformed = object(json!({"title": "Sans colonne", "board": "b1"}));
        let plan = plan_state(&state(CARD_EVENT, "c1", &malformed));
        assert_eq!(statements(&plan), [DELETE_ASSIGNEES, DELETE_CARD]);
        assert!(plan.unreadable.unwrap().starts_with("not a valid card"));

        let keyless = object(json!({"name": "Projet"}));
        let plan = plan_state(&state(BOARD_EVENT, "", &keyless));
        assert_eq!(statements(&plan), [DELETE_BOARD]);
        assert_eq!(
            plan.unreadable.as_deref(),
            Some("a board needs its ID as state key")
        );
    }

    #[test]
    fn a_board_is_indexed_and_other_types_are_not_the_tools() {
        let content = object(json!({"name": "Projet", "columns": [], "archived": true}));
        let plan = plan_state(&state(BOARD_EVENT, "b1", &content));
        assert_eq!(statements(&plan), [PUT_BOARD]);
        assert_eq!(plan.writes[0].args[4], SqlValue::Integer(1));
        assert_eq!(
            plan_state(&state("org.parvis.wiki.page", "p1", &content)),
            StatePlan::default()
        );
    }

    #[test]
    fn ties_in_position_sort_by_id_byte_by_byte() {
        let card = |id: &str, position: &str| IndexedCard {
            id: id.to_owned(),
            event_id: format!("${id}"),
            sender: "@alice:hs".to_owned(),
            updated_at: 0,
            content: KanbanCardEventContent::new(id, "b1", "todo", position),
        };
        let mut cards = vec![
            card("b", "a1"),
            card("a", "a1"),
            card("z", "Zz"),
            card("c", "a0"),
        ];
        sort_cards(&mut cards);
        let order: Vec<&str> = cards.iter().map(|card| card.id.as_str()).collect();
        // "Zz" < "a0": uppercase sorts before lowercase, as in JavaScript.
        assert_eq!(order, ["z", "c", "a", "b"]);
    }
}

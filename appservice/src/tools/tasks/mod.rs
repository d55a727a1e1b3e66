//! Tasks: kanban boards of cards, and their Gantt view.
//!
//! Boards and cards are state events of the community's tasks room (state key = their ID), so
//! every member's homeserver holds them and agrees on them: two members moving one card at once
//! end in the state Matrix's state resolution picks, which the index follows
//! ([`index::plan_state`] on the room's current state). This folder holds the two events, the
//! positions of cards in a column (fractional indexes, the web app's own keys), the calendar
//! dates cards carry, the Gantt arithmetic (critical path, slack), the checks a card passes
//! before Parvis writes it for someone, the index, and the routes.

pub mod api;
pub mod board;
pub mod card;
pub mod command;
pub mod date;
pub mod gantt;
pub mod index;
pub mod position;

pub use board::{KanbanBoardEventContent, KanbanColumn};
pub use card::{ChecklistItem, KanbanCardEventContent};
pub use date::CalendarDate;

use crate::{
    events::RoomPurpose,
    role::Role,
    tools::{Tool, ToolCommand, ToolComments, ToolNotices},
};

/// The tasks tool: its room holds the community's boards and their cards.
pub const TOOL: Tool = Tool {
    name: "tasks",
    room: Some(RoomPurpose::Tasks),
    widget: Some("tasks"),
    events: &[
        (index::BOARD_EVENT, Role::Member),
        (index::CARD_EVENT, Role::Member),
    ],
    help: &[
        "!parvis task add \"Title\" [--column \"To do\"] [--due 2026-12-15] [--assign @user:server] — add a card to the community's board (its tasks: kanban boards and a Gantt view, in the web app or the Tasks room's widget).",
        "!parvis task move <#id> \"Done\" · !parvis task assign <#id> @user:server — move or assign a card; the Tasks room is told, and the person assigned notified.",
        "!parvis tasks [--mine] — the open cards (yours only with --mine).",
    ],
    migrations: &["tasks", "task comments", "task positions byte order"],
    tables: index::TABLES,
    history_relations: &[],
    plan: Some(index::plan),
    state: Some(index::plan_state),
    publication: None,
    commands: &[
        ToolCommand {
            word: "task",
            usage: command::TASK_USAGE,
            run: command::run_task,
        },
        ToolCommand {
            word: "tasks",
            usage: command::TASKS_USAGE,
            run: command::run_tasks,
        },
    ],
    notices: Some(ToolNotices {
        announced: &[index::CARD_EVENT],
        context: &[index::BOARD_EVENT],
        notice: command::notice,
    }),
    comments: Some(ToolComments {
        event_type: index::CARD_EVENT,
        events_table: index::CARD_EVENTS,
    }),
};

/// What is wrong with a card someone asks Parvis to write, in words for people. Each is refused
/// (400) with its own `errcode`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardProblem {
    /// The title is empty.
    #[error("the card has no title")]
    NoTitle,
    /// The board does not exist in this room.
    #[error("there is no board {0} here")]
    UnknownBoard(String),
    /// The board is archived: its cards no longer change.
    #[error("the board “{0}” is archived: restore it before changing its cards")]
    ArchivedBoard(String),
    /// The column is not one of the board's.
    #[error("the board “{board}” has no column {column}: its columns are {known}")]
    UnknownColumn {
        /// The board's name.
        board: String,
        /// The column asked for.
        column: String,
        /// The board's columns, by name.
        known: String,
    },
    /// The position is not a fractional index.
    #[error("the position is not valid: {0}")]
    BadPosition(#[from] position::PositionError),
    /// The due date is before the start.
    #[error("the card is due ({due}) before it starts ({start})")]
    DueBeforeStart {
        /// Its start.
        start: CalendarDate,
        /// Its due date.
        due: CalendarDate,
    },
    /// Its dependencies would make a circle.
    #[error(transparent)]
    DependencyCycle(gantt::GanttError),
}

impl CardProblem {
    /// The Matrix-style error code the API answers with.
    pub fn errcode(&self) -> &'static str {
        match self {
            Self::NoTitle | Self::BadPosition(_) => "M_INVALID_PARAM",
            Self::UnknownBoard(_) => "ORG.PARVIS_UNKNOWN_BOARD",
            Self::ArchivedBoard(_) => "ORG.PARVIS_ARCHIVED_BOARD",
            Self::UnknownColumn { .. } => "ORG.PARVIS_UNKNOWN_COLUMN",
            Self::DueBeforeStart { .. } => "ORG.PARVIS_DUE_BEFORE_START",
            Self::DependencyCycle(_) => "ORG.PARVIS_DEPENDENCY_CYCLE",
        }
    }
}

/// What a card's write warns of without being refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardWarning {
    /// Its column now holds more cards than its work-in-progress limit. Allowed, because a
    /// limit is the team's signal to finish work before starting more, not a lock: refusing
    /// would stop the urgent card the team decided to take, and Matrix clients that write the
    /// room's state directly are not held by it anyway. The board shows the column over its
    /// limit, and the writer is told.
    OverWipLimit {
        /// The column's name.
        column: String,
        /// Its limit.
        limit: u32,
        /// The cards it would hold.
        cards: usize,
    },
}

impl std::fmt::Display for CardWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OverWipLimit {
                column,
                limit,
                cards,
            } => write!(
                f,
                "the column “{column}” now holds {cards} cards, over its limit of {limit}"
            ),
        }
    }
}

/// The positions of the cards in `column` of `board` that are not archived, `except` left out,
/// sorted byte by byte: a card placed among them, and counted against the column's limit.
pub fn column_positions<'a>(
    cards: impl IntoIterator<Item = (&'a str, &'a KanbanCardEventContent)>,
    board: &str,
    column: &str,
    except: &str,
) -> Vec<&'a str> {
    let mut positions: Vec<&str> = cards
        .into_iter()
        .filter(|(id, card)| {
            *id != except && !card.archived && card.board == board && card.column == column
        })
        .map(|(_, card)| card.position.as_str())
        .collect();
    positions.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    positions
}

/// A position after the last of a column's sorted `positions`: its end.
pub fn end_of_column(positions: &[&str]) -> Result<String, position::PositionError> {
    position::key_between(positions.last().copied(), None)
}

/// Every card's ID and dependencies, what a card's dependencies are checked against.
pub fn dependencies_of<'a>(
    cards: impl IntoIterator<Item = (&'a str, &'a KanbanCardEventContent)>,
) -> Vec<(String, Vec<String>)> {
    cards
        .into_iter()
        .map(|(id, card)| (id.to_owned(), card.depends_on.clone()))
        .collect()
}

/// What the room holds that a card is checked against.
#[derive(Clone, Copy, Debug)]
pub struct CardContext<'a> {
    /// The card's board, if the room has it.
    pub board: Option<&'a KanbanBoardEventContent>,
    /// How many cards, other than this one, are in its column now.
    pub others_in_column: usize,
    /// Every other card of the room: ID and dependencies, to look for circles.
    pub dependencies: &'a [(String, Vec<String>)],
}

/// Checks card `id` before Parvis writes it for someone: refused with the first problem, or
/// allowed with what it warns of.
pub fn check_card(
    id: &str,
    card: &KanbanCardEventContent,
    context: &CardContext<'_>,
) -> Result<Vec<CardWarning>, CardProblem> {
    if card.title.trim().is_empty() {
        return Err(CardProblem::NoTitle);
    }
    let board = context
        .board
        .ok_or_else(|| CardProblem::UnknownBoard(card.board.clone()))?;
    if board.archived {
        return Err(CardProblem::ArchivedBoard(board.name.clone()));
    }
    let column = board
        .column(&card.column)
        .ok_or_else(|| CardProblem::UnknownColumn {
            board: board.name.clone(),
            column: card.column.clone(),
            known: board
                .columns
                .iter()
                .map(|column| format!("“{}” ({})", column.name, column.id))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    position::validate(&card.position)?;
    if let (Some(start), Some(due)) = (card.start, card.due)
        && due < start
    {
        return Err(CardProblem::DueBeforeStart { start, due });
    }
    check_dependencies(id, card, context.dependencies)?;
    let mut warnings = Vec::new();
    if let Some(limit) = column.wip_limit
        && !card.archived
        && context.others_in_column + 1 > usize::try_from(limit).unwrap_or(usize::MAX)
    {
        warnings.push(CardWarning::OverWipLimit {
            column: column.name.clone(),
            limit,
            cards: context.others_in_column + 1,
        });
    }
    Ok(warnings)
}

/// Refuses dependencies that would make a circle with the room's other cards (dates play no
/// part: any two cards, dated or not).
fn check_dependencies(
    id: &str,
    card: &KanbanCardEventContent,
    others: &[(String, Vec<String>)],
) -> Result<(), CardProblem> {
    if card.depends_on.is_empty() {
        return Ok(());
    }
    let day = CalendarDate::from_days(0);
    let mut graph: Vec<gantt::PlannedCard> = others
        .iter()
        .filter(|(other, _)| other != id)
        .map(|(other, depends_on)| gantt::PlannedCard {
            id: other.clone(),
            start: day,
            due: day,
            depends_on: depends_on.clone(),
        })
        .collect();
    graph.push(gantt::PlannedCard {
        id: id.to_owned(),
        start: day,
        due: day,
        depends_on: card.depends_on.clone(),
    });
    match gantt::schedule(&graph) {
        Err(cycle @ gantt::GanttError::Cycle(_)) => Err(CardProblem::DependencyCycle(cycle)),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn board() -> KanbanBoardEventContent {
        let mut doing = KanbanColumn::new("doing", "En cours");
        doing.wip_limit = Some(2);
        KanbanBoardEventContent::new("Projet", vec![KanbanColumn::new("todo", "À faire"), doing])
    }

    fn check(
        card: &KanbanCardEventContent,
        board: Option<&KanbanBoardEventContent>,
        others_in_column: usize,
        dependencies: &[(String, Vec<String>)],
    ) -> Result<Vec<CardWarning>, CardProblem> {
        check_card(
            "c9",
            card,
            &CardContext {
                board,
                others_in_column,
                dependencies,
            },
        )
    }

    #[test]
    fn each_problem_is_named_with_its_errcode() {
        let board = board();
        let card = KanbanCardEventContent::new("Appeler", "b1", "todo", "a0");
        assert_eq!(check(&card, Some(&board), 0, &[]), Ok(vec![]));

        let problem = check(&card, None, 0, &[]).unwrap_err();
        assert_eq!(
            (problem.errcode(), problem.to_string().as_str()),
            ("ORG.PARVIS_UNKNOWN_BOARD", "there is no board b1 here")
        );
        let mut elsewhere = card.clone();
        elsewhere.column = "done".to_owned();
        let problem = check(&elsewhere, Some(&board), 0, &[]).unwrap_err();
        assert_eq!(problem.errcode(), "ORG.PARVIS_UNKNOWN_COLUMN");
        assert_eq!(
            problem.to_string(),
            "the board “Projet” has no column done: its columns are “À faire” (todo), “En cours” (doing)"
        );
        let mut archived = board.clone();
        archived.archived = true;
        assert_eq!(
            check(&card, Some(&archived), 0, &[]).unwrap_err().errcode(),
            "ORG.PARVIS_ARCHIVED_BOARD"
        );
        let mut late = card.clone();
        late.start = Some(CalendarDate::parse("2026-12-18").unwrap());
        late.due = Some(CalendarDate::parse("2026-12-14").unwrap());
        assert_eq!(
            check(&late, Some(&board), 0, &[]).unwrap_err().to_string(),
            "the card is due (2026-12-14) before it starts (2026-12-18)"
        );
        let mut misplaced = card.clone();
        misplaced.position = "a00".to_owned();
        assert_eq!(
            check(&misplaced, Some(&board), 0, &[])
                .unwrap_err()
                .errcode(),
            "M_INVALID_PARAM"
        );
        let mut untitled = card;
        untitled.title = "  ".to_owned();
        assert_eq!(
            check(&untitled, Some(&board), 0, &[]),
            Err(CardProblem::NoTitle)
        );
    }

    #[test]
    fn a_column_holds_its_boards_open_cards_but_the_one_placed() {
        let card = |board: &str, column: &str, position: &str| {
            KanbanCardEventContent::new("T", board, column, position)
        };
        let mut archived = card("b1", "todo", "a2");
        archived.archived = true;
        let cards = [
            ("c1", card("b1", "todo", "a1")),
            ("c2", card("b1", "todo", "Zz")),
            ("c3", card("b2", "todo", "a5")),
            ("c4", card("b1", "doing", "a6")),
            ("c5", archived),
            ("c6", card("b1", "todo", "a3")),
        ];
        let pairs = || cards.iter().map(|(id, card)| (*id, card));
        assert_eq!(column_positions(pairs(), "b1", "todo", "c6"), ["Zz", "a1"]);
        assert_eq!(end_of_column(&["Zz", "a1"]).unwrap(), "a2");
        assert_eq!(end_of_column(&[]).unwrap(), "a0");
        assert_eq!(
            CardWarning::OverWipLimit {
                column: "En cours".to_owned(),
                limit: 2,
                cards: 3
            }
            .to_string(),
            "the column “En cours” now holds 3 cards, over its limit of 2"
        );
    }

    #[test]
    fn a_full_column_warns_and_does_not_refuse() {
        let board = board();
        let card = KanbanCardEventContent::new("Appeler", "b1", "doing", "a0");
        assert_eq!(check(&card, Some(&board), 1, &[]), Ok(vec![]));
        assert_eq!(
            check(&card, Some(&board), 2, &[]),
            Ok(vec![CardWarning::OverWipLimit {
                column: "En cours".to_owned(),
                limit: 2,
                cards: 3
            }])
        );
    }

    #[test]
    fn a_dependency_circle_is_refused_with_the_cards_named() {
        let board = board();
        let mut card = KanbanCardEventContent::new("Livrer", "b1", "todo", "a0");
        card.depends_on = vec!["c2".to_owned()];
        // c2 depends on c1, which depends on c9: the card being written.
        let others = vec![
            ("c1".to_owned(), vec!["c9".to_owned()]),
            ("c2".to_owned(), vec!["c1".to_owned()]),
            ("c3".to_owned(), vec![]),
        ];
        let problem = check(&card, Some(&board), 0, &others).unwrap_err();
        assert_eq!(problem.errcode(), "ORG.PARVIS_DEPENDENCY_CYCLE");
        let text = problem.to_string();
        for id in ["c1", "c2", "c9"] {
            assert!(text.contains(id), "{text}");
        }
        assert!(!text.contains("c3"), "{text}");
        // Without the circle, the same dependencies pass.
        let others = vec![
            ("c1".to_owned(), vec![]),
            ("c2".to_owned(), vec!["c1".to_owned()]),
        ];
        assert_eq!(check(&card, Some(&board), 0, &others), Ok(vec![]));
    }
}

//! Tasks without widgets (Element X, Tchap X): the `!parvis task …` and `!parvis tasks`
//! commands, and the notices that tell the tasks room what people did to its cards. Sans-I/O:
//! the room's boards and cards in, what to write and say out.

use ruma::{OwnedUserId, UserId};
use serde_json::Value;

use super::{
    CardContext, KanbanBoardEventContent, KanbanCardEventContent, check_card, column_positions,
    date::CalendarDate,
    dependencies_of, end_of_column,
    index::{BOARD_EVENT, CARD_EVENT},
};
use crate::{
    events::JsonObject,
    tools::{CommandCall, CommandOutcome, StateChange, StateEntry, StateWrite, ToolNotice},
};

/// Usage of `!parvis task`.
pub const TASK_USAGE: &str = "!parvis task add \"Title\" [--column \"To do\"] [--due 2026-12-15] [--assign @user:server] [--board \"Board\"] · !parvis task move <#id> \"Column\" · !parvis task assign <#id> @user:server";
/// Usage of `!parvis tasks`.
pub const TASKS_USAGE: &str = "!parvis tasks [--mine]";
/// The name of the board a command makes when the community has none yet.
const FIRST_BOARD: &str = "Tasks";
/// Cards listed by `!parvis tasks` at most.
const LISTED: usize = 20;

/// A board of the room, read from its state.
struct Board {
    id: String,
    content: KanbanBoardEventContent,
}

/// A card of the room, read from its state.
struct Card {
    id: String,
    content: KanbanCardEventContent,
}

/// The boards and cards of the room's state; entries that do not parse are left out, as the
/// index leaves them out.
fn read_state(state: &[StateEntry]) -> (Vec<Board>, Vec<Card>) {
    let mut boards = Vec::new();
    let mut cards = Vec::new();
    for entry in state {
        let content = Value::Object(entry.content.clone());
        match entry.event_type.as_str() {
            BOARD_EVENT => {
                if let Ok(content) = serde_json::from_value(content) {
                    boards.push(Board {
                        id: entry.state_key.clone(),
                        content,
                    });
                }
            }
            CARD_EVENT => {
                if let Ok(content) = serde_json::from_value(content) {
                    cards.push(Card {
                        id: entry.state_key.clone(),
                        content,
                    });
                }
            }
            _ => {}
        }
    }
    boards.sort_by(|a, b| (&a.content.name, &a.id).cmp(&(&b.content.name, &b.id)));
    (boards, cards)
}

/// How a card is named to people: its short ID, which commands accept.
fn short(id: &str) -> String {
    format!("#{}", id.chars().take(6).collect::<String>())
}

fn refused(text: impl std::fmt::Display) -> CommandOutcome {
    CommandOutcome::answer(false, format!("❌ {text}"))
}

fn object(value: &impl serde::Serialize) -> JsonObject {
    match serde_json::to_value(value) {
        Ok(Value::Object(object)) => object,
        _ => JsonObject::new(),
    }
}

/// `!parvis task …`.
pub fn run_task(call: &CommandCall<'_>) -> CommandOutcome {
    let Some((verb, rest)) = call.args.split_first() else {
        return refused(format!("missing what to do: {TASK_USAGE}"));
    };
    if !call.writable.contains(&CARD_EVENT) {
        return refused(format!(
            "{} may not change cards in this community's tasks (readers only read).",
            call.sender
        ));
    }
    match verb.as_str() {
        "add" => add(call, rest),
        "move" => move_card(call, rest),
        "assign" => assign(call, rest),
        other => refused(format!("unknown command `task {other}`: {TASK_USAGE}")),
    }
}

/// A command's arguments: the plain ones, and the `--name value` options.
type Arguments<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);

/// Splits `--name value` options from the other arguments.
fn options<'a>(args: &'a [String], known: &[&str]) -> Result<Arguments<'a>, String> {
    let mut plain = Vec::new();
    let mut named = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.strip_prefix("--") {
            Some(name) if known.contains(&name) => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("--{name} needs a value"))?;
                named.push((name, value.as_str()));
            }
            Some(name) => return Err(format!("unknown option --{name}")),
            None => plain.push(arg.as_str()),
        }
    }
    Ok((plain, named))
}

fn option<'a>(named: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    named
        .iter()
        .rev()
        .find(|(option, _)| *option == name)
        .map(|(_, value)| *value)
}

/// The column of `board` named `name` (by its name, any case, or its ID).
fn column_named<'a>(board: &'a KanbanBoardEventContent, name: &str) -> Option<&'a str> {
    board
        .columns
        .iter()
        .find(|column| column.id == name || column.name.to_lowercase() == name.to_lowercase())
        .map(|column| column.id.as_str())
}

fn column_list(board: &KanbanBoardEventContent) -> String {
    board
        .columns
        .iter()
        .map(|column| format!("“{}”", column.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The room's cards as the domain's helpers read them: ID and content.
fn pairs(cards: &[Card]) -> impl Iterator<Item = (&str, &KanbanCardEventContent)> {
    cards.iter().map(|card| (card.id.as_str(), &card.content))
}

/// The position after the last card of a column.
fn after_last(cards: &[Card], board: &str, column: &str, except: &str) -> Result<String, String> {
    end_of_column(&column_positions(pairs(cards), board, column, except))
        .map_err(|error| error.to_string())
}

/// Checks a card as the API does; the warnings in words.
fn checked(
    id: &str,
    card: &KanbanCardEventContent,
    board: &KanbanBoardEventContent,
    cards: &[Card],
) -> Result<Vec<String>, String> {
    let dependencies = dependencies_of(pairs(cards));
    let others_in_column = column_positions(pairs(cards), &card.board, &card.column, id).len();
    let warnings = check_card(
        id,
        card,
        &CardContext {
            board: Some(board),
            others_in_column,
            dependencies: &dependencies,
        },
    )
    .map_err(|problem| problem.to_string())?;
    Ok(warnings
        .iter()
        .map(|warning| format!("⚠️ {warning}."))
        .collect())
}

fn add(call: &CommandCall<'_>, args: &[String]) -> CommandOutcome {
    let (plain, named) = match options(args, &["column", "due", "assign", "board"]) {
        Ok(parsed) => parsed,
        Err(error) => return refused(format!("{error}: {TASK_USAGE}")),
    };
    let Some(title) = plain
        .first()
        .map(|title| title.trim())
        .filter(|t| !t.is_empty())
    else {
        return refused(format!("missing the card's title: {TASK_USAGE}"));
    };
    if plain.len() > 1 {
        return refused(format!(
            "quote a title of several words: !parvis task add \"{}\"",
            plain.join(" ")
        ));
    }
    let due = match option(&named, "due").map(CalendarDate::parse).transpose() {
        Ok(due) => due,
        Err(error) => return refused(error),
    };
    let assignees = match option(&named, "assign").map(UserId::parse).transpose() {
        Ok(user) => user.into_iter().collect::<Vec<OwnedUserId>>(),
        Err(_) => {
            return refused(
                "--assign takes a Matrix user ID, like @marie.dupont:ministere.example",
            );
        }
    };
    let (boards, cards) = read_state(call.state);
    let mut writes = Vec::new();
    let board = match option(&named, "board") {
        Some(name) => match boards.iter().find(|board| {
            board.id == name || board.content.name.to_lowercase() == name.to_lowercase()
        }) {
            Some(board) => Board {
                id: board.id.clone(),
                content: board.content.clone(),
            },
            None => return refused(format!("there is no board “{name}” here")),
        },
        None => match boards.iter().find(|board| !board.content.archived) {
            Some(board) => Board {
                id: board.id.clone(),
                content: board.content.clone(),
            },
            None => {
                // The community's first card makes its first board.
                if !call.writable.contains(&BOARD_EVENT) {
                    return refused("this community has no board yet, and you may not make one");
                }
                let board = Board {
                    id: seeded_id(call.seed, "board"),
                    content: KanbanBoardEventContent::starter(FIRST_BOARD),
                };
                writes.push(StateWrite {
                    event_type: BOARD_EVENT,
                    state_key: board.id.clone(),
                    content: object(&board.content),
                });
                board
            }
        },
    };
    let column = match option(&named, "column") {
        Some(name) => match column_named(&board.content, name) {
            Some(column) => column.to_owned(),
            None => {
                return refused(format!(
                    "the board “{}” has no column “{name}”: its columns are {}",
                    board.content.name,
                    column_list(&board.content)
                ));
            }
        },
        None => match board.content.columns.first() {
            Some(column) => column.id.clone(),
            None => return refused(format!("the board “{}” has no column", board.content.name)),
        },
    };
    let id = seeded_id(call.seed, "card");
    let position = match after_last(&cards, &board.id, &column, &id) {
        Ok(position) => position,
        Err(error) => return refused(error),
    };
    let mut card = KanbanCardEventContent::new(title, board.id.clone(), column, position);
    card.due = due;
    card.assignees = assignees;
    card.requested_by = Some(call.sender.to_owned());
    let warnings = match checked(&id, &card, &board.content, &cards) {
        Ok(warnings) => warnings,
        Err(problem) => return refused(problem),
    };
    let after = object(&card);
    let notice = card_notice(call.sender, None, &card, &board.content);
    writes.push(StateWrite {
        event_type: CARD_EVENT,
        state_key: id.clone(),
        content: after,
    });
    written(
        format!(
            "✅ Card “{title}” ({}) added to “{}” on the board “{}”.",
            short(&id),
            column_name(&board.content, &card.column),
            board.content.name
        ),
        warnings,
        writes,
        notice,
    )
}

fn written(
    reply: String,
    warnings: Vec<String>,
    writes: Vec<StateWrite>,
    notice: Option<ToolNotice>,
) -> CommandOutcome {
    let mut reply = reply;
    for warning in warnings {
        reply.push('\n');
        reply.push_str(&warning);
    }
    CommandOutcome {
        success: true,
        mentions: notice
            .as_ref()
            .map(|notice| notice.mentions.clone())
            .unwrap_or_default(),
        reply,
        writes,
        notice,
    }
}

/// An ID for an object a command makes: from the command's seed, so a retry remakes the same.
fn seeded_id(seed: &str, what: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{seed}/{what}").as_bytes());
    hex::encode(digest)[..12].to_owned()
}

fn column_name<'a>(board: &'a KanbanBoardEventContent, column: &'a str) -> &'a str {
    board
        .column(column)
        .map_or(column, |column| column.name.as_str())
}

/// The card a command names: its whole ID, or the start of it (with or without `#`), when
/// only one card starts so.
fn find_card<'a>(cards: &'a [Card], name: &str) -> Result<&'a Card, String> {
    let prefix = name.strip_prefix('#').unwrap_or(name);
    if prefix.is_empty() {
        return Err("name the card by its ID, like #3fa2c1".to_owned());
    }
    if let Some(card) = cards.iter().find(|card| card.id == prefix) {
        return Ok(card);
    }
    let mut found = cards.iter().filter(|card| card.id.starts_with(prefix));
    match (found.next(), found.next()) {
        (Some(card), None) => Ok(card),
        (Some(_), Some(_)) => Err(format!(
            "several cards start with {}: give more of the ID",
            short(prefix)
        )),
        (None, _) => Err(format!(
            "there is no card {name} here: `!parvis tasks` lists them with their IDs"
        )),
    }
}

fn move_card(call: &CommandCall<'_>, args: &[String]) -> CommandOutcome {
    let [card_name, column_name_asked] = args else {
        return refused(format!("give the card and the column: {TASK_USAGE}"));
    };
    let (boards, cards) = read_state(call.state);
    let card = match find_card(&cards, card_name) {
        Ok(card) => card,
        Err(error) => return refused(error),
    };
    let Some(board) = boards.iter().find(|board| board.id == card.content.board) else {
        return refused(format!("the card's board {} is gone", card.content.board));
    };
    let Some(column) = column_named(&board.content, column_name_asked) else {
        return refused(format!(
            "the board “{}” has no column “{column_name_asked}”: its columns are {}",
            board.content.name,
            column_list(&board.content)
        ));
    };
    let mut moved = card.content.clone();
    if moved.column != column {
        moved.column = column.to_owned();
        moved.position = match after_last(&cards, &board.id, column, &card.id) {
            Ok(position) => position,
            Err(error) => return refused(error),
        };
    }
    moved.requested_by = Some(call.sender.to_owned());
    let warnings = match checked(&card.id, &moved, &board.content, &cards) {
        Ok(warnings) => warnings,
        Err(problem) => return refused(problem),
    };
    let notice = card_notice(call.sender, Some(&card.content), &moved, &board.content);
    written(
        format!(
            "✅ Card “{}” ({}) is in “{}”.",
            moved.title,
            short(&card.id),
            column_name(&board.content, column)
        ),
        warnings,
        vec![StateWrite {
            event_type: CARD_EVENT,
            state_key: card.id.clone(),
            content: object(&moved),
        }],
        notice,
    )
}

fn assign(call: &CommandCall<'_>, args: &[String]) -> CommandOutcome {
    let [card_name, user] = args else {
        return refused(format!("give the card and the person: {TASK_USAGE}"));
    };
    let Ok(user) = UserId::parse(user.as_str()) else {
        return refused(format!(
            "“{user}” is not a Matrix user ID, like @marie.dupont:ministere.example"
        ));
    };
    let (boards, cards) = read_state(call.state);
    let card = match find_card(&cards, card_name) {
        Ok(card) => card,
        Err(error) => return refused(error),
    };
    let Some(board) = boards.iter().find(|board| board.id == card.content.board) else {
        return refused(format!("the card's board {} is gone", card.content.board));
    };
    if card.content.assignees.contains(&user) {
        return CommandOutcome::answer(
            true,
            format!("✅ {user} is already assigned “{}”.", card.content.title),
        );
    }
    let mut assigned = card.content.clone();
    assigned.assignees.push(user.clone());
    assigned.requested_by = Some(call.sender.to_owned());
    if let Err(problem) = checked(&card.id, &assigned, &board.content, &cards) {
        return refused(problem);
    }
    let notice = card_notice(call.sender, Some(&card.content), &assigned, &board.content);
    written(
        format!(
            "✅ {user} is assigned “{}” ({}).",
            assigned.title,
            short(&card.id)
        ),
        Vec::new(),
        vec![StateWrite {
            event_type: CARD_EVENT,
            state_key: card.id.clone(),
            content: object(&assigned),
        }],
        notice,
    )
}

/// `!parvis tasks [--mine]`: the open cards (not archived, not done), by board and column.
pub fn run_tasks(call: &CommandCall<'_>) -> CommandOutcome {
    let mine = match call.args {
        [] => false,
        [flag] if flag == "--mine" => true,
        _ => return refused(format!("usage: {TASKS_USAGE}")),
    };
    let (boards, mut cards) = read_state(call.state);
    cards.sort_by(|a, b| {
        (a.content.position.as_bytes(), a.id.as_bytes())
            .cmp(&(b.content.position.as_bytes(), b.id.as_bytes()))
    });
    let today = CalendarDate::from_days(call.now_ms.div_euclid(86_400_000));
    let mut lines = Vec::new();
    let mut open = 0;
    for board in boards.iter().filter(|board| !board.content.archived) {
        for column in board.content.columns.iter().filter(|column| !column.done) {
            for card in cards.iter().filter(|card| {
                !card.content.archived
                    && card.content.board == board.id
                    && card.content.column == column.id
                    && (!mine
                        || card
                            .content
                            .assignees
                            .iter()
                            .any(|user| user == call.sender))
            }) {
                open += 1;
                if lines.len() == LISTED {
                    continue;
                }
                let mut line = format!(
                    "• {} “{}” — {} · {}",
                    short(&card.id),
                    card.content.title,
                    board.content.name,
                    column.name
                );
                if let Some(due) = card.content.due {
                    let late = if due < today { " (late)" } else { "" };
                    line.push_str(&format!(" · due {due}{late}"));
                }
                if !card.content.assignees.is_empty() {
                    let people: Vec<&str> = card
                        .content
                        .assignees
                        .iter()
                        .map(|user| user.as_str())
                        .collect();
                    line.push_str(&format!(" · {}", people.join(", ")));
                }
                lines.push(line);
            }
        }
    }
    let whose = if mine { "assigned to you" } else { "open" };
    if open == 0 {
        return CommandOutcome::answer(true, format!("🗂️ No card {whose} here."));
    }
    let mut reply = format!("🗂️ {open} card(s) {whose}:\n{}", lines.join("\n"));
    if open > LISTED {
        reply.push_str(&format!(
            "\n… and {} more, on the board in the web app.",
            open - LISTED
        ));
    }
    CommandOutcome::answer(true, reply)
}

/// The notice for a change of a card, if it is one people are told of: added, moved, done,
/// assigned (the new assignees named, so their clients notify them) or archived.
fn card_notice(
    sender: &UserId,
    before: Option<&KanbanCardEventContent>,
    after: &KanbanCardEventContent,
    board: &KanbanBoardEventContent,
) -> Option<ToolNotice> {
    let title = &after.title;
    let column = board.column(&after.column);
    let column_name = column.map_or(after.column.as_str(), |column| column.name.as_str());
    let mut parts = Vec::new();
    match before {
        None => parts.push(format!(
            "🗂️ {sender} added “{title}” to {column_name} on “{}”",
            board.name
        )),
        Some(before) => {
            if after.archived && !before.archived {
                parts.push(format!("🗄️ {sender} archived “{title}”"));
            } else if before.column != after.column {
                if column.is_some_and(|column| column.done) {
                    parts.push(format!("✅ {sender} finished “{title}”"));
                } else {
                    parts.push(format!("🗂️ {sender} moved “{title}” to {column_name}"));
                }
            }
        }
    }
    let added: Vec<OwnedUserId> = after
        .assignees
        .iter()
        .filter(|user| before.is_none_or(|before| !before.assignees.contains(user)))
        .cloned()
        .collect();
    if !added.is_empty() {
        let people: Vec<&str> = added.iter().map(|user| user.as_str()).collect();
        if parts.is_empty() {
            parts.push(format!(
                "👤 {sender} assigned “{title}” to {}",
                people.join(", ")
            ));
        } else {
            parts.push(format!("assigned to {}", people.join(", ")));
        }
    }
    if parts.is_empty() {
        return None;
    }
    let mut body = parts.join(" · ");
    if let Some(due) = after.due.filter(|_| before.is_none()) {
        body.push_str(&format!(" · due {due}"));
    }
    Some(ToolNotice {
        body,
        mentions: added,
    })
}

/// The notices of the tasks room: a card added, moved, finished, assigned or archived by
/// someone.
pub fn notice(change: &StateChange<'_>) -> Option<ToolNotice> {
    if change.event_type != CARD_EVENT {
        return None;
    }
    let parse = |content: &JsonObject| {
        serde_json::from_value::<KanbanCardEventContent>(Value::Object(content.clone())).ok()
    };
    let after = parse(change.after)?;
    let before = change.before.and_then(parse);
    let board = change
        .context
        .iter()
        .filter(|entry| entry.event_type == BOARD_EVENT && entry.state_key == after.board)
        .find_map(|entry| {
            serde_json::from_value::<KanbanBoardEventContent>(Value::Object(entry.content.clone()))
                .ok()
        })?;
    card_notice(change.sender, before.as_ref(), &after, &board)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::{owned_user_id, user_id};

    use super::*;

    fn entry(event_type: &str, key: &str, content: &impl serde::Serialize) -> StateEntry {
        StateEntry {
            event_type: event_type.to_owned(),
            state_key: key.to_owned(),
            sender: owned_user_id!("@alice:hs"),
            content: object(content),
        }
    }

    fn room() -> Vec<StateEntry> {
        let mut card = KanbanCardEventContent::new("Commander les cartons", "b1", "todo", "a0");
        card.due = CalendarDate::parse("2026-12-01").ok();
        let mut bobs = KanbanCardEventContent::new("Réserver le camion", "b1", "doing", "a0");
        bobs.assignees = vec![owned_user_id!("@bob:hs")];
        vec![
            entry(
                BOARD_EVENT,
                "b1",
                &KanbanBoardEventContent::starter("Déménagement"),
            ),
            entry(CARD_EVENT, "3fa2c1aa0000", &card),
            entry(CARD_EVENT, "77bb00000000", &bobs),
            entry(
                CARD_EVENT,
                "3fa2ffff0000",
                &KanbanCardEventContent::new("Fait", "b1", "done", "a0"),
            ),
        ]
    }

    fn run(
        command: fn(&CommandCall<'_>) -> CommandOutcome,
        sender: &UserId,
        args: &[&str],
        state: &[StateEntry],
        writable: &[&str],
    ) -> CommandOutcome {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        command(&CommandCall {
            sender,
            args: &args,
            state,
            writable,
            seed: "$command",
            // 2026-12-06.
            now_ms: 1_796_515_200_000,
        })
    }

    const MEMBER: &[&str] = &[BOARD_EVENT, CARD_EVENT];

    #[test]
    fn add_writes_a_card_at_the_end_of_its_column_and_mentions_the_assignee() {
        let alice = user_id!("@alice:hs");
        let outcome = run(
            run_task,
            alice,
            &[
                "add",
                "Prévenir la poste",
                "--column",
                "to do",
                "--due",
                "2026-12-15",
                "--assign",
                "@carol:hs",
            ],
            &room(),
            MEMBER,
        );
        assert!(outcome.success, "{}", outcome.reply);
        assert_eq!(outcome.writes.len(), 1);
        let write = &outcome.writes[0];
        assert_eq!(write.event_type, CARD_EVENT);
        let card: KanbanCardEventContent =
            serde_json::from_value(Value::Object(write.content.clone())).unwrap();
        assert_eq!(
            (card.column.as_str(), card.position.as_str()),
            ("todo", "a1")
        );
        assert_eq!(card.requested_by.as_deref(), Some(alice));
        assert_eq!(outcome.mentions, [owned_user_id!("@carol:hs")]);
        let notice = outcome.notice.unwrap();
        assert_eq!(
            notice.body,
            "🗂️ @alice:hs added “Prévenir la poste” to To do on “Déménagement” · assigned to @carol:hs · due 2026-12-15"
        );
        assert!(outcome.reply.starts_with(&format!(
            "✅ Card “Prévenir la poste” ({})",
            short(&write.state_key)
        )));
        // The same command run again makes the same card.
        let again = run(
            run_task,
            alice,
            &["add", "Prévenir la poste"],
            &room(),
            MEMBER,
        );
        assert_eq!(again.writes[0].state_key, write.state_key);
    }

    #[test]
    fn the_first_card_of_a_community_makes_its_first_board() {
        let outcome = run(
            run_task,
            user_id!("@alice:hs"),
            &["add", "Premier"],
            &[],
            MEMBER,
        );
        assert!(outcome.success, "{}", outcome.reply);
        let types: Vec<&str> = outcome.writes.iter().map(|w| w.event_type).collect();
        assert_eq!(types, [BOARD_EVENT, CARD_EVENT]);
        assert_eq!(
            outcome.writes[1].content["board"],
            outcome.writes[0].state_key.as_str()
        );
        let refused = run(
            run_task,
            user_id!("@alice:hs"),
            &["add", "Premier"],
            &[],
            &[CARD_EVENT],
        );
        assert!(!refused.success);
    }

    #[test]
    fn move_finds_the_card_by_its_short_id_and_says_it_is_done() {
        let outcome = run(
            run_task,
            user_id!("@bob:hs"),
            &["move", "#77bb", "Done"],
            &room(),
            MEMBER,
        );
        assert!(outcome.success, "{}", outcome.reply);
        assert_eq!(outcome.writes[0].state_key, "77bb00000000");
        assert_eq!(outcome.writes[0].content["column"], "done");
        assert_eq!(outcome.writes[0].content["position"], "a1");
        assert_eq!(
            outcome.notice.unwrap().body,
            "✅ @bob:hs finished “Réserver le camion”"
        );
        let ambiguous = run(
            run_task,
            user_id!("@bob:hs"),
            &["move", "#3fa2", "Done"],
            &room(),
            MEMBER,
        );
        assert!(!ambiguous.success);
        assert!(
            ambiguous.reply.contains("several cards start with #3fa2"),
            "{}",
            ambiguous.reply
        );
        let nowhere = run(
            run_task,
            user_id!("@bob:hs"),
            &["move", "#77bb", "Later"],
            &room(),
            MEMBER,
        );
        assert_eq!(
            nowhere.reply,
            "❌ the board “Déménagement” has no column “Later”: its columns are “To do”, “In progress”, “Done”"
        );
    }

    #[test]
    fn assign_mentions_the_person_and_readers_are_refused() {
        let outcome = run(
            run_task,
            user_id!("@alice:hs"),
            &["assign", "3fa2c1", "@bob:hs"],
            &room(),
            MEMBER,
        );
        assert!(outcome.success, "{}", outcome.reply);
        assert_eq!(outcome.mentions, [owned_user_id!("@bob:hs")]);
        assert_eq!(
            outcome.notice.unwrap().body,
            "👤 @alice:hs assigned “Commander les cartons” to @bob:hs"
        );
        let reader = run(
            run_task,
            user_id!("@carol:hs"),
            &["assign", "3fa2c1", "@bob:hs"],
            &room(),
            &[],
        );
        assert_eq!(
            reader.reply,
            "❌ @carol:hs may not change cards in this community's tasks (readers only read)."
        );
        assert!(reader.writes.is_empty());
        let bad = run(
            run_task,
            user_id!("@alice:hs"),
            &["assign", "3fa2c1", "bob"],
            &room(),
            MEMBER,
        );
        assert!(!bad.success);
        let misused = run(
            run_task,
            user_id!("@alice:hs"),
            &["add", "deux", "mots"],
            &room(),
            MEMBER,
        );
        assert!(misused.reply.contains("quote a title"), "{}", misused.reply);
        let unknown = run(
            run_task,
            user_id!("@alice:hs"),
            &["delete", "x"],
            &room(),
            MEMBER,
        );
        assert!(
            unknown
                .reply
                .starts_with("❌ unknown command `task delete`")
        );
    }

    #[test]
    fn tasks_lists_open_cards_and_mine_only_mine() {
        let all = run(run_tasks, user_id!("@bob:hs"), &[], &room(), &[]);
        assert_eq!(
            all.reply,
            "🗂️ 2 card(s) open:\n\
             • #3fa2c1 “Commander les cartons” — Déménagement · To do · due 2026-12-01 (late)\n\
             • #77bb00 “Réserver le camion” — Déménagement · In progress · @bob:hs"
        );
        let mine = run(run_tasks, user_id!("@bob:hs"), &["--mine"], &room(), &[]);
        assert!(
            mine.reply.starts_with("🗂️ 1 card(s) assigned to you:"),
            "{}",
            mine.reply
        );
        let none = run(run_tasks, user_id!("@carol:hs"), &["--mine"], &room(), &[]);
        assert_eq!(none.reply, "🗂️ No card assigned to you here.");
    }

    #[test]
    fn notices_tell_moves_and_assignments_not_edits() {
        let board = room();
        let before = object(&KanbanCardEventContent::new("Appeler", "b1", "todo", "a0"));
        let change = |after: &JsonObject| {
            notice(&StateChange {
                event_type: CARD_EVENT,
                state_key: "c1",
                sender: user_id!("@alice:hs"),
                before: Some(&before),
                after,
                context: &board,
            })
        };
        let mut moved = before.clone();
        moved.insert("column".to_owned(), Value::from("doing"));
        assert_eq!(
            change(&moved).unwrap().body,
            "🗂️ @alice:hs moved “Appeler” to In progress"
        );
        let mut edited = before.clone();
        edited.insert("description".to_owned(), Value::from("Vite"));
        assert_eq!(change(&edited), None);
        let mut assigned = moved.clone();
        assigned.insert("assignees".to_owned(), serde_json::json!(["@bob:hs"]));
        let notice = change(&assigned).unwrap();
        assert_eq!(
            notice.body,
            "🗂️ @alice:hs moved “Appeler” to In progress · assigned to @bob:hs"
        );
        assert_eq!(notice.mentions, [owned_user_id!("@bob:hs")]);
    }
}

//! Bot commands (`!parvis …`), parsed without I/O.
//!
//! A command is one message whose body starts with `!parvis`. Arguments are separated by
//! spaces; an argument with spaces is quoted with `"…"`, `“…”` or `«…»` (what French keyboards
//! and phones produce).

use crate::{events::RoomPurpose, publishing::kind::PublicationKind, tools};

/// The prefix that addresses the bot.
pub const PREFIX: &str = "!parvis";

/// A command the bot understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `!parvis help`: explain every command.
    Help,
    /// `!parvis community create "Name" [--description "…"] [--tools wiki,blog,…] [--encrypted]`.
    CreateCommunity(CreateCommunity),
    /// `!parvis {tool} new "Title" [text…]`: an object of a publishing tool that has the
    /// command (a wiki page, a blog post…) in this room's community.
    New {
        /// What to write.
        kind: PublicationKind,
        /// Its title.
        title: String,
        /// Its first text (markdown), possibly empty.
        body: String,
    },
    /// `!parvis search words…`: search what the sender may read.
    Search {
        /// The words.
        words: String,
    },
    /// `!parvis {word} …`: a command of a tool ([`crate::tools::ToolCommand`]), run in the
    /// tool's room of this room's community.
    Tool {
        /// The command word.
        word: &'static str,
        /// Its arguments, quotes removed.
        args: Vec<String>,
    },
}

/// Arguments of `!parvis community create`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateCommunity {
    /// The community's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The tools to enable (each gets a room).
    pub tools: Vec<RoomPurpose>,
    /// End-to-end encrypted rooms (`--encrypted`); `None`: as `e2ee.encrypt_new_communities` says.
    pub encrypted: Option<bool>,
}

/// Why a command could not be understood; the message is shown to the user as is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A quote was opened and never closed.
    #[error("a quote is not closed: {0}")]
    UnclosedQuote(String),
    /// The command word is unknown.
    #[error("unknown command `{0}`; send `!parvis help` for the list")]
    Unknown(String),
    /// The command lacks an argument.
    #[error("missing {what}: {usage}")]
    Missing {
        /// What is missing.
        what: &'static str,
        /// The command's usage line.
        usage: &'static str,
    },
    /// An option or argument is not valid.
    #[error("{0}")]
    Invalid(String),
}

const SEARCH_USAGE: &str = "!parvis search words…";
const CREATE_USAGE: &str =
    "!parvis community create \"Name\" [--description \"…\"] [--tools tool,tool,…] [--encrypted]";

/// The help text, listing every command, the tools' lines included.
pub fn help_text() -> String {
    let tools: Vec<&str> = crate::tools::tool_rooms()
        .iter()
        .map(|tool| tool.as_str())
        .collect();
    let tool_lines: String = crate::tools::TOOLS
        .iter()
        .flat_map(|tool| tool.help)
        .map(|line| format!("• {line}\n"))
        .collect();
    let searched: Vec<String> = tools::publication_kinds()
        .map(|kind| plural(kind.spec().noun))
        .collect();
    format!(
        "Parvis turns Matrix spaces into collaboration communities.\n\
         \n\
         Commands (send them to me in a direct chat, or in a community room):\n\
         • !parvis help — this help.\n\
         • {CREATE_USAGE} — create a community: a space with a home room, a discussion room and one room \
         per tool; you are invited and made owner. Tools: {} (all by default).\n\
         {tool_lines}\
         • {SEARCH_USAGE} — search the {} you can read (this community's, when sent in one).\n\
         \n\
         Quote names with spaces: \"Projet Alpha\" or « Projet Alpha ».",
        tools.join(", "),
        searched.join(", ")
    )
}

/// `wiki page` → `wiki pages`, `FAQ entry` → `FAQ entries`.
fn plural(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{noun}s"),
    }
}

/// Parses a message body. `Ok(None)` when the message is not addressed to the bot.
pub fn parse(body: &str) -> Result<Option<Command>, CommandError> {
    let body = body.trim();
    let Some(rest) = body.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    // `!parvisfoo` is not addressed to us.
    if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return Ok(None);
    }
    let words = split_arguments(rest)?;
    let mut words = words.iter().map(String::as_str);
    match words.next() {
        None | Some("help") => Ok(Some(Command::Help)),
        Some("community") => match words.next() {
            Some("create") => {
                parse_create(words).map(|create| Some(Command::CreateCommunity(create)))
            }
            Some(other) => Err(CommandError::Unknown(format!("community {other}"))),
            None => Err(CommandError::Missing {
                what: "a community command",
                usage: CREATE_USAGE,
            }),
        },
        Some(tool) if let Some((kind, new)) = new_command(tool) => match words.next() {
            Some("new") => {
                let title = words.next().ok_or(CommandError::Missing {
                    what: new.title,
                    usage: new.usage,
                })?;
                validate_name(title)?;
                let body: Vec<&str> = words.collect();
                Ok(Some(Command::New {
                    kind,
                    title: title.to_owned(),
                    body: body.join(" "),
                }))
            }
            Some(other) => Err(CommandError::Unknown(format!("{tool} {other}"))),
            None => Err(CommandError::Missing {
                what: "a command of the tool",
                usage: new.usage,
            }),
        },
        Some(word) if let Some((_, command)) = crate::tools::tool_command(word) => {
            Ok(Some(Command::Tool {
                word: command.word,
                args: words.map(str::to_owned).collect(),
            }))
        }
        Some("search") => {
            let words: Vec<&str> = words.collect();
            if words.is_empty() {
                return Err(CommandError::Missing {
                    what: "the words to search",
                    usage: SEARCH_USAGE,
                });
            }
            Ok(Some(Command::Search {
                words: words.join(" "),
            }))
        }
        Some(other) => Err(CommandError::Unknown(other.to_owned())),
    }
}

/// The publishing tool named `tool`, when it has a `new` command.
fn new_command(
    tool: &str,
) -> Option<(
    PublicationKind,
    &'static crate::publishing::kind::NewCommand,
)> {
    let kind = tools::publication_kind_of_tool(tool)?;
    Some((kind, kind.spec().new_command.as_ref()?))
}

fn parse_create<'a>(
    mut words: impl Iterator<Item = &'a str>,
) -> Result<CreateCommunity, CommandError> {
    let mut name = None;
    let mut description = String::new();
    let mut tools = crate::tools::tool_rooms();
    let mut encrypted = None;
    while let Some(word) = words.next() {
        match word {
            "--encrypted" => encrypted = Some(true),
            "--description" => {
                description = words
                    .next()
                    .ok_or(CommandError::Missing {
                        what: "the description after --description",
                        usage: CREATE_USAGE,
                    })?
                    .to_owned();
            }
            "--tools" => {
                let list = words.next().ok_or(CommandError::Missing {
                    what: "the tool list after --tools",
                    usage: CREATE_USAGE,
                })?;
                tools = parse_tools(list)?;
            }
            option if option.starts_with("--") => {
                return Err(CommandError::Invalid(format!(
                    "unknown option {option}; usage: {CREATE_USAGE}"
                )));
            }
            _ if name.is_some() => {
                return Err(CommandError::Invalid(format!(
                    "unexpected `{word}`: quote a name with spaces; usage: {CREATE_USAGE}"
                )));
            }
            _ => name = Some(word.to_owned()),
        }
    }
    let name = name.ok_or(CommandError::Missing {
        what: "the community name",
        usage: CREATE_USAGE,
    })?;
    validate_name(&name)?;
    Ok(CreateCommunity {
        name,
        description,
        tools,
        encrypted,
    })
}

/// Checks a community name: not blank, at most 255 characters, no control characters.
pub fn validate_name(name: &str) -> Result<(), CommandError> {
    if name.trim().is_empty() {
        return Err(CommandError::Invalid(
            "the community name is empty".to_owned(),
        ));
    }
    if name.chars().count() > 255 {
        return Err(CommandError::Invalid(
            "the community name is longer than 255 characters".to_owned(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(CommandError::Invalid(
            "the community name contains control characters".to_owned(),
        ));
    }
    Ok(())
}

/// Parses a comma-separated tool list (`wiki,blog`); `none` enables no tool.
pub fn parse_tools(list: &str) -> Result<Vec<RoomPurpose>, CommandError> {
    if list == "none" {
        return Ok(Vec::new());
    }
    let mut tools = Vec::new();
    for name in list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        match RoomPurpose::parse(name)
            .filter(|purpose| crate::tools::tool_rooms().contains(purpose))
        {
            Some(tool) if !tools.contains(&tool) => tools.push(tool),
            Some(_) => {}
            None => {
                let known: Vec<&str> = crate::tools::tool_rooms()
                    .iter()
                    .map(|tool| tool.as_str())
                    .collect();
                return Err(CommandError::Invalid(format!(
                    "unknown tool `{name}`; tools are: {}",
                    known.join(", ")
                )));
            }
        }
    }
    Ok(tools)
}

/// Splits arguments on whitespace, keeping quoted runs together.
fn split_arguments(input: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let closing = match c {
            '"' => Some('"'),
            '“' => Some('”'),
            '«' => Some('»'),
            _ => None,
        };
        let mut word = String::new();
        if let Some(closing) = closing {
            chars.next();
            let mut closed = false;
            for c in chars.by_ref() {
                if c == closing {
                    closed = true;
                    break;
                }
                word.push(c);
            }
            if !closed {
                return Err(CommandError::UnclosedQuote(format!("{c}{word}")));
            }
            // French typography puts a (narrow) no-break space inside « ».
            word = word
                .trim_matches(|c: char| c == '\u{a0}' || c == '\u{202f}' || c == ' ')
                .to_owned();
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn create(name: &str, tools: Vec<RoomPurpose>) -> Command {
        Command::CreateCommunity(CreateCommunity {
            name: name.to_owned(),
            description: String::new(),
            tools,
            encrypted: None,
        })
    }

    #[test]
    fn not_for_us() {
        assert_eq!(parse("hello"), Ok(None));
        assert_eq!(parse("!parvisx help"), Ok(None));
        assert_eq!(parse("say !parvis help"), Ok(None));
    }

    #[test]
    fn help() {
        assert_eq!(parse("!parvis"), Ok(Some(Command::Help)));
        assert_eq!(parse("  !parvis help "), Ok(Some(Command::Help)));
        let text = help_text();
        assert!(text.contains("!parvis help") && text.contains("!parvis community create"));
        // What search finds is what the publishing tools publish.
        assert!(
            text.contains("search the wiki pages, blog posts, FAQ entries, guides you can read"),
            "{text}"
        );
    }

    #[test]
    fn a_tools_command_goes_to_the_tool_with_its_arguments() {
        assert_eq!(
            parse(r#"!parvis task add « Appeler la DSI » --due 2026-12-15"#),
            Ok(Some(Command::Tool {
                word: "task",
                args: vec![
                    "add".to_owned(),
                    "Appeler la DSI".to_owned(),
                    "--due".to_owned(),
                    "2026-12-15".to_owned()
                ],
            }))
        );
        assert_eq!(
            parse("!parvis tasks --mine"),
            Ok(Some(Command::Tool {
                word: "tasks",
                args: vec!["--mine".to_owned()],
            }))
        );
        assert!(help_text().contains("!parvis task move"));
    }

    #[test]
    fn create_with_all_quote_styles() {
        let all = crate::tools::tool_rooms();
        assert_eq!(
            parse(r#"!parvis community create "Projet Alpha""#),
            Ok(Some(create("Projet Alpha", all.clone())))
        );
        assert_eq!(
            parse("!parvis community create “Projet Alpha”"),
            Ok(Some(create("Projet Alpha", all.clone())))
        );
        assert_eq!(
            parse("!parvis community create «\u{a0}Projet Alpha\u{a0}»"),
            Ok(Some(create("Projet Alpha", all.clone())))
        );
        assert_eq!(
            parse("!parvis community create Alpha"),
            Ok(Some(create("Alpha", all)))
        );
    }

    #[test]
    fn create_encrypted() {
        let Ok(Some(Command::CreateCommunity(request))) =
            parse(r#"!parvis community create "Secret" --encrypted --tools wiki"#)
        else {
            panic!("not a creation");
        };
        assert_eq!(request.encrypted, Some(true));
        assert_eq!(request.tools, vec![RoomPurpose::Wiki]);
        assert!(help_text().contains("--encrypted"));
    }

    #[test]
    fn create_with_options() {
        let command = parse(
            r#"!parvis community create "Projet Alpha" --tools wiki,faq,wiki --description "Un projet""#,
        );
        assert_eq!(
            command,
            Ok(Some(Command::CreateCommunity(CreateCommunity {
                name: "Projet Alpha".to_owned(),
                description: "Un projet".to_owned(),
                tools: vec![RoomPurpose::Wiki, RoomPurpose::Faq],
                encrypted: None,
            })))
        );
        assert_eq!(
            parse("!parvis community create X --tools none"),
            Ok(Some(create("X", vec![])))
        );
    }

    #[test]
    fn new_objects_and_search() {
        let wiki = PublicationKind::of(&crate::tools::wiki::PUBLICATION);
        assert_eq!(
            parse(r#"!parvis wiki new "Réunion du lundi" Ordre du jour"#),
            Ok(Some(Command::New {
                kind: wiki,
                title: "Réunion du lundi".to_owned(),
                body: "Ordre du jour".to_owned()
            }))
        );
        // Every publishing tool that declares the command has it, and only those.
        assert_eq!(
            parse(r#"!parvis faq new "Qui contacter ?" L'accueil"#),
            Ok(Some(Command::New {
                kind: PublicationKind::of(&crate::tools::faq::PUBLICATION),
                title: "Qui contacter ?".to_owned(),
                body: "L'accueil".to_owned()
            }))
        );
        assert!(matches!(
            parse(r#"!parvis blog new "Lancement""#),
            Ok(Some(Command::New { kind, .. })) if kind.tool() == "blog"
        ));
        assert!(
            matches!(parse(r#"!parvis guides new "Parcours""#), Err(CommandError::Unknown(w)) if w == "guides")
        );
        assert!(
            matches!(parse("!parvis wiki delete x"), Err(CommandError::Unknown(w)) if w == "wiki delete")
        );
        assert_eq!(
            parse("!parvis search événement annuel"),
            Ok(Some(Command::Search {
                words: "événement annuel".to_owned()
            }))
        );
        assert!(matches!(
            parse("!parvis search"),
            Err(CommandError::Missing { .. })
        ));
        assert!(matches!(
            parse("!parvis wiki new"),
            Err(CommandError::Missing { .. })
        ));
        assert!(matches!(
            parse("!parvis faq new"),
            Err(CommandError::Missing {
                what: "the question",
                ..
            })
        ));
        assert!(help_text().contains("!parvis wiki new") && help_text().contains("!parvis search"));
        assert!(
            help_text().contains("!parvis faq new") && help_text().contains("!parvis blog new")
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(matches!(parse("!parvis dance"), Err(CommandError::Unknown(w)) if w == "dance"));
        assert!(matches!(
            parse("!parvis community create"),
            Err(CommandError::Missing { .. })
        ));
        assert!(matches!(
            parse(r#"!parvis community create "Projet"#),
            Err(CommandError::UnclosedQuote(_))
        ));
        assert!(matches!(
            parse("!parvis community create Projet Alpha"),
            Err(CommandError::Invalid(_))
        ));
        assert!(
            matches!(parse("!parvis community create X --tools games"), Err(CommandError::Invalid(m)) if m.contains("games"))
        );
        assert!(matches!(
            parse("!parvis community create X --colour red"),
            Err(CommandError::Invalid(_))
        ));
        assert!(matches!(
            parse(r#"!parvis community create """#),
            Err(CommandError::Invalid(_))
        ));
        let long = format!("!parvis community create \"{}\"", "a".repeat(300));
        assert!(matches!(parse(&long), Err(CommandError::Invalid(_))));
    }
}

//! The wiki: pages with revisions, `[[links]]` between them, comments and search.
//!
//! Its event is declared here; its projection, index and routes are still those of
//! [`crate::publishing`], shared by the wiki, the blog, the FAQ and guides.

pub mod page;

pub use page::WikiPageEventContent;

use crate::{events::RoomPurpose, role::Role, tools::Tool};

/// The wiki tool.
pub const TOOL: Tool = Tool {
    name: "wiki",
    room: Some(RoomPurpose::Wiki),
    events: &[("org.parvis.wiki.page", Role::Member)],
    help: &[
        "!parvis wiki new \"Title\" [text] — in a room of a community: write a wiki page (members and above).",
    ],
    migration: None,
    tables: &[],
    history_relations: &[],
    plan: None,
};

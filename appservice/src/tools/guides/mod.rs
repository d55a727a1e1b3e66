//! Guides: ordered paths through wiki pages, kept in the wiki's room.
//!
//! Its event is declared here; its projection, index and routes are still those of
//! [`crate::publishing`], shared by the wiki, the blog, the FAQ and guides.

pub mod guide;

pub use guide::GuideEventContent;

use crate::{events::RoomPurpose, role::Role, tools::Tool};

/// The guides tool.
pub const TOOL: Tool = Tool {
    name: "guides",
    room: Some(RoomPurpose::Wiki),
    events: &[("org.parvis.guide", Role::Member)],
    help: &[],
    migration: None,
    tables: &[],
    history_relations: &[],
    plan: None,
};

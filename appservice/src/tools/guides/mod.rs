//! Guides: ordered paths through wiki pages, kept in the wiki's room.
//!
//! Its events, projection, index and routes are still those of [`crate::publishing`]; this
//! declares what the registry needs of it.

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

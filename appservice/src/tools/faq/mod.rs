//! The FAQ: questions and answers by category, written by moderators.
//!
//! Its events, projection, index and routes are still those of [`crate::publishing`]; this
//! declares what the registry needs of it.

use crate::{events::RoomPurpose, role::Role, tools::Tool};

/// The FAQ tool.
pub const TOOL: Tool = Tool {
    name: "faq",
    room: Some(RoomPurpose::Faq),
    events: &[("org.parvis.faq.entry", Role::Moderator)],
    help: &[],
    migration: None,
    tables: &[],
    history_relations: &[],
    plan: None,
};

//! The FAQ: questions and answers by category, written by moderators.
//!
//! Its event is declared here; its projection, index and routes are still those of
//! [`crate::publishing`], shared by the wiki, the blog, the FAQ and guides.

pub mod entry;

pub use entry::FaqEntryEventContent;

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

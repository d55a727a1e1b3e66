//! The blog: posts with drafts, revisions, comments and search.
//!
//! Its events, projection, index and routes are still those of [`crate::publishing`]; this
//! declares what the registry needs of it.

use crate::{events::RoomPurpose, role::Role, tools::Tool};

/// The blog tool.
pub const TOOL: Tool = Tool {
    name: "blog",
    room: Some(RoomPurpose::Blog),
    events: &[("org.parvis.blog.post", Role::Member)],
    help: &[],
    migration: None,
    tables: &[],
    history_relations: &[],
    plan: None,
};

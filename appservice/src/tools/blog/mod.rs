//! The blog: posts with drafts, revisions, comments and search.
//!
//! Its event is declared here; its projection, index and routes are still those of
//! [`crate::publishing`], shared by the wiki, the blog, the FAQ and guides.

pub mod post;

pub use post::{BlogPostEventContent, PostStatus};

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

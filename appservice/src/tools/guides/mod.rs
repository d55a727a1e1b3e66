//! Guides: ordered paths through wiki pages, kept in the wiki's room.
//!
//! Its event and its kind of published object are declared here; publishing's projection,
//! index and routes serve every such kind through its [`PublicationSpec`].

pub mod guide;

pub use guide::GuideEventContent;

use crate::{
    events::{JsonObject, RoomPurpose},
    publishing::kind::{
        PublicationContent, PublicationFields, PublicationSpec, PublicationStatus, typed_content,
    },
    role::Role,
    tools::Tool,
};

/// The guides tool.
pub const TOOL: Tool = Tool {
    name: "guides",
    room: Some(RoomPurpose::Wiki),
    widget: None,
    events: &[("org.parvis.guide", Role::Member)],
    help: &[],
    migrations: &[],
    tables: &[],
    history_relations: &[],
    plan: None,
    state: None,
    publication: Some(&PUBLICATION),
    commands: &[],
    notices: None,
    comments: None,
};

/// Guides, as published objects.
pub const PUBLICATION: PublicationSpec = PublicationSpec {
    kind: "guide",
    event_type: "org.parvis.guide",
    tool: "guides",
    room: RoomPurpose::Wiki,
    noun: "guide",
    title_field: "title",
    body_field: "description",
    slugged: true,
    unique_slugs: false,
    media_bodies: false,
    link_target: false,
    read: read_guide,
    new_command: None,
};

fn read_guide(content: &JsonObject) -> Result<PublicationContent, serde_json::Error> {
    let guide: GuideEventContent = typed_content(content)?;
    Ok(PublicationContent {
        title: guide.title,
        slug: guide.slug,
        body: guide.description,
        body_media: None,
        status: PublicationStatus::Published,
        requested_by: guide.requested_by,
        fields: PublicationFields {
            pages: guide.pages,
            ..PublicationFields::default()
        },
    })
}

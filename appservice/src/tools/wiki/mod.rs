//! The wiki: pages with revisions, `[[links]]` between them, a page tree, comments and search.
//!
//! Its event and its kind of published object are declared here; publishing's projection,
//! index and routes serve every such kind through its [`PublicationSpec`].

pub mod page;

pub use page::WikiPageEventContent;

use crate::{
    events::{JsonObject, RoomPurpose},
    publishing::kind::{
        NewCommand, NewPublication, PublicationContent, PublicationFields, PublicationSpec,
        PublicationStatus, content_object, typed_content,
    },
    role::Role,
    tools::Tool,
};

/// The wiki tool.
pub const TOOL: Tool = Tool {
    name: "wiki",
    room: Some(RoomPurpose::Wiki),
    widget: Some("wiki"),
    events: &[("org.parvis.wiki.page", Role::Member)],
    help: &[
        "!parvis wiki new \"Title\" [text] — in a room of a community: write a wiki page (members and above).",
    ],
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

/// Wiki pages, as published objects.
pub const PUBLICATION: PublicationSpec = PublicationSpec {
    kind: "wiki_page",
    event_type: "org.parvis.wiki.page",
    tool: "wiki",
    room: RoomPurpose::Wiki,
    noun: "wiki page",
    title_field: "title",
    body_field: "body",
    slugged: true,
    unique_slugs: true,
    media_bodies: true,
    link_target: true,
    read: read_page,
    new_command: Some(NewCommand {
        usage: "!parvis wiki new \"Title\" [text]",
        title: "the page title",
        content: new_page,
    }),
};

fn read_page(content: &JsonObject) -> Result<PublicationContent, serde_json::Error> {
    let page: WikiPageEventContent = typed_content(content)?;
    Ok(PublicationContent {
        title: page.title,
        slug: page.slug,
        body: page.body,
        body_media: page
            .body_media
            .and_then(|media| media.mxc().map(ToString::to_string)),
        status: PublicationStatus::Published,
        requested_by: page.requested_by,
        fields: PublicationFields {
            parent: page.parent,
            tags: page.tags,
            ..PublicationFields::default()
        },
    })
}

fn new_page(new: &NewPublication) -> JsonObject {
    let mut page = WikiPageEventContent::new(&new.title, &new.slug, &new.body);
    page.requested_by = Some(new.requested_by.clone());
    content_object(&page)
}

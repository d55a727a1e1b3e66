//! The FAQ: questions and answers by category, written by moderators.
//!
//! Its event and its kind of published object are declared here; publishing's projection,
//! index and routes serve every such kind through its [`PublicationSpec`].

pub mod entry;

pub use entry::FaqEntryEventContent;

use crate::{
    events::{JsonObject, RoomPurpose},
    publishing::kind::{
        NewCommand, NewPublication, PublicationContent, PublicationFields, PublicationSpec,
        PublicationStatus, content_object, typed_content,
    },
    role::Role,
    tools::Tool,
};

/// The FAQ tool.
pub const TOOL: Tool = Tool {
    name: "faq",
    room: Some(RoomPurpose::Faq),
    widget: Some("faq"),
    events: &[("org.parvis.faq.entry", Role::Moderator)],
    help: &[
        "!parvis faq new \"Question\" [answer] — in a room of a community: add a question to the FAQ (moderators and above).",
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

/// FAQ entries, as published objects. Their slug is their question's.
pub const PUBLICATION: PublicationSpec = PublicationSpec {
    kind: "faq_entry",
    event_type: "org.parvis.faq.entry",
    tool: "faq",
    room: RoomPurpose::Faq,
    noun: "FAQ entry",
    title_field: "question",
    body_field: "answer",
    slugged: false,
    unique_slugs: false,
    media_bodies: false,
    link_target: false,
    read: read_entry,
    new_command: Some(NewCommand {
        usage: "!parvis faq new \"Question\" [answer]",
        title: "the question",
        content: new_entry,
    }),
};

fn read_entry(content: &JsonObject) -> Result<PublicationContent, serde_json::Error> {
    let entry: FaqEntryEventContent = typed_content(content)?;
    Ok(PublicationContent {
        title: entry.question,
        // The slug, as for any object without one, is the title's.
        slug: String::new(),
        body: entry.answer,
        body_media: None,
        status: PublicationStatus::Published,
        requested_by: entry.requested_by,
        fields: PublicationFields {
            category: entry.category,
            position: entry.order,
            ..PublicationFields::default()
        },
    })
}

fn new_entry(new: &NewPublication) -> JsonObject {
    let mut entry = FaqEntryEventContent::new(&new.title, &new.body);
    entry.requested_by = Some(new.requested_by.clone());
    content_object(&entry)
}

//! The blog: posts with drafts, revisions, comments and search.
//!
//! Its event and its kind of published object are declared here; publishing's projection,
//! index and routes serve every such kind through its [`PublicationSpec`].

pub mod post;

pub use post::{BlogPostEventContent, PostStatus};

use crate::{
    events::{JsonObject, RoomPurpose},
    publishing::kind::{
        NewCommand, NewPublication, PublicationContent, PublicationFields, PublicationSpec,
        PublicationStatus, content_object, typed_content,
    },
    role::Role,
    tools::Tool,
};

/// The blog tool.
pub const TOOL: Tool = Tool {
    name: "blog",
    room: Some(RoomPurpose::Blog),
    widget: Some("blog"),
    events: &[("org.parvis.blog.post", Role::Member)],
    help: &[
        "!parvis blog new \"Title\" [text] — in a room of a community: publish a blog post (members and above).",
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

/// Blog posts, as published objects: a draft is its author's only.
pub const PUBLICATION: PublicationSpec = PublicationSpec {
    kind: "blog_post",
    event_type: "org.parvis.blog.post",
    tool: "blog",
    room: RoomPurpose::Blog,
    noun: "blog post",
    title_field: "title",
    body_field: "body",
    slugged: true,
    unique_slugs: false,
    media_bodies: true,
    link_target: false,
    read: read_post,
    new_command: Some(NewCommand {
        usage: "!parvis blog new \"Title\" [text]",
        title: "the post title",
        content: new_post,
    }),
};

fn read_post(content: &JsonObject) -> Result<PublicationContent, serde_json::Error> {
    let post: BlogPostEventContent = typed_content(content)?;
    Ok(PublicationContent {
        title: post.title,
        slug: post.slug,
        body: post.body,
        body_media: post
            .body_media
            .and_then(|media| media.mxc().map(ToString::to_string)),
        status: match post.status {
            PostStatus::Draft => PublicationStatus::Draft,
            PostStatus::Published => PublicationStatus::Published,
        },
        requested_by: post.requested_by,
        fields: PublicationFields {
            tags: post.tags,
            ..PublicationFields::default()
        },
    })
}

/// A post written from the chat is published at once: its author has no draft view there.
fn new_post(new: &NewPublication) -> JsonObject {
    let mut post = BlogPostEventContent::new(&new.title, &new.slug, &new.body);
    post.status = PostStatus::Published;
    post.published_at = Some(new.now);
    post.requested_by = Some(new.requested_by.clone());
    content_object(&post)
}

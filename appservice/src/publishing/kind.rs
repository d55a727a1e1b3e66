//! What a publishing tool declares about its objects: a [`PublicationSpec`], one per tool that
//! publishes (the wiki, the blog, the FAQ, guides), in that tool's folder. The publishing code
//! (projection, index, routes, the bot's commands and notices) reads every kind through its spec
//! and never names one; [`crate::tools`] lists the specs through its registry.

use ruma::OwnedUserId;
use serde::Serialize;

use crate::events::{JsonObject, RoomPurpose};

/// A kind of published object, declared by its tool.
#[derive(Debug)]
pub struct PublicationSpec {
    /// Its name in the API, the index and search filters (`wiki_page`).
    pub kind: &'static str,
    /// Its state event type; the state key is the object's ID.
    pub event_type: &'static str,
    /// Its tool, as named in the API's paths (`/api/v1/communities/{space}/{tool}`).
    pub tool: &'static str,
    /// The community room its objects live in.
    pub room: RoomPurpose,
    /// What one object is called in messages to people (`wiki page`).
    pub noun: &'static str,
    /// The content field holding its title (`title`, `question`).
    pub title_field: &'static str,
    /// The content field holding its markdown body (`body`, `answer`, `description`).
    pub body_field: &'static str,
    /// Its content has a slug, the title's when the writer gave none.
    pub slugged: bool,
    /// Two objects of the room may not share a slug: `[[links]]` find them by it.
    pub unique_slugs: bool,
    /// A body over the event size limit goes to the media repository (`body_media`).
    pub media_bodies: bool,
    /// `[[links]]` in any body resolve to objects of this kind, by slug or title.
    pub link_target: bool,
    /// Reads an event content of this kind: what the index keeps of it, or why it is not one.
    pub read: fn(&JsonObject) -> Result<PublicationContent, serde_json::Error>,
    /// `!parvis {tool} new "Title" [text]`, when the tool has that command.
    pub new_command: Option<NewCommand>,
}

/// A tool's `!parvis {tool} new "Title" [text]` command: the bot writes the object on behalf of
/// the sender, when the sender may write it.
#[derive(Debug)]
pub struct NewCommand {
    /// Its usage line.
    pub usage: &'static str,
    /// What the first argument is (`the page title`).
    pub title: &'static str,
    /// The event content of a new object.
    pub content: fn(&NewPublication) -> JsonObject,
}

/// A new object the bot writes for someone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPublication {
    /// Its title.
    pub title: String,
    /// Its slug (unique in the room when the kind requires it).
    pub slug: String,
    /// Its markdown body, possibly empty.
    pub body: String,
    /// Who asked for it.
    pub requested_by: OwnedUserId,
    /// When, in milliseconds since the epoch.
    pub now: u64,
}

/// What an event content says of an object, as its tool reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicationContent {
    /// Title.
    pub title: String,
    /// Slug, empty when the content has none.
    pub slug: String,
    /// Markdown body (empty when it is in the media repository).
    pub body: String,
    /// The `mxc://` URI of a body kept in the media repository.
    pub body_media: Option<String>,
    /// `published`, or `draft` when only its author may see it.
    pub status: PublicationStatus,
    /// Who Parvis wrote it for, if Parvis wrote it.
    pub requested_by: Option<OwnedUserId>,
    /// What the index keeps beside the envelope.
    pub fields: PublicationFields,
}

/// Whether an object is visible to the members of its room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicationStatus {
    /// Only its author sees it.
    Draft,
    /// Every member of its room sees it.
    Published,
}

impl PublicationStatus {
    /// Its name in the index and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }
}

/// The attributes the index keeps of an object beside its envelope, for listing, filtering and
/// ordering it. Each kind fills those its content has and leaves the others empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicationFields {
    /// The object it sits under, in its tool's tree.
    pub parent: Option<String>,
    /// Its tags (search filters by them).
    pub tags: Vec<String>,
    /// The group it is listed under.
    pub category: String,
    /// Its place in its tool's list (ascending; 0 for kinds without an order).
    pub position: i64,
    /// The IDs of the objects it leads through, in reading order.
    pub pages: Vec<String>,
}

/// A kind of published object: a handle on its tool's [`PublicationSpec`]. Two handles are
/// equal when they name one kind. Parsed from its name or event type through the registry
/// ([`crate::tools::publication_kind`]).
#[derive(Clone, Copy)]
pub struct PublicationKind(&'static PublicationSpec);

impl PublicationKind {
    /// The kind `spec` declares.
    pub const fn of(spec: &'static PublicationSpec) -> Self {
        Self(spec)
    }

    /// Its declaration.
    pub fn spec(self) -> &'static PublicationSpec {
        self.0
    }

    /// Its state event type.
    pub fn event_type(self) -> &'static str {
        self.0.event_type
    }

    /// Its name in the API and the index.
    pub fn as_str(self) -> &'static str {
        self.0.kind
    }

    /// Its tool in the API's paths.
    pub fn tool(self) -> &'static str {
        self.0.tool
    }
}

impl PartialEq for PublicationKind {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind == other.0.kind
    }
}

impl Eq for PublicationKind {}

impl std::hash::Hash for PublicationKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.kind.hash(state);
    }
}

impl std::fmt::Debug for PublicationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.kind)
    }
}

impl std::fmt::Display for PublicationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.kind)
    }
}

impl Serialize for PublicationKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.kind)
    }
}

/// Reads an event content as the typed content of its kind.
pub fn typed_content<T: serde::de::DeserializeOwned>(
    content: &JsonObject,
) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::Value::Object(content.clone()))
}

/// A typed event content as the JSON object sent.
pub fn content_object<T: Serialize>(content: &T) -> JsonObject {
    match serde_json::to_value(content) {
        Ok(serde_json::Value::Object(object)) => object,
        // Event contents are structs of strings, numbers and lists: always an object.
        _ => JsonObject::new(),
    }
}

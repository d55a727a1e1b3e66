//! Published objects, of every kind the publishing tools declare, as the index holds them,
//! derived without I/O from their state events.

use ruma::{EventId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId};
use serde::Serialize;

use super::{
    kind::{PublicationFields, PublicationKind},
    render,
};
use crate::{events::JsonObject, tools};

/// The current version of a published object, as indexed: the envelope every kind has, and
/// the attributes its kind fills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicationRow {
    /// Its room.
    pub room_id: OwnedRoomId,
    /// Its kind.
    pub kind: PublicationKind,
    /// Its ID (the state key).
    pub object_id: String,
    /// The state event holding this version.
    pub event_id: OwnedEventId,
    /// Who wrote it (the requester when the bot wrote on their behalf).
    pub author: OwnedUserId,
    /// Title (what its kind's `title_field` holds).
    pub title: String,
    /// URL-friendly name.
    pub slug: String,
    /// Markdown body (what its kind's `body_field` holds).
    pub body: String,
    /// The `mxc://` URI of a body kept in the media repository, not yet read into `body`.
    pub body_media: Option<String>,
    /// `draft` (its author's only) or `published`.
    pub status: String,
    /// When this version was sent (ms since the epoch).
    pub updated_at: i64,
    /// Slugs of the pages this body links to (`[[…]]`).
    pub links: Vec<String>,
    /// What its kind keeps beside the envelope.
    pub fields: PublicationFields,
}

impl PublicationRow {
    /// Its kind.
    pub fn kind(&self) -> PublicationKind {
        self.kind
    }

    /// The title as searched (lowercase, accents folded).
    pub fn search_title(&self) -> String {
        render::fold_accents(&self.title)
    }

    /// The body as searched (plain text, lowercase, accents folded).
    pub fn search_body(&self) -> String {
        render::fold_accents(&render::plain_text(&self.body))
    }
}

/// A published object as the API gives it: the envelope and every kind's fields side by side
/// (those of other kinds empty), the shape clients have read since the first version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = PublicationRow)]
pub struct PublicationJson {
    /// Its room.
    #[schema(value_type = String)]
    pub room_id: OwnedRoomId,
    /// Its kind.
    pub kind: PublicationKind,
    /// Its ID (the state key).
    pub object_id: String,
    /// The state event holding this version.
    #[schema(value_type = String)]
    pub event_id: OwnedEventId,
    /// Who wrote it (the requester when the bot wrote on their behalf).
    #[schema(value_type = String)]
    pub author: OwnedUserId,
    /// Title (the question, for FAQ entries).
    pub title: String,
    /// URL-friendly name.
    pub slug: String,
    /// Markdown body (the answer, for FAQ entries; the description, for guides).
    pub body: String,
    /// The `mxc://` URI of a body kept in the media repository, not yet read into `body`.
    pub body_media: Option<String>,
    /// Parent page (wiki pages).
    pub parent: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// For guides: the wiki page IDs, in reading order.
    pub pages: Vec<String>,
    /// FAQ category.
    pub category: String,
    /// FAQ order (0 for the other kinds).
    pub position: i64,
    /// `draft`/`published` for blog posts, `published` for the others.
    pub status: String,
    /// When this version was sent (ms since the epoch).
    pub updated_at: i64,
    /// Slugs of the pages this body links to (`[[…]]`).
    pub links: Vec<String>,
}

impl From<PublicationRow> for PublicationJson {
    fn from(row: PublicationRow) -> Self {
        Self {
            kind: row.kind,
            parent: row.fields.parent,
            tags: row.fields.tags,
            pages: row.fields.pages,
            category: row.fields.category,
            position: row.fields.position,
            room_id: row.room_id,
            object_id: row.object_id,
            event_id: row.event_id,
            author: row.author,
            title: row.title,
            slug: row.slug,
            body: row.body,
            body_media: row.body_media,
            status: row.status,
            updated_at: row.updated_at,
            links: row.links,
        }
    }
}

/// What a publishing state event does to the index.
#[derive(Clone, Debug, PartialEq)]
pub enum PublicationChange {
    /// Index this version.
    Put(Box<PublicationRow>),
    /// The content is not (or no longer, after a redaction) a valid object: drop it.
    Remove {
        /// Room.
        room_id: OwnedRoomId,
        /// Kind.
        kind: PublicationKind,
        /// ID.
        object_id: String,
    },
}

/// A state event, as far as publishing reads it.
#[derive(Clone, Copy, Debug)]
pub struct PublishingEvent<'a> {
    /// Room.
    pub room_id: &'a RoomId,
    /// Event type.
    pub event_type: &'a str,
    /// State key: the object's ID.
    pub object_id: &'a str,
    /// Event ID.
    pub event_id: &'a EventId,
    /// Sender.
    pub sender: &'a UserId,
    /// Whether Parvis itself (its bot or a virtual user) sent it.
    pub sent_by_parvis: bool,
    /// When it was sent (ms since the epoch).
    pub origin_server_ts: i64,
    /// Content.
    pub content: &'a JsonObject,
}

/// A publishing state event's effect, or `None` when it is not of a publishing type.
/// The author is the sender, unless Parvis wrote on behalf of the `requested_by` in the content.
pub fn publication_change(event: PublishingEvent<'_>) -> Option<PublicationChange> {
    let PublishingEvent {
        room_id,
        event_type,
        object_id,
        event_id,
        sender,
        sent_by_parvis,
        origin_server_ts,
        content,
    } = event;
    let kind = tools::publication_kind_of_event(event_type)?;
    let Ok(object) = (kind.spec().read)(content) else {
        // Not (or no longer, after a redaction) an object of its kind.
        return Some(PublicationChange::Remove {
            room_id: room_id.to_owned(),
            kind,
            object_id: object_id.to_owned(),
        });
    };
    let slug = if object.slug.is_empty() {
        render::slugify(&object.title)
    } else {
        object.slug
    };
    let author = match object.requested_by {
        Some(requester) if sent_by_parvis => requester,
        _ => sender.to_owned(),
    };
    Some(PublicationChange::Put(Box::new(PublicationRow {
        room_id: room_id.to_owned(),
        kind,
        object_id: object_id.to_owned(),
        event_id: event_id.to_owned(),
        author,
        title: object.title,
        slug,
        links: link_targets(&object.body),
        body: object.body,
        body_media: object.body_media,
        status: object.status.as_str().to_owned(),
        updated_at: origin_server_ts,
        fields: object.fields,
    })))
}

/// The markdown body an object's event content holds: empty when the body is in the media
/// repository (`body_media`) or the content is not a valid object of this kind.
pub fn content_body(kind: PublicationKind, content: &JsonObject) -> String {
    (kind.spec().read)(content)
        .map(|object| object.body)
        .unwrap_or_default()
}

/// Where the index records an object's links from: `kind/object_id` (IDs are unique per kind
/// only).
pub fn link_source(kind: PublicationKind, object_id: &str) -> String {
    format!("{}/{object_id}", kind.as_str())
}

/// The slugs a body links to, sorted and deduplicated.
pub fn link_targets(body: &str) -> Vec<String> {
    let mut links: Vec<String> = render::extract_wiki_links(body)
        .into_iter()
        .map(|link| render::slugify(&link.target))
        .collect();
    links.sort();
    links.dedup();
    links
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn change(
        event_type: &str,
        sender: &str,
        by_parvis: bool,
        content: Value,
    ) -> Option<PublicationChange> {
        let Value::Object(content) = content else {
            panic!()
        };
        publication_change(PublishingEvent {
            room_id: ruma::room_id!("!wiki:hs"),
            event_type,
            object_id: "p1",
            event_id: ruma::event_id!("$e"),
            sender: <&UserId>::try_from(sender).unwrap(),
            sent_by_parvis: by_parvis,
            origin_server_ts: 7,
            content: &content,
        })
    }

    #[test]
    fn wiki_page_is_indexed_with_links() {
        let Some(PublicationChange::Put(row)) = change(
            "org.parvis.wiki.page",
            "@alice:hs",
            false,
            json!({"title": "Événement", "slug": "evenement", "body": "Voir [[Accueil]] et [[Réunion du lundi|la réunion]].", "tags": ["rh"]}),
        ) else {
            panic!()
        };
        assert_eq!(
            (row.title.as_str(), row.author.as_str(), row.updated_at),
            ("Événement", "@alice:hs", 7)
        );
        assert_eq!(
            row.links,
            vec!["accueil".to_owned(), "reunion-du-lundi".to_owned()]
        );
        assert_eq!(row.search_title(), "evenement");
    }

    #[test]
    fn a_page_without_a_slug_takes_its_titles() {
        // Any Matrix client may write a page knowing only its title and body.
        let Some(PublicationChange::Put(row)) = change(
            "org.parvis.wiki.page",
            "@alice:hs",
            false,
            json!({"title": "Réunion du lundi", "body": "Ordre du jour"}),
        ) else {
            panic!("a page without a slug is a page")
        };
        assert_eq!(row.slug, "reunion-du-lundi");
        let Some(PublicationChange::Put(row)) = change(
            "org.parvis.wiki.page",
            "@alice:hs",
            false,
            json!({"title": "Réunion du lundi", "slug": "", "body": ""}),
        ) else {
            panic!()
        };
        assert_eq!(row.slug, "reunion-du-lundi");
        // Without a title, still nothing.
        assert!(matches!(
            change(
                "org.parvis.wiki.page",
                "@alice:hs",
                false,
                json!({"body": "b"})
            ),
            Some(PublicationChange::Remove { .. })
        ));
    }

    #[test]
    fn the_requester_is_the_author_only_when_parvis_wrote() {
        let content = json!({"question": "Q ?", "answer": "A", "requested_by": "@bob:hs"});
        let Some(PublicationChange::Put(row)) =
            change("org.parvis.faq.entry", "@parvis:hs", true, content.clone())
        else {
            panic!()
        };
        assert_eq!(row.author, "@bob:hs");
        // A user cannot claim someone else wrote their text.
        let Some(PublicationChange::Put(row)) =
            change("org.parvis.faq.entry", "@mallory:hs", false, content)
        else {
            panic!()
        };
        assert_eq!(row.author, "@mallory:hs");
    }

    #[test]
    fn invalid_or_redacted_content_removes() {
        assert!(matches!(
            change("org.parvis.wiki.page", "@a:hs", false, json!({})),
            Some(PublicationChange::Remove { .. })
        ));
        assert_eq!(
            change("m.room.topic", "@a:hs", false, json!({"topic": "x"})),
            None
        );
    }
}

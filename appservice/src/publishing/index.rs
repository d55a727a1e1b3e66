//! What the index holds of published objects: the publishing tools' read queries, run through
//! [`IndexStore::tool_rows`] as they are on both backends, so the store knows no publishing
//! query.

use std::future::Future;

use ruma::{EventId, RoomId};

use crate::{
    projection::{CommentRow, RevisionRow},
    publishing::{
        kind::{PublicationFields, PublicationKind},
        publication::{PublicationRow, link_source, link_targets},
    },
    store::{IndexStore, Result, StoreError, body_of},
    tools::{self, SqlValue, ToolRow},
};

/// A published object with its body: the stored one, or its current revision's content.
const PUBLICATION: &str = "SELECT p.room_id, p.object_id, p.event_id, p.author, p.title, p.slug, p.body, \
     p.body_media, p.parent, p.tags, p.category, p.position, p.status, p.updated_at, p.pages, r.content \
     FROM publications p LEFT JOIN publication_revisions r ON r.event_id = p.event_id \
     WHERE p.room_id = $1 AND p.kind = $2 AND p.object_id = $3";

/// The published objects of a kind in a room without their bodies (listings), in the same
/// columns as [`PUBLICATION`].
const PUBLICATION_SUMMARIES: &str = "SELECT room_id, object_id, event_id, author, title, slug, CAST(NULL AS TEXT), \
     body_media, parent, tags, category, position, status, updated_at, pages, CAST(NULL AS TEXT) \
     FROM publications WHERE room_id = $1 AND kind = $2 ORDER BY position, title, object_id";

/// The links of one object.
const LINKS: &str = "SELECT target_slug FROM publication_links WHERE room_id = $1 AND from_id = $2 ORDER BY target_slug";

/// The objects linking to a slug.
const BACKLINKS: &str = "SELECT from_id FROM publication_links WHERE room_id = $1 AND target_slug = $2 ORDER BY from_id";

/// The columns of a revision.
const REVISION_COLUMNS: &str = "SELECT event_id, room_id, kind, object_id, sender, origin_server_ts, replaces, content FROM publication_revisions";

/// The comments on an object, on any of its revisions.
const COMMENTS: &str = "SELECT c.event_id, c.thread_root, c.sender, c.body, c.origin_server_ts FROM comments c \
     JOIN publication_revisions r ON r.event_id = c.thread_root \
     WHERE r.room_id = $1 AND r.kind = $2 AND r.object_id = $3 ORDER BY c.origin_server_ts, c.event_id";

/// Reading published objects from any index.
pub trait PublicationIndex: IndexStore {
    /// The published objects of a kind in a room, by position and title, without their bodies
    /// (`body` is empty: [`PublicationIndex::publication`] reads one).
    fn publications(
        &self,
        room_id: &RoomId,
        kind: PublicationKind,
    ) -> impl Future<Output = Result<Vec<PublicationRow>>> + Send
    where
        Self: Sized,
    {
        async move {
            let rows = self
                .tool_rows(PUBLICATION_SUMMARIES, object_args(room_id, kind, None))
                .await?;
            rows.into_iter()
                .map(|row| publication_from_row(row, kind))
                .collect()
        }
    }

    /// One published object, with its body and links.
    fn publication(
        &self,
        room_id: &RoomId,
        kind: PublicationKind,
        object_id: &str,
    ) -> impl Future<Output = Result<Option<PublicationRow>>> + Send
    where
        Self: Sized,
    {
        async move {
            let rows = self
                .tool_rows(PUBLICATION, object_args(room_id, kind, Some(object_id)))
                .await?;
            let Some(row) = rows.into_iter().next() else {
                return Ok(None);
            };
            let mut publication = publication_from_row(row, kind)?;
            let links = self
                .tool_rows(
                    LINKS,
                    vec![room_id.as_str().into(), link_source(kind, object_id).into()],
                )
                .await?;
            publication.links = links
                .into_iter()
                .map(|row| ToolRow::new(row).text())
                .collect::<std::result::Result<_, _>>()?;
            Ok(Some(publication))
        }
    }

    /// The revisions of an object, oldest first.
    fn revisions(
        &self,
        room_id: &RoomId,
        kind: PublicationKind,
        object_id: &str,
    ) -> impl Future<Output = Result<Vec<RevisionRow>>> + Send
    where
        Self: Sized,
    {
        async move {
            let statement = format!(
                "{REVISION_COLUMNS} WHERE room_id = $1 AND kind = $2 AND object_id = $3 \
                 ORDER BY origin_server_ts, event_id"
            );
            let rows = self
                .tool_rows(&statement, object_args(room_id, kind, Some(object_id)))
                .await?;
            rows.into_iter().map(revision_from_row).collect()
        }
    }

    /// One revision, by its event ID.
    fn revision(
        &self,
        event_id: &EventId,
    ) -> impl Future<Output = Result<Option<RevisionRow>>> + Send
    where
        Self: Sized,
    {
        async move {
            let statement = format!("{REVISION_COLUMNS} WHERE event_id = $1");
            let rows = self
                .tool_rows(&statement, vec![event_id.as_str().into()])
                .await?;
            rows.into_iter().next().map(revision_from_row).transpose()
        }
    }

    /// Whether a revision is recorded.
    fn has_revision(&self, event_id: &EventId) -> impl Future<Output = Result<bool>> + Send
    where
        Self: Sized,
    {
        async move {
            let rows = self
                .tool_rows(
                    "SELECT event_id FROM publication_revisions WHERE event_id = $1",
                    vec![event_id.as_str().into()],
                )
                .await?;
            Ok(!rows.is_empty())
        }
    }

    /// The comments on an object (on any of its revisions), oldest first.
    fn comments(
        &self,
        room_id: &RoomId,
        kind: PublicationKind,
        object_id: &str,
    ) -> impl Future<Output = Result<Vec<CommentRow>>> + Send
    where
        Self: Sized,
    {
        async move {
            let rows = self
                .tool_rows(COMMENTS, object_args(room_id, kind, Some(object_id)))
                .await?;
            rows.into_iter()
                .map(|row| {
                    let mut row = ToolRow::new(row);
                    Ok(CommentRow {
                        event_id: parsed(row.text()?)?,
                        room_id: room_id.to_owned(),
                        thread_root: parsed(row.text()?)?,
                        sender: parsed(row.text()?)?,
                        body: row.text()?,
                        origin_server_ts: row.integer()?,
                    })
                })
                .collect()
        }
    }

    /// Objects of the room whose body links to `slug`: `(kind, object_id)`.
    fn backlinks(
        &self,
        room_id: &RoomId,
        slug: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>>> + Send
    where
        Self: Sized,
    {
        async move {
            let rows = self
                .tool_rows(BACKLINKS, vec![room_id.as_str().into(), slug.into()])
                .await?;
            let mut sources = Vec::with_capacity(rows.len());
            for row in rows {
                let source = ToolRow::new(row).text()?;
                if let Some((kind, id)) = source.split_once('/') {
                    sources.push((kind.to_owned(), id.to_owned()));
                }
            }
            Ok(sources)
        }
    }

    /// Sets the body of an object read from the media repository, if `event_id` is still its
    /// current revision (re-deriving its search text and links).
    fn set_publication_body(
        &self,
        room_id: &RoomId,
        kind: PublicationKind,
        object_id: &str,
        event_id: &EventId,
        body: &str,
    ) -> impl Future<Output = Result<()>> + Send
    where
        Self: Sized,
    {
        async move {
            let Some(mut row) = self.publication(room_id, kind, object_id).await? else {
                return Ok(());
            };
            if row.event_id != event_id.as_str() {
                return Ok(());
            }
            row.body = body.to_owned();
            row.links = link_targets(body);
            self.put_publications(vec![row]).await
        }
    }
}

impl<S: IndexStore> PublicationIndex for S {}

/// `$1` the room, `$2` the kind, `$3` the object when there is one.
fn object_args(room_id: &RoomId, kind: PublicationKind, object_id: Option<&str>) -> Vec<SqlValue> {
    let mut args = vec![room_id.as_str().into(), kind.as_str().into()];
    args.extend(object_id.map(SqlValue::from));
    args
}

/// A publication from the columns of [`PUBLICATION`] or [`PUBLICATION_SUMMARIES`].
fn publication_from_row(row: Vec<SqlValue>, kind: PublicationKind) -> Result<PublicationRow> {
    let mut row = ToolRow::new(row);
    let room_id = row.text()?;
    let object_id = row.text()?;
    let event_id = row.text()?;
    let author = row.text()?;
    let title = row.text()?;
    let slug = row.text()?;
    let stored_body = row.optional_text()?;
    let body_media = row.optional_text()?;
    let parent = row.optional_text()?;
    let tags = split_list(&row.text()?);
    let category = row.text()?;
    let position = row.integer()?;
    let status = row.text()?;
    let updated_at = row.integer()?;
    let pages = split_list(&row.text()?);
    let content = row.optional_text()?;
    Ok(PublicationRow {
        room_id: parsed(room_id)?,
        kind,
        object_id,
        event_id: parsed(event_id)?,
        author: parsed(author)?,
        title,
        slug,
        body: body_of(kind, stored_body, content)?,
        body_media,
        status,
        updated_at,
        links: Vec::new(),
        fields: PublicationFields {
            parent,
            tags,
            category,
            position,
            pages,
        },
    })
}

/// A Matrix ID as stored: the index only holds valid ones (they came from events).
fn parsed<T: TryFrom<String>>(text: String) -> Result<T>
where
    T::Error: std::fmt::Display,
{
    T::try_from(text).map_err(|e| StoreError::Corrupt(format!("Matrix ID: {e}")))
}

/// A comma-separated list as stored (`tags`, `pages`).
fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A revision from the columns of [`REVISION_COLUMNS`].
fn revision_from_row(row: Vec<SqlValue>) -> Result<RevisionRow> {
    let mut row = ToolRow::new(row);
    let event_id = parsed(row.text()?)?;
    let room_id = parsed(row.text()?)?;
    let kind = row.text()?;
    Ok(RevisionRow {
        event_id,
        room_id,
        kind: tools::publication_kind(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("revision kind {kind}")))?,
        object_id: row.text()?,
        sender: parsed(row.text()?)?,
        origin_server_ts: row.integer()?,
        replaces: row.optional_text()?.map(parsed).transpose()?,
        content: serde_json::from_str(&row.text()?)
            .map_err(|e| StoreError::Corrupt(format!("revision content: {e}")))?,
    })
}

//! Storage of the index, behind the [`IndexStore`] trait, on SQLite (the embedded default) or
//! PostgreSQL. Both backends run the same SQL (placeholders are `$n` in both), one module
//! (`backend/sql.rs`) compiled for each, and the same conformance tests (`tests.rs`).

use std::{collections::HashSet, future::Future};

use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, UserId,
    events::{StateEventType, room::member::MembershipState},
};
use serde::Serialize;

use crate::{
    projection::{
        CommentRow, IndexChange, Job, ProjectionContext, RevisionRow, RoomEvent, SkippedEvent,
    },
    publishing::{kind::PublicationKind, publication::PublicationRow},
};

mod backend;
pub mod digest;
mod search_words;
#[cfg(test)]
pub(crate) mod tests;

pub use backend::{PostgresIndex, PostgresWrite, SqliteIndex, SqliteWrite};

/// Why the index could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Stored data could not be decoded (a bug, or a database edited by hand).
    #[error("corrupt index data: {0}")]
    Corrupt(String),
}

impl From<crate::tools::UnexpectedColumn> for StoreError {
    fn from(column: crate::tools::UnexpectedColumn) -> Self {
        Self::Corrupt(column.to_string())
    }
}

impl StoreError {
    /// Whether the same write may succeed later: the database is unreachable, overloaded, out
    /// of disk, read-only or busy. Anything else (a constraint, an encoding the database
    /// refuses, corrupt data) fails the same way on every attempt, so the homeserver's
    /// transaction must not be refused for it: the event at fault is skipped instead.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(error)) => {
                let code = error.code();
                let code = code.as_deref().unwrap_or_default();
                // PostgreSQL SQLSTATE classes: connection exception, transaction rollback,
                // insufficient resources, operator intervention, system error; read-only
                // transaction; lock not available.
                let postgres = ["08", "40", "53", "57", "58"]
                    .iter()
                    .any(|class| code.starts_with(class))
                    || matches!(code, "25006" | "55P03");
                // SQLite primary result codes: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN,
                // PROTOCOL (extended codes carry the primary one in their low byte).
                let sqlite = code
                    .parse::<u32>()
                    .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 8 | 10 | 13 | 14 | 15));
                postgres || sqlite
            }
            Self::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            Self::Database(_) | Self::Corrupt(_) => false,
            Self::Migration(_) => true,
        }
    }

    /// Whether the database gave up on a write because it conflicted with another one running
    /// at the same time (a deadlock or serialisation failure in PostgreSQL, a busy or locked
    /// database in SQLite): the same write, run again, succeeds.
    pub fn is_conflict(&self) -> bool {
        let Self::Database(sqlx::Error::Database(error)) = self else {
            return false;
        };
        matches!(
            error.code().as_deref(),
            // PostgreSQL: serialization_failure, deadlock_detected.
            Some("40001" | "40P01")
            // SQLite: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_BUSY_SNAPSHOT.
            | Some("5" | "6" | "517")
        )
    }
}

/// How many times a write is tried when it conflicts with another.
const WRITE_ATTEMPTS: u32 = 5;

/// Runs `write` (one database transaction) again when it conflicted with a concurrent write,
/// after a short, growing pause: the transactions of the homeserver's pushes, the reconciliation
/// of a room and the job worker may lock the same rows in different orders.
pub(crate) async fn retry_conflicts<T, F, Fut>(mut write: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(error) if error.is_conflict() && attempt < WRITE_ATTEMPTS => {
                tracing::info!(%error, attempt, "a write conflicted with another; running it again");
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A job taken from the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedJob {
    /// Queue position.
    pub id: i64,
    /// The work.
    pub job: Job,
    /// Earlier failed attempts.
    pub attempts: i64,
}

/// A community as the index knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CommunitySummary {
    /// Its space.
    #[schema(value_type = String)]
    pub space_id: OwnedRoomId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Enabled tools.
    pub tools: Vec<String>,
    /// Who asked for it.
    pub requested_by: String,
    /// Its rooms and what each is for: `[room ID, purpose]`.
    #[schema(value_type = Vec<Vec<String>>)]
    pub rooms: Vec<(OwnedRoomId, String)>,
}

/// A full-text search, limited to what `user_id` may read.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// The words searched.
    pub text: String,
    /// The user searching: only rooms they are joined to are searched.
    pub user_id: String,
    /// Only this kind (`wiki_page`, `blog_post`…), when set.
    pub kind: Option<String>,
    /// Only objects with this tag, when set.
    pub tag: Option<String>,
    /// Only objects by this author, when set.
    pub author: Option<String>,
    /// Only this community's rooms (its space ID), when set.
    pub community: Option<String>,
    /// Most results returned.
    pub limit: i64,
}

/// Longest search text taken, in bytes.
pub const MAX_SEARCH_BYTES: usize = 512;
/// Most words searched: the first ones are kept.
pub const MAX_SEARCH_WORDS: usize = 16;

/// A search text over [`MAX_SEARCH_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the search is over {MAX_SEARCH_BYTES} bytes: use fewer words")]
pub struct SearchTooLong;

impl SearchQuery {
    /// The words of a search, bounded: a text over [`MAX_SEARCH_BYTES`] is refused, and only
    /// the first [`MAX_SEARCH_WORDS`] words are searched (each word is a term the index must
    /// match).
    pub fn bounded_text(text: &str) -> std::result::Result<String, SearchTooLong> {
        if text.len() > MAX_SEARCH_BYTES {
            return Err(SearchTooLong);
        }
        Ok(text
            .split_whitespace()
            .take(MAX_SEARCH_WORDS)
            .collect::<Vec<_>>()
            .join(" "))
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// Room.
    #[schema(value_type = String)]
    pub room_id: OwnedRoomId,
    /// Kind.
    pub kind: PublicationKind,
    /// Object ID.
    pub object_id: String,
    /// Title.
    pub title: String,
    /// Slug.
    pub slug: String,
    /// Author.
    #[schema(value_type = String)]
    pub author: OwnedUserId,
    /// Last change (ms since the epoch).
    pub updated_at: i64,
    /// An extract around the matches, HTML-escaped, matches wrapped in `<mark>`.
    pub snippet: String,
    /// Relevance (higher is better).
    pub score: f64,
}

/// What decides a user's access to a room, as the index holds it, read in one go.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoomAccessState {
    /// The room's change stamp: a new random value each time something indexed from the room
    /// changes, so answers computed from it can be kept until it moves. `None`: the room is
    /// not followed.
    pub stamp: Option<i64>,
    /// The user's membership.
    pub membership: Option<MembershipState>,
    /// The room's `m.room.power_levels` content.
    pub power_levels: Option<crate::projection::JsonObject>,
    /// The room's `m.room.create`: sender and content.
    pub create: Option<(OwnedUserId, crate::projection::JsonObject)>,
    /// The room has `m.room.encryption`.
    pub encrypted: bool,
}

/// The operations of the index storage. Every write that belongs to one homeserver
/// transaction happens in one database transaction.
pub trait IndexStore: Send + Sync {
    /// A database transaction writing the index.
    type Write: IndexWrite;

    /// Begins a write: nothing of it is seen by readers until [`IndexWrite::commit`], and it
    /// is rolled back when dropped uncommitted.
    fn begin_write(&self) -> impl Future<Output = Result<Self::Write>> + Send;

    /// Stops following `room_id` and drops what was indexed from it.
    fn forget_room(&self, room_id: &OwnedRoomId) -> impl Future<Output = Result<()>> + Send;

    /// Rooms the index follows.
    fn tracked_rooms(&self) -> impl Future<Output = Result<Vec<OwnedRoomId>>> + Send;

    /// Empties the index (projection and processed events; the job queue stays).
    fn clear(&self) -> impl Future<Output = Result<()>> + Send;

    /// A stable digest of the projection (not of bookkeeping), to compare indexes.
    fn digest(&self) -> impl Future<Output = Result<String>> + Send;

    /// Queues a job to run at once.
    fn enqueue(&self, job: &Job) -> impl Future<Output = Result<()>> + Send;

    /// The oldest job due at `now_ms`, if any.
    fn next_job(&self, now_ms: i64) -> impl Future<Output = Result<Option<QueuedJob>>> + Send;

    /// When the next job is due (milliseconds since the epoch), if any is queued.
    fn next_job_due(&self) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// How many jobs are queued (due or to be retried; parked ones not counted), and when the
    /// first is due.
    fn job_queue(&self) -> impl Future<Output = Result<(u64, Option<i64>)>> + Send;

    /// Removes a finished job.
    fn complete_job(&self, id: i64) -> impl Future<Output = Result<()>> + Send;

    /// Reschedules a failed job at `not_before_ms`, recording the error.
    fn retry_job(
        &self,
        id: i64,
        not_before_ms: i64,
        error: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Communities in the index, with their rooms.
    fn communities(&self) -> impl Future<Output = Result<Vec<CommunitySummary>>> + Send;

    /// The membership of `user_id` in `room_id`, if known.
    fn membership(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> impl Future<Output = Result<Option<MembershipState>>> + Send;

    /// What decides `user_id`'s access to `room_id` (membership, power levels, creation,
    /// encryption) and the room's change stamp, in one read.
    fn room_access(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> impl Future<Output = Result<RoomAccessState>> + Send;

    /// A community's rooms with their purposes; `None` when there is no such community.
    fn community_rooms(
        &self,
        space_id: &RoomId,
    ) -> impl Future<Output = Result<Option<Vec<(OwnedRoomId, String)>>>> + Send;

    /// The sender and content of a room's current state event, if indexed.
    fn state_content(
        &self,
        room_id: &RoomId,
        event_type: &StateEventType,
        state_key: &str,
    ) -> impl Future<Output = Result<Option<(OwnedUserId, crate::projection::JsonObject)>>> + Send;

    /// Every current state event of `event_type` in a room: state key, sender and content,
    /// by state key (the members of a room, with `m.room.member`).
    fn state_events(
        &self,
        room_id: &RoomId,
        event_type: &StateEventType,
    ) -> impl Future<Output = Result<Vec<(String, OwnedUserId, crate::projection::JsonObject)>>> + Send;

    /// The whole indexed current state of `room_id`, in no particular order (a reconcile
    /// compares it with the homeserver's).
    fn room_state(
        &self,
        room_id: &RoomId,
    ) -> impl Future<Output = Result<Vec<crate::projection::StateRow>>> + Send;

    /// Records comments fetched from the homeserver's history.
    fn put_comments(&self, comments: Vec<CommentRow>) -> impl Future<Output = Result<()>> + Send;

    /// Records revisions fetched from the homeserver's history.
    fn put_revisions(&self, revisions: Vec<RevisionRow>)
    -> impl Future<Output = Result<()>> + Send;

    /// Records objects as they are now (a body read from the media repository), with their
    /// search text and links. Reading them is the publishing tools' own
    /// (`crate::publishing::index`).
    fn put_publications(
        &self,
        publications: Vec<PublicationRow>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Runs tools' writes planned outside a transaction's projection (events decrypted
    /// later, history fetched) of `room_id`, in one database transaction.
    fn apply_tool_writes(
        &self,
        room_id: &OwnedRoomId,
        writes: Vec<crate::tools::ToolWrite>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Rows of a tool's read query (`$1`… parameters), each column as text, integer or null.
    fn tool_rows(
        &self,
        statement: &str,
        args: Vec<crate::tools::SqlValue>,
    ) -> impl Future<Output = Result<Vec<Vec<crate::tools::SqlValue>>>> + Send;

    /// Full-text search, best results first.
    fn search(&self, query: &SearchQuery) -> impl Future<Output = Result<Vec<SearchHit>>> + Send;

    /// Objects written whose words search has not indexed yet: SQLite indexes them beside the
    /// writer (a search waits for those written before it); PostgreSQL in the write (always 0).
    fn search_backlog(&self) -> impl Future<Output = Result<u64>> + Send;

    /// Forgets processed-event records and skipped events older than `before_ms` (the
    /// homeserver no longer redelivers them) and all but the newest parked jobs; returns how
    /// many processed-event records were removed.
    fn prune_processed(&self, before_ms: i64) -> impl Future<Output = Result<u64>> + Send;

    /// How many copies of `job` wait in the queue (parked ones aside).
    fn pending_jobs(&self, job: &Job) -> impl Future<Output = Result<u64>> + Send;

    /// Records events skipped before reaching the planner (malformed, too large, refused by
    /// the database), with their reasons.
    fn record_skipped(&self, skipped: &[SkippedEvent]) -> impl Future<Output = Result<()>> + Send;

    /// The most recently skipped events, newest first.
    fn skipped_events(&self, limit: i64) -> impl Future<Output = Result<Vec<SkippedEvent>>> + Send;
}

/// One database transaction writing the index. The indexer (`crate::indexer`) runs the
/// planner between [`IndexWrite::context`] and [`IndexWrite::apply`]: the store reads what the
/// planner asks for and saves what it computed, and never plans itself.
pub trait IndexWrite: Send {
    /// Marks `events` processed and returns those seen for the first time, in order (the
    /// others were processed by an earlier delivery).
    fn claim(
        &mut self,
        events: &[RoomEvent],
    ) -> impl Future<Output = Result<Vec<RoomEvent>>> + Send;

    /// What the index knows of the rooms of `events` that the planner needs.
    fn context(
        &mut self,
        events: &[RoomEvent],
    ) -> impl Future<Output = Result<ProjectionContext>> + Send;

    /// Saves `changes`, in order; returns how many jobs they queued.
    fn apply(&mut self, changes: Vec<IndexChange>) -> impl Future<Output = Result<usize>> + Send;

    /// Commits the transaction.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
}

/// The index on the configured backend.
#[derive(Clone, Debug)]
pub enum Index {
    /// SQLite file (the default).
    Sqlite(SqliteIndex),
    /// PostgreSQL server.
    Postgres(PostgresIndex),
}

/// The migrations of an index database, as read without changing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationState {
    /// The versions applied; `None` when the database does not exist yet (SQLite).
    pub applied: Option<Vec<i64>>,
    /// The versions this binary has, with their descriptions.
    pub known: Vec<(i64, String)>,
}

impl MigrationState {
    /// Reads the state of the database at `url` (`sqlite://…` or `postgres://…`).
    pub async fn read(url: &str) -> Result<Self> {
        let migrations = |migrator: sqlx::migrate::Migrator| -> Vec<(i64, String)> {
            migrator
                .iter()
                .map(|migration| (migration.version, migration.description.to_string()))
                .collect()
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self {
                applied: Some(PostgresIndex::migrations_applied(url).await?),
                known: migrations(sqlx::migrate!("./migrations/postgres")),
            })
        } else {
            Ok(Self {
                applied: SqliteIndex::migrations_applied(url).await?,
                known: migrations(sqlx::migrate!("./migrations/sqlite")),
            })
        }
    }
}

impl Index {
    /// Writes everything out and closes the connections (SQLite: its logs are folded into the
    /// files, so they can be moved).
    pub async fn close(&self) {
        match self {
            Self::Sqlite(index) => index.close().await,
            Self::Postgres(index) => index.close().await,
        }
    }

    /// Connects to the database `url` (`sqlite://…` or `postgres://…`) and migrates it.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(
                PostgresIndex::connect(url, max_connections).await?,
            ))
        } else {
            Ok(Self::Sqlite(
                SqliteIndex::connect(url, max_connections).await?,
            ))
        }
    }
}

macro_rules! delegate {
    ($self:ident, $index:ident => $call:expr) => {
        match $self {
            Self::Sqlite($index) => $call.await,
            Self::Postgres($index) => $call.await,
        }
    };
}

/// A write on the configured backend.
#[derive(Debug)]
pub enum IndexWriter {
    /// On SQLite.
    Sqlite(SqliteWrite),
    /// On PostgreSQL.
    Postgres(PostgresWrite),
}

impl IndexWrite for IndexWriter {
    async fn claim(&mut self, events: &[RoomEvent]) -> Result<Vec<RoomEvent>> {
        delegate!(self, write => write.claim(events))
    }
    async fn context(&mut self, events: &[RoomEvent]) -> Result<ProjectionContext> {
        delegate!(self, write => write.context(events))
    }
    async fn apply(&mut self, changes: Vec<IndexChange>) -> Result<usize> {
        delegate!(self, write => write.apply(changes))
    }
    async fn commit(self) -> Result<()> {
        delegate!(self, write => write.commit())
    }
}

impl IndexStore for Index {
    type Write = IndexWriter;

    async fn begin_write(&self) -> Result<IndexWriter> {
        Ok(match self {
            Self::Sqlite(index) => IndexWriter::Sqlite(index.begin_write().await?),
            Self::Postgres(index) => IndexWriter::Postgres(index.begin_write().await?),
        })
    }
    async fn forget_room(&self, room_id: &OwnedRoomId) -> Result<()> {
        delegate!(self, index => index.forget_room(room_id))
    }
    async fn tracked_rooms(&self) -> Result<Vec<OwnedRoomId>> {
        delegate!(self, index => index.tracked_rooms())
    }
    async fn clear(&self) -> Result<()> {
        delegate!(self, index => index.clear())
    }
    async fn digest(&self) -> Result<String> {
        delegate!(self, index => index.digest())
    }
    async fn enqueue(&self, job: &Job) -> Result<()> {
        delegate!(self, index => index.enqueue(job))
    }
    async fn next_job(&self, now_ms: i64) -> Result<Option<QueuedJob>> {
        delegate!(self, index => index.next_job(now_ms))
    }
    async fn next_job_due(&self) -> Result<Option<i64>> {
        delegate!(self, index => index.next_job_due())
    }
    async fn job_queue(&self) -> Result<(u64, Option<i64>)> {
        delegate!(self, index => index.job_queue())
    }
    async fn complete_job(&self, id: i64) -> Result<()> {
        delegate!(self, index => index.complete_job(id))
    }
    async fn retry_job(&self, id: i64, not_before_ms: i64, error: &str) -> Result<()> {
        delegate!(self, index => index.retry_job(id, not_before_ms, error))
    }
    async fn communities(&self) -> Result<Vec<CommunitySummary>> {
        delegate!(self, index => index.communities())
    }
    async fn prune_processed(&self, before_ms: i64) -> Result<u64> {
        delegate!(self, index => index.prune_processed(before_ms))
    }
    async fn pending_jobs(&self, job: &Job) -> Result<u64> {
        delegate!(self, index => index.pending_jobs(job))
    }
    async fn record_skipped(&self, skipped: &[SkippedEvent]) -> Result<()> {
        delegate!(self, index => index.record_skipped(skipped))
    }
    async fn skipped_events(&self, limit: i64) -> Result<Vec<SkippedEvent>> {
        delegate!(self, index => index.skipped_events(limit))
    }
    async fn membership(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> Result<Option<MembershipState>> {
        delegate!(self, index => index.membership(room_id, user_id))
    }
    async fn room_access(&self, room_id: &RoomId, user_id: &UserId) -> Result<RoomAccessState> {
        delegate!(self, index => index.room_access(room_id, user_id))
    }
    async fn community_rooms(
        &self,
        space_id: &RoomId,
    ) -> Result<Option<Vec<(OwnedRoomId, String)>>> {
        delegate!(self, index => index.community_rooms(space_id))
    }
    async fn state_content(
        &self,
        room_id: &RoomId,
        event_type: &StateEventType,
        state_key: &str,
    ) -> Result<Option<(OwnedUserId, crate::projection::JsonObject)>> {
        delegate!(self, index => index.state_content(room_id, event_type, state_key))
    }
    async fn state_events(
        &self,
        room_id: &RoomId,
        event_type: &StateEventType,
    ) -> Result<Vec<(String, OwnedUserId, crate::projection::JsonObject)>> {
        delegate!(self, index => index.state_events(room_id, event_type))
    }
    async fn room_state(&self, room_id: &RoomId) -> Result<Vec<crate::projection::StateRow>> {
        delegate!(self, index => index.room_state(room_id))
    }
    async fn put_comments(&self, comments: Vec<CommentRow>) -> Result<()> {
        delegate!(self, index => index.put_comments(comments))
    }
    async fn put_revisions(&self, revisions: Vec<RevisionRow>) -> Result<()> {
        delegate!(self, index => index.put_revisions(revisions))
    }
    async fn put_publications(&self, publications: Vec<PublicationRow>) -> Result<()> {
        delegate!(self, index => index.put_publications(publications))
    }
    async fn apply_tool_writes(
        &self,
        room_id: &OwnedRoomId,
        writes: Vec<crate::tools::ToolWrite>,
    ) -> Result<()> {
        delegate!(self, index => index.apply_tool_writes(room_id, writes))
    }
    async fn tool_rows(
        &self,
        statement: &str,
        args: Vec<crate::tools::SqlValue>,
    ) -> Result<Vec<Vec<crate::tools::SqlValue>>> {
        delegate!(self, index => index.tool_rows(statement, args))
    }
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        delegate!(self, index => index.search(query))
    }
    async fn search_backlog(&self) -> Result<u64> {
        delegate!(self, index => index.search_backlog())
    }
}

/// Distinct values of `items` in first-seen order.
fn distinct<'a, T: AsRef<str> + ?Sized + 'a>(
    items: impl IntoIterator<Item = &'a T>,
) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .map(AsRef::as_ref)
        .filter(|item| seen.insert(*item))
        .collect()
}

/// An object's markdown body: the one stored with it (read from the media repository), else
/// the one in its current revision's `content` (JSON), else none (a listing).
pub(crate) fn body_of(
    kind: crate::publishing::kind::PublicationKind,
    stored: Option<String>,
    content: Option<String>,
) -> Result<String> {
    Ok(match (stored, content) {
        (Some(body), _) => body,
        (None, Some(content)) => {
            let content: crate::events::JsonObject = serde_json::from_str(&content)
                .map_err(|e| StoreError::Corrupt(format!("state content: {e}")))?;
            crate::publishing::publication::content_body(kind, &content)
        }
        (None, None) => String::new(),
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

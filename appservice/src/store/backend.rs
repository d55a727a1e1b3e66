//! The SQLite and PostgreSQL backends: one body of SQL, instantiated for each by a macro.

use std::{
    collections::HashMap,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use ruma::{
    OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, RoomVersionId, UserId,
    events::{StateEventType, room::member::MembershipState},
};
use sqlx::{
    Connection, QueryBuilder, Row,
    postgres::{PgConnection, PgPool, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    CommunitySummary, IndexStore, IndexWrite, QueuedJob, Result, SearchHit, SearchQuery,
    StoreError, body_of,
    digest::IndexDigest,
    distinct, now_ms, retry_conflicts,
    search_words::{self, SearchWords},
};
use crate::{
    projection::{
        CommentRow, IndexChange, Job, JsonObject, ProjectionContext, RevisionRow, RoomEvent,
        SkipCause, SkippedEvent, StateRow, TrackedRoom,
    },
    publishing::publication::{PublicationRow, link_source},
    tools::{self, SqlValue, TOOLS, ToolWrite},
};

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters.
const ROWS_PER_STATEMENT: usize = 500;
/// A job failing this many times is parked (kept, with its last error, but not retried).
const MAX_JOB_ATTEMPTS: i64 = 12;
/// How many parked jobs are kept; older ones go when processed events are pruned.
const PARKED_JOBS_KEPT: i64 = 1000;

/// The index in a SQLite file (write-ahead log, one writer at a time).
#[derive(Clone, Debug)]
pub struct SqliteIndex {
    pool: SqlitePool,
    checkpoints: Arc<WalCheckpoints>,
    words: Arc<SearchWords>,
}

/// How often, at most, the write-ahead log is checkpointed while pages are written.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Checkpoints of SQLite's write-ahead log, run on a connection of their own (so on another
/// thread, beside the writer) instead of inside the commit that crosses the size threshold:
/// copying the log back into the database was a tenth of the writer's time under bulk indexing.
#[derive(Debug)]
struct WalCheckpoints {
    running: AtomicBool,
    last_started: std::sync::Mutex<Option<Instant>>,
}

impl SqliteIndex {
    /// After a write: starts a passive checkpoint in the background unless one is running or
    /// one started less than [`CHECKPOINT_INTERVAL`] ago. SQLite's own automatic checkpoint,
    /// at 1 GiB of log, stays as the backstop should these fall behind.
    fn after_write(&self) {
        self.words.written();
        {
            let Ok(mut last) = self.checkpoints.last_started.lock() else {
                return;
            };
            if last.is_some_and(|at| at.elapsed() < CHECKPOINT_INTERVAL)
                || self.checkpoints.running.swap(true, Ordering::AcqRel)
            {
                return;
            }
            *last = Some(Instant::now());
        }
        let pool = self.pool.clone();
        let checkpoints = self.checkpoints.clone();
        tokio::spawn(async move {
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(%error, "checkpointing the index's write-ahead log failed");
            }
            checkpoints.running.store(false, Ordering::Release);
        });
    }
}

impl SqliteIndex {
    /// Opens (creating if needed) and migrates the SQLite database at `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            // With a write-ahead log, NORMAL loses no committed transaction on a process crash
            // (only, at worst, the last ones on a power cut), and spares an fsync per commit.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            // A 64 MiB page cache and memory-mapped reads: the index's pages stay in memory
            // instead of being copied in from the file for every write.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456")
            .pragma("temp_store", "memory")
            // Checkpoints run beside the writer (`after_write`); SQLite's own, inside a commit,
            // only past 1 GiB of log.
            .pragma("wal_autocheckpoint", "262144");
        let words_location = Arc::new(search_words::location(&options));
        let pool = SqlitePoolOptions::new()
            // The worker indexing words for search holds one connection of its own.
            .max_connections(max_connections.max(1) + 1)
            .after_connect(move |connection, _| {
                let location = words_location.clone();
                Box::pin(async move { search_words::attach(connection, &location).await })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        search_words::prepare(&pool).await?;
        Ok(Self {
            words: SearchWords::start(pool.clone()),
            pool,
            checkpoints: Arc::new(WalCheckpoints {
                running: AtomicBool::new(false),
                last_started: std::sync::Mutex::new(None),
            }),
        })
    }

    /// Before a search: the words of what was written before it are indexed.
    async fn before_search(&self) -> Result<()> {
        self.words.caught_up(&self.pool).await
    }

    /// Folds the logs into the files and closes the connections.
    pub async fn close(&self) {
        for sql in [
            "PRAGMA wal_checkpoint(TRUNCATE)",
            "PRAGMA search.wal_checkpoint(TRUNCATE)",
        ] {
            if let Err(error) = sqlx::query(sql).execute(&self.pool).await {
                tracing::warn!(%error, "checkpoint before closing the index failed");
            }
        }
        self.pool.close().await;
    }

    async fn words_waiting(&self) -> Result<u64> {
        SearchWords::waiting(&self.pool).await
    }
}

/// The index in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresIndex {
    pool: PgPool,
}

impl PostgresIndex {
    /// Connects to and migrates the PostgreSQL database at `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// After a write: nothing to do (PostgreSQL checkpoints on its own).
    fn after_write(&self) {}

    /// Before a search: nothing to wait for (words are indexed in the write).
    async fn before_search(&self) -> Result<()> {
        Ok(())
    }

    async fn words_waiting(&self) -> Result<u64> {
        Ok(0)
    }

    /// The URL of `url`'s database, with the index in `schema` instead of the one `url` reads
    /// (the last `search_path` given wins).
    pub fn url_in_schema(url: &str, schema: &str) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}options[search_path]={schema}")
    }

    /// Makes `schema` of the database at `url` exist and hold nothing: a rebuild starts there.
    pub async fn empty_schema(url: &str, schema: &str) -> Result<()> {
        let mut connection = PgConnection::connect(url).await?;
        let schema = quoted(schema);
        // The schema's name is quoted: Parvis's own constant, or an operator's.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        )))
        .execute(&mut connection)
        .await?;
        Ok(())
    }

    /// Drops `schema` of the database at `url`, with what it holds (a rebuild that failed).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<()> {
        let mut connection = PgConnection::connect(url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quoted(schema)
        )))
        .execute(&mut connection)
        .await?;
        Ok(())
    }

    /// Puts the index built in `schema` in the place of the one the database at `url` reads
    /// (its current schema), in one transaction: readers see the old index or the new one,
    /// never a mixture. Tables, their sequences, indexes and triggers, and the functions the
    /// migrations made all move; `schema` is dropped.
    pub async fn adopt_schema(url: &str, schema: &str) -> Result<()> {
        let mut connection = PgConnection::connect(url).await?;
        let mut tx = Connection::begin(&mut connection).await?;
        let live: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut *tx)
            .await?;
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename FROM pg_tables WHERE schemaname = $1")
                .bind(schema)
                .fetch_all(&mut *tx)
                .await?;
        let functions: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1",
        )
        .bind(schema)
        .fetch_all(&mut *tx)
        .await?;
        let (live, built) = (quoted(&live), quoted(schema));
        let mut statements = Vec::new();
        for table in &tables {
            let table = quoted(table);
            statements.push(format!("DROP TABLE IF EXISTS {live}.{table} CASCADE"));
            statements.push(format!("ALTER TABLE {built}.{table} SET SCHEMA {live}"));
        }
        for (function, arguments) in &functions {
            let function = quoted(function);
            statements.push(format!(
                "DROP FUNCTION IF EXISTS {live}.{function}({arguments}) CASCADE"
            ));
            statements.push(format!(
                "ALTER FUNCTION {built}.{function}({arguments}) SET SCHEMA {live}"
            ));
        }
        statements.push(format!("DROP SCHEMA {built}"));
        // Names from the catalog, quoted.
        sqlx::raw_sql(sqlx::AssertSqlSafe(statements.join(";\n")))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A PostgreSQL identifier, quoted.
fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// A skip reason as stored: without NUL characters, at most 1,000 characters.
fn bounded_reason(reason: &str) -> String {
    reason.chars().filter(|&c| c != '\0').take(1000).collect()
}

/// A sender as stored: the index only holds senders of events, which are valid user IDs.
fn sender_of(text: String) -> Result<OwnedUserId> {
    OwnedUserId::try_from(text).map_err(|e| corrupt(format!("state sender: {e}")))
}

fn parse_content(text: &str) -> Result<JsonObject> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("state content: {e}")))
}

/// Changes waiting to be written together.
#[derive(Default)]
struct Pending {
    state: Vec<StateRow>,
    superseded: Vec<OwnedEventId>,
    publications: Vec<PublicationRow>,
    revisions: Vec<RevisionRow>,
    comments: Vec<CommentRow>,
    memberships: Vec<(String, String, String)>,
    jobs: Vec<Job>,
    skipped: Vec<SkippedEvent>,
}

impl Pending {
    /// Takes a batchable change, or gives it back. `Ok` says how many jobs it queued.
    fn push(&mut self, change: IndexChange) -> Result<usize, Box<IndexChange>> {
        match change {
            IndexChange::PutState(row) => self.state.push(row),
            IndexChange::Superseded(id) => self.superseded.push(id),
            IndexChange::PutPublication(row) => self.publications.push(*row),
            IndexChange::PutRevision(revision) => self.revisions.push(revision),
            IndexChange::PutComment(comment) => self.comments.push(comment),
            IndexChange::PutMembership {
                room_id,
                user_id,
                membership,
            } => self
                .memberships
                .push((room_id.to_string(), user_id, membership)),
            IndexChange::Enqueue(job) => {
                self.jobs.push(job);
                return Ok(1);
            }
            // Kept for the operator; written with the batch, in any order.
            IndexChange::Skip(skipped) => self.skipped.push(skipped),
            other => return Err(Box::new(other)),
        }
        Ok(0)
    }
}

/// Keeps the last item per key, in order (a multi-row upsert may touch a row only once).
fn last_by<T, K: std::hash::Hash + Eq>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut position: HashMap<K, usize> = HashMap::new();
    let mut kept: Vec<Option<T>> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(previous) = position.insert(key(&item), kept.len()) {
            kept[previous] = None;
        }
        kept.push(Some(item));
    }
    kept.into_iter().flatten().collect()
}

/// Tables of the publishing projection covered by the digest: `(name, query, JSON column)`.
const DIGESTED_PUBLISHING_TABLES: &[(&str, &str, Option<usize>)] = &[
    (
        "room_members",
        "SELECT room_id, user_id, membership FROM room_members ORDER BY room_id, user_id",
        None,
    ),
    (
        "publications",
        "SELECT room_id, kind, object_id, event_id, author, title, slug, body, body_media, parent, tags, pages, \
         category, position, status, updated_at FROM publications ORDER BY room_id, kind, object_id",
        None,
    ),
    (
        "publication_revisions",
        "SELECT event_id, room_id, kind, object_id, sender, origin_server_ts, replaces, content \
         FROM publication_revisions ORDER BY event_id",
        Some(7),
    ),
    (
        "comments",
        "SELECT event_id, room_id, thread_root, sender, body, origin_server_ts FROM comments ORDER BY event_id",
        None,
    ),
    (
        "publication_links",
        "SELECT room_id, from_id, target_slug FROM publication_links ORDER BY room_id, from_id, target_slug",
        None,
    ),
];

/// The words of a search, as an FTS5 query: each word quoted (no query syntax from users),
/// all required.
fn sqlite_match_query(text: &str) -> String {
    crate::publishing::render::fold_accents(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{word}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of a search, accent-folded like the indexed text, for `plainto_tsquery`.
fn postgres_match_query(text: &str) -> String {
    crate::publishing::render::fold_accents(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Filters shared by both backends' searches ($2 user, $3 kind, $4 tag, $5 author, $6 space, $7 limit).
macro_rules! search_filters {
    () => {
        "AND p.room_id IN (SELECT room_id FROM room_members WHERE user_id = $2 AND membership = 'join') \
         AND ($3 = '' OR p.kind = $3) \
         AND ($4 = '' OR (',' || p.tags || ',') LIKE ('%,' || $4 || ',%')) \
         AND ($5 = '' OR p.author = $5) \
         AND ($6 = '' OR p.room_id IN (SELECT room_id FROM community_rooms WHERE space_id = $6)) \
         AND (p.kind <> 'blog_post' OR p.status = 'published' OR p.author = $2) "
    };
}

// Both searches return `id, room_id, kind, object_id, title, slug, author, updated_at, score`
// (lower score is better) and leave the snippet to Rust: computing it in SQL for every match,
// before the LIMIT, is what made frequent words slow.
const SQLITE_SEARCH: &str = concat!(
    "SELECT p.id, p.room_id, p.kind, p.object_id, p.title, p.slug, p.author, p.updated_at, \
     bm25(publication_words, 10.0, 1.0) AS score \
     FROM search.publication_words JOIN publications p ON p.id = publication_words.rowid \
     WHERE publication_words MATCH $1 ",
    search_filters!(),
    "ORDER BY score, p.id LIMIT $7"
);

/// SQLite, first pass: rank every match in the full-text index alone (rowid and score, no join),
/// keep the best `SEARCH_CANDIDATES`, and only then join and filter them. When the filters leave
/// fewer results than asked while more matches exist, the exact query (`SQLITE_SEARCH`) runs.
const SQLITE_SEARCH_CANDIDATES: &str = concat!(
    "WITH hits AS (SELECT rowid, bm25(publication_words, 10.0, 1.0) AS score FROM search.publication_words \
     WHERE publication_words MATCH $1 ORDER BY score, rowid LIMIT $8) \
     SELECT p.id, p.room_id, p.kind, p.object_id, p.title, p.slug, p.author, p.updated_at, hits.score \
     FROM hits JOIN publications p ON p.id = hits.rowid WHERE 1 = 1 ",
    search_filters!(),
    "ORDER BY hits.score, p.id LIMIT $7"
);

/// How many of the best full-text matches the first pass keeps.
const SEARCH_CANDIDATES: i64 = 400;

const POSTGRES_SEARCH: &str = concat!(
    "SELECT p.id, p.room_id, p.kind, p.object_id, p.title, p.slug, p.author, p.updated_at, \
     (-ts_rank(p.search, query.q))::float8 AS score \
     FROM publications p, (SELECT plainto_tsquery('french', $1) || plainto_tsquery('english', $1) AS q) query \
     WHERE p.search @@ query.q ",
    search_filters!(),
    "ORDER BY score, p.id LIMIT $7"
);

macro_rules! index_store {
    ($store:ident, $write:ident, $db:ty, $search_sql:expr, $candidates_sql:expr, $match_query:path, $folds_search:expr) => {
        impl $store {
            async fn load_context(
                tx: &mut sqlx::Transaction<'_, $db>,
                events: &[RoomEvent],
            ) -> Result<ProjectionContext> {
                let mut context = ProjectionContext::default();
                let rooms = distinct(events.iter().map(|event| &event.room_id));
                let mut query = QueryBuilder::<$db>::new("SELECT room_id, creator, room_version FROM rooms WHERE room_id IN (");
                let mut list = query.separated(", ");
                rooms.iter().for_each(|room| { list.push_bind(*room); });
                query.push(")");
                for row in query.build().fetch_all(&mut **tx).await? {
                    let room_id: String = row.try_get(0)?;
                    let creator: Option<String> = row.try_get(1)?;
                    let version: Option<String> = row.try_get(2)?;
                    context.tracked.insert(
                        OwnedRoomId::try_from(room_id).map_err(corrupt)?,
                        TrackedRoom {
                            creator: creator.and_then(|c| OwnedUserId::try_from(c).ok()),
                            room_version: version.and_then(|v| RoomVersionId::try_from(v).ok()),
                        },
                    );
                }

                let mut query = QueryBuilder::<$db>::new("SELECT room_id, COUNT(*) FROM jobs WHERE not_before < ");
                query.push_bind(i64::MAX).push(" AND room_id IN (");
                let mut list = query.separated(", ");
                rooms.iter().for_each(|room| { list.push_bind(*room); });
                query.push(") GROUP BY room_id");
                for row in query.build().fetch_all(&mut **tx).await? {
                    let room_id: String = row.try_get(0)?;
                    let waiting: i64 = row.try_get(1)?;
                    context.waiting_jobs.insert(
                        OwnedRoomId::try_from(room_id).map_err(corrupt)?,
                        u64::try_from(waiting).unwrap_or_default(),
                    );
                }

                let state_events: Vec<&str> =
                    events.iter().filter(|event| event.state_key.is_some()).map(|event| event.event_id.as_str()).collect();
                if !state_events.is_empty() {
                    let mut query = QueryBuilder::<$db>::new("SELECT event_id FROM superseded_events WHERE event_id IN (");
                    let mut list = query.separated(", ");
                    state_events.iter().for_each(|id| { list.push_bind(*id); });
                    query.push(")");
                    for row in query.build().fetch_all(&mut **tx).await? {
                        let id: String = row.try_get(0)?;
                        context.superseded.insert(OwnedEventId::try_from(id).map_err(corrupt)?);
                    }
                }

                let roots: Vec<OwnedEventId> =
                    events.iter().filter_map(CommentRow::from_event).map(|comment| comment.thread_root).collect();
                if !roots.is_empty() {
                    let mut query = QueryBuilder::<$db>::new("SELECT event_id FROM publication_revisions WHERE event_id IN (");
                    let mut list = query.separated(", ");
                    roots.iter().for_each(|id| { list.push_bind(id.as_str()); });
                    query.push(")");
                    for row in query.build().fetch_all(&mut **tx).await? {
                        context.revision_roots.insert(OwnedEventId::try_from(row.try_get::<String, _>(0)?).map_err(corrupt)?);
                    }
                }

                let targets: Vec<OwnedEventId> = events.iter().filter_map(RoomEvent::redacted_event).collect();
                if !targets.is_empty() {
                    let mut query = QueryBuilder::<$db>::new(
                        "SELECT room_id, event_type, state_key, event_id, sender, content FROM room_state WHERE event_id IN (",
                    );
                    let mut list = query.separated(", ");
                    targets.iter().for_each(|id| { list.push_bind(id.as_str()); });
                    query.push(")");
                    for row in query.build().fetch_all(&mut **tx).await? {
                        let state = StateRow {
                            room_id: OwnedRoomId::try_from(row.try_get::<String, _>(0)?).map_err(corrupt)?,
                            event_type: row.try_get(1)?,
                            state_key: row.try_get(2)?,
                            event_id: OwnedEventId::try_from(row.try_get::<String, _>(3)?).map_err(corrupt)?,
                            sender: OwnedUserId::try_from(row.try_get::<String, _>(4)?).map_err(corrupt)?,
                            content: parse_content(&row.try_get::<String, _>(5)?)?,
                        };
                        context.redaction_targets.insert(state.event_id.clone(), state);
                    }
                }
                Ok(context)
            }

            async fn apply(tx: &mut sqlx::Transaction<'_, $db>, changes: Vec<IndexChange>) -> Result<usize> {
                let mut jobs = 0;
                let mut pending = Pending::default();
                for change in changes {
                    match pending.push(change) {
                        Ok(queued) => jobs += queued,
                        Err(other) => {
                            // Keep the order of changes: flush batched rows before anything else.
                            Self::flush(tx, std::mem::take(&mut pending)).await?;
                            jobs += Self::apply_one(tx, *other).await?;
                        }
                    }
                }
                Self::flush(tx, pending).await?;
                Ok(jobs)
            }

            async fn flush_one(tx: &mut sqlx::Transaction<'_, $db>, change: IndexChange) -> Result<usize> {
                let mut pending = Pending::default();
                let jobs = pending.push(change).unwrap_or(0);
                Self::flush(tx, pending).await?;
                Ok(jobs)
            }

            /// Writes batched changes, one multi-row statement per table and chunk: each
            /// statement is a round trip to the database, which dominates small writes.
            async fn flush(tx: &mut sqlx::Transaction<'_, $db>, pending: Pending) -> Result<()> {
                Self::flush_state(tx, pending.state).await?;
                Self::flush_superseded(tx, pending.superseded).await?;
                if !$folds_search && !pending.publications.is_empty() {
                    // SQLite: the backlog entries whose words are indexed go, in the transaction
                    // that holds the lock anyway (the worker beside it would wait for it).
                    sqlx::query("DELETE FROM search_backlog WHERE seq <= (SELECT seq FROM search.word_progress)")
                        .execute(&mut **tx)
                        .await?;
                }
                Self::flush_publications(tx, pending.publications).await?;
                for chunk in pending.revisions.chunks(ROWS_PER_STATEMENT) {
                    let contents: Vec<String> = chunk
                        .iter()
                        .map(|revision| serde_json::to_string(&revision.content))
                        .collect::<Result<_, _>>()
                        .map_err(corrupt)?;
                    let mut query = QueryBuilder::<$db>::new(
                        "INSERT INTO publication_revisions (event_id, room_id, kind, object_id, sender, origin_server_ts, replaces, content) ",
                    );
                    query.push_values(chunk.iter().zip(&contents), |mut values, (revision, content)| {
                        values
                            .push_bind(revision.event_id.as_str())
                            .push_bind(revision.room_id.as_str())
                            .push_bind(revision.kind.as_str())
                            .push_bind(&revision.object_id)
                            .push_bind(revision.sender.as_str())
                            .push_bind(revision.origin_server_ts)
                            .push_bind(revision.replaces.as_ref().map(|id| id.as_str()))
                            .push_bind(content);
                    });
                    query.push(" ON CONFLICT (event_id) DO NOTHING");
                    query.build().execute(&mut **tx).await?;
                }
                for chunk in pending.comments.chunks(ROWS_PER_STATEMENT) {
                    let mut query = QueryBuilder::<$db>::new(
                        "INSERT INTO comments (event_id, room_id, thread_root, sender, body, origin_server_ts) ",
                    );
                    query.push_values(chunk, |mut values, comment| {
                        values
                            .push_bind(comment.event_id.as_str())
                            .push_bind(comment.room_id.as_str())
                            .push_bind(comment.thread_root.as_str())
                            .push_bind(comment.sender.as_str())
                            .push_bind(&comment.body)
                            .push_bind(comment.origin_server_ts);
                    });
                    query.push(" ON CONFLICT (event_id) DO NOTHING");
                    query.build().execute(&mut **tx).await?;
                }
                let memberships = last_by(pending.memberships, |(room, user, _)| (room.clone(), user.clone()));
                for chunk in memberships.chunks(ROWS_PER_STATEMENT) {
                    let mut query = QueryBuilder::<$db>::new("INSERT INTO room_members (room_id, user_id, membership) ");
                    query.push_values(chunk, |mut values, (room, user, membership)| {
                        values.push_bind(room).push_bind(user).push_bind(membership);
                    });
                    query.push(" ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership");
                    query.build().execute(&mut **tx).await?;
                }
                let now = now_ms();
                for chunk in pending.jobs.chunks(ROWS_PER_STATEMENT) {
                    let payloads: Vec<(String, Option<&str>)> = chunk
                        .iter()
                        .map(|job| Ok((serde_json::to_string(job)?, job.room_id().map(RoomId::as_str))))
                        .collect::<Result<_, serde_json::Error>>()
                        .map_err(corrupt)?;
                    let mut query = QueryBuilder::<$db>::new("INSERT INTO jobs (payload, room_id, attempts, not_before) ");
                    query.push_values(&payloads, |mut values, (payload, room)| {
                        values.push_bind(payload).push_bind(*room).push_bind(0i64).push_bind(now);
                    });
                    query.build().execute(&mut **tx).await?;
                }
                Self::insert_skipped(tx, &pending.skipped).await
            }

            async fn flush_publications(tx: &mut sqlx::Transaction<'_, $db>, rows: Vec<PublicationRow>) -> Result<()> {
                let rows = last_by(rows, |row| (row.room_id.clone(), row.kind(), row.object_id.clone()));
                // 18 values a row: 500 rows stay under SQLite's bound-parameter limit.
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let derived: Vec<[String; 4]> = chunk
                        .iter()
                        .map(|row| {
                            // Only PostgreSQL's tsvector reads the folded copies; SQLite's words
                            // are indexed beside the writer (`search_words`).
                            let (search_title, search_body) = if $folds_search {
                                (row.search_title(), row.search_body())
                            } else {
                                (String::new(), String::new())
                            };
                            [row.fields.tags.join(","), row.fields.pages.join(","), search_title, search_body]
                        })
                        .collect();
                    let mut query = QueryBuilder::<$db>::new(
                        "INSERT INTO publications (room_id, kind, object_id, event_id, author, title, slug, body, body_media, \
                         parent, tags, pages, category, position, status, updated_at, search_title, search_body) ",
                    );
                    query.push_values(chunk.iter().zip(&derived), |mut values, (row, [tags, pages, title, body])| {
                        values
                            .push_bind(row.room_id.as_str())
                            .push_bind(row.kind().as_str())
                            .push_bind(&row.object_id)
                            .push_bind(row.event_id.as_str())
                            .push_bind(row.author.as_str())
                            .push_bind(&row.title)
                            .push_bind(&row.slug)
                            // The body is stored only when it is not the event's own: once
                            // read from the media repository.
                            .push_bind(row.body_media.is_some().then_some(row.body.as_str()))
                            .push_bind(row.body_media.as_deref())
                            .push_bind(row.fields.parent.as_deref())
                            .push_bind(tags)
                            .push_bind(pages)
                            .push_bind(row.fields.category.as_str())
                            .push_bind(row.fields.position)
                            .push_bind(&row.status)
                            .push_bind(row.updated_at)
                            .push_bind(title)
                            .push_bind(body);
                    });
                    query.push(
                        " ON CONFLICT (room_id, kind, object_id) DO UPDATE SET event_id = excluded.event_id, \
                         author = excluded.author, title = excluded.title, slug = excluded.slug, body = excluded.body, \
                         body_media = excluded.body_media, parent = excluded.parent, tags = excluded.tags, \
                         pages = excluded.pages, category = excluded.category, position = excluded.position, \
                         status = excluded.status, updated_at = excluded.updated_at, \
                         search_title = excluded.search_title, search_body = excluded.search_body",
                    );
                    query.build().execute(&mut **tx).await?;
                    // Links: the old ones of objects written again went with the update (a
                    // trigger); the current ones are inserted.
                    let links: Vec<(&str, String, &str)> = chunk
                        .iter()
                        .flat_map(|row| {
                            row.links
                                .iter()
                                .map(move |target| (row.room_id.as_str(), link_source(row.kind(), &row.object_id), target.as_str()))
                        })
                        .collect();
                    for links in links.chunks(ROWS_PER_STATEMENT) {
                        let mut query =
                            QueryBuilder::<$db>::new("INSERT INTO publication_links (room_id, from_id, target_slug) ");
                        query.push_values(links, |mut values, (room, source, target)| {
                            values.push_bind(*room).push_bind(source).push_bind(*target);
                        });
                        query.push(" ON CONFLICT DO NOTHING");
                        query.build().execute(&mut **tx).await?;
                    }
                }
                Ok(())
            }

            async fn flush_state(tx: &mut sqlx::Transaction<'_, $db>, rows: Vec<StateRow>) -> Result<()> {
                let rows = last_by(rows, |row| (row.room_id.clone(), row.event_type.clone(), row.state_key.clone()));
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut contents = Vec::with_capacity(chunk.len());
                    for row in chunk {
                        // A publication's content is kept once, with its revision (the same
                        // event): the state row says which event is current.
                        contents.push(if tools::publication_kind_of_event(&row.event_type).is_some() {
                            "{}".to_owned()
                        } else {
                            serde_json::to_string(&row.content).map_err(corrupt)?
                        });
                    }
                    let mut query = QueryBuilder::<$db>::new(
                        "INSERT INTO room_state (room_id, event_type, state_key, event_id, sender, content) ",
                    );
                    query.push_values(chunk.iter().zip(&contents), |mut values, (row, content)| {
                        values
                            .push_bind(row.room_id.as_str())
                            .push_bind(row.event_type.as_str())
                            .push_bind(row.state_key.as_str())
                            .push_bind(row.event_id.as_str())
                            .push_bind(row.sender.as_str())
                            .push_bind(content.as_str());
                    });
                    query.push(
                        " ON CONFLICT (room_id, event_type, state_key) DO UPDATE SET event_id = excluded.event_id, \
                         sender = excluded.sender, content = excluded.content",
                    );
                    query.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn flush_superseded(tx: &mut sqlx::Transaction<'_, $db>, ids: Vec<OwnedEventId>) -> Result<()> {
                let ids = distinct(ids.iter());
                for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                    let mut query = QueryBuilder::<$db>::new("INSERT INTO superseded_events (event_id) ");
                    query.push_values(chunk, |mut values, id| {
                        values.push_bind(*id);
                    });
                    query.push(" ON CONFLICT (event_id) DO NOTHING");
                    query.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn apply_one(tx: &mut sqlx::Transaction<'_, $db>, change: IndexChange) -> Result<usize> {
                match change {
                    IndexChange::TrackRoom { room_id, room } => {
                        sqlx::query(
                            "INSERT INTO rooms (room_id, creator, room_version) VALUES ($1, $2, $3) \
                             ON CONFLICT (room_id) DO UPDATE SET creator = COALESCE(excluded.creator, rooms.creator), \
                             room_version = COALESCE(excluded.room_version, rooms.room_version)",
                        )
                        .bind(room_id.as_str())
                        .bind(room.creator.as_ref().map(|c| c.as_str()))
                        .bind(room.room_version.as_ref().map(|v| v.as_str()))
                        .execute(&mut **tx)
                        .await?;
                    }
                    IndexChange::ForgetRoom { room_id, keep_history } => {
                        const HISTORY: [&str; 2] = [
                            "DELETE FROM publication_revisions WHERE room_id = $1",
                            "DELETE FROM comments WHERE room_id = $1",
                        ];
                        for sql in [
                            "DELETE FROM room_state WHERE room_id = $1",
                            "DELETE FROM communities WHERE space_id = $1",
                            "DELETE FROM community_rooms WHERE room_id = $1",
                            "DELETE FROM room_members WHERE room_id = $1",
                            "DELETE FROM publications WHERE room_id = $1",
                            "DELETE FROM publication_links WHERE room_id = $1",
                            "DELETE FROM rooms WHERE room_id = $1",
                        ]
                        .into_iter()
                        .chain(HISTORY.into_iter().filter(|_| !keep_history))
                        {
                            sqlx::query(sql).bind(room_id.as_str()).execute(&mut **tx).await?;
                        }
                        for table in TOOLS.iter().flat_map(|tool| tool.tables) {
                            if !(keep_history && table.history) {
                                let sql = format!("DELETE FROM {} WHERE room_id = $1", table.name);
                                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(room_id.as_str()).execute(&mut **tx).await?;
                            }
                        }
                    }
                    IndexChange::Tool(write) => {
                        Self::bind_tool(sqlx::query(write.statement), write.args).execute(&mut **tx).await?;
                    }
                    IndexChange::PutCommunity(row) => {
                        let tools: Vec<&str> = row.content.tools.iter().map(|tool| tool.as_str()).collect();
                        sqlx::query(
                            "INSERT INTO communities (space_id, name, description, tools, requested_by) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (space_id) DO UPDATE SET name = excluded.name, description = excluded.description, \
                             tools = excluded.tools, requested_by = excluded.requested_by",
                        )
                        .bind(row.space_id.as_str())
                        .bind(&row.content.name)
                        .bind(&row.content.description)
                        .bind(tools.join(","))
                        .bind(row.content.requested_by.as_str())
                        .execute(&mut **tx)
                        .await?;
                    }
                    IndexChange::RemoveCommunity(space_id) => {
                        sqlx::query("DELETE FROM communities WHERE space_id = $1").bind(space_id.as_str()).execute(&mut **tx).await?;
                    }
                    IndexChange::PutCommunityRoom(row) => {
                        sqlx::query(
                            "INSERT INTO community_rooms (room_id, space_id, purpose) VALUES ($1, $2, $3) \
                             ON CONFLICT (room_id) DO UPDATE SET space_id = excluded.space_id, purpose = excluded.purpose",
                        )
                        .bind(row.room_id.as_str())
                        .bind(row.space_id.as_str())
                        .bind(row.purpose.as_str())
                        .execute(&mut **tx)
                        .await?;
                    }
                    IndexChange::RemoveCommunityRoom(room_id) => {
                        sqlx::query("DELETE FROM community_rooms WHERE room_id = $1").bind(room_id.as_str()).execute(&mut **tx).await?;
                    }
                    IndexChange::RemovePublication { room_id, kind, object_id } => {
                        sqlx::query("DELETE FROM publications WHERE room_id = $1 AND kind = $2 AND object_id = $3")
                            .bind(room_id.as_str())
                            .bind(kind.as_str())
                            .bind(&object_id)
                            .execute(&mut **tx)
                            .await?;
                        sqlx::query("DELETE FROM publication_links WHERE room_id = $1 AND from_id = $2")
                            .bind(room_id.as_str())
                            .bind(link_source(kind, &object_id))
                            .execute(&mut **tx)
                            .await?;
                    }
                    IndexChange::RemoveComment(event_id) => {
                        sqlx::query("DELETE FROM comments WHERE event_id = $1")
                            .bind(event_id.as_str())
                            .execute(&mut **tx)
                            .await?;
                    }
                    IndexChange::RedactRevision(event_id) => {
                        sqlx::query("UPDATE publication_revisions SET content = '{}' WHERE event_id = $1")
                            .bind(event_id.as_str())
                            .execute(&mut **tx)
                            .await?;
                    }
                    // Batched by `apply`; one arriving here alone goes through the same path.
                    batched => return Self::flush_one(tx, batched).await,
                }
                Ok(0)
            }

            /// Binds a tool's parameters to its statement.
            fn bind_tool<'q>(
                mut query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>,
                args: Vec<SqlValue>,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
                for arg in args {
                    query = match arg {
                        SqlValue::Null => query.bind(None::<String>),
                        SqlValue::Integer(value) => query.bind(value),
                        SqlValue::Text(text) => query.bind(text),
                    };
                }
                query
            }

            async fn insert_skipped(tx: &mut sqlx::Transaction<'_, $db>, skipped: &[SkippedEvent]) -> Result<()> {
                let now = now_ms();
                for chunk in skipped.chunks(ROWS_PER_STATEMENT) {
                    let mut query = QueryBuilder::<$db>::new("INSERT INTO skipped_events (event_id, room_id, cause, reason, skipped_at) ");
                    query.push_values(chunk, |mut values, skipped| {
                        values
                            .push_bind(skipped.event_id.as_deref())
                            .push_bind(skipped.room_id.as_deref())
                            .push_bind(skipped.cause.as_str())
                            // The reason may quote the event: no NUL, and a bounded length.
                            .push_bind(bounded_reason(&skipped.reason))
                            .push_bind(now);
                    });
                    query.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn insert_job<'e, E: sqlx::Executor<'e, Database = $db>>(executor: E, job: &Job) -> Result<()> {
                let payload = serde_json::to_string(job).map_err(corrupt)?;
                sqlx::query("INSERT INTO jobs (payload, room_id, attempts, not_before) VALUES ($1, $2, 0, $3)")
                    .bind(payload)
                    .bind(job.room_id().map(RoomId::as_str))
                    .bind(now_ms())
                    .execute(executor)
                    .await?;
                Ok(())
            }
        }

        /// A write transaction on this backend's index.
        pub struct $write {
            tx: sqlx::Transaction<'static, $db>,
            index: $store,
        }

        impl std::fmt::Debug for $write {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($write)).finish_non_exhaustive()
            }
        }

        impl IndexWrite for $write {
            async fn claim(&mut self, events: &[RoomEvent]) -> Result<Vec<RoomEvent>> {
                let ids = distinct(events.iter().map(|event| &event.event_id));
                let now = now_ms();
                let mut claimed = std::collections::HashSet::new();
                for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                    let mut query = QueryBuilder::<$db>::new("INSERT INTO processed_events (event_id, processed_at) ");
                    query.push_values(chunk, |mut values, id| {
                        values.push_bind(*id).push_bind(now);
                    });
                    query.push(" ON CONFLICT (event_id) DO NOTHING RETURNING event_id");
                    for row in query.build().fetch_all(&mut *self.tx).await? {
                        claimed.insert(row.try_get::<String, _>(0)?);
                    }
                }
                Ok(events.iter().filter(|event| claimed.remove(event.event_id.as_str())).cloned().collect())
            }

            async fn context(&mut self, events: &[RoomEvent]) -> Result<ProjectionContext> {
                $store::load_context(&mut self.tx, events).await
            }

            async fn apply(&mut self, changes: Vec<IndexChange>) -> Result<usize> {
                $store::apply(&mut self.tx, changes).await
            }

            async fn commit(self) -> Result<()> {
                self.tx.commit().await?;
                self.index.after_write();
                Ok(())
            }
        }

        impl IndexStore for $store {
            type Write = $write;

            async fn begin_write(&self) -> Result<$write> {
                Ok($write { tx: self.pool.begin().await?, index: self.clone() })
            }

            async fn forget_room(&self, room_id: &OwnedRoomId) -> Result<()> {
                retry_conflicts(|| async {
                    let mut tx = self.pool.begin().await?;
                    Self::apply(&mut tx, vec![IndexChange::ForgetRoom { room_id: room_id.clone(), keep_history: false }]).await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await
            }

            async fn tracked_rooms(&self) -> Result<Vec<OwnedRoomId>> {
                let rows: Vec<String> = sqlx::query_scalar("SELECT room_id FROM rooms ORDER BY room_id").fetch_all(&self.pool).await?;
                rows.into_iter().map(|id| OwnedRoomId::try_from(id).map_err(corrupt)).collect()
            }

            async fn clear(&self) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for sql in [
                    "DELETE FROM room_state",
                    "DELETE FROM communities",
                    "DELETE FROM community_rooms",
                    "DELETE FROM rooms",
                    "DELETE FROM superseded_events",
                    "DELETE FROM processed_events",
                    "DELETE FROM room_members",
                    "DELETE FROM publications",
                    "DELETE FROM publication_links",
                    "DELETE FROM publication_revisions",
                    "DELETE FROM comments",
                    "DELETE FROM skipped_events",
                ] {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                for table in TOOLS.iter().flat_map(|tool| tool.tables) {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {}", table.name))).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn digest(&self) -> Result<String> {
                let mut digest = IndexDigest::default();
                let mut tx = self.pool.begin().await?;
                digest.table("rooms");
                for row in sqlx::query("SELECT room_id FROM rooms ORDER BY room_id").fetch_all(&mut *tx).await? {
                    digest.field(&row.try_get::<String, _>(0)?);
                    digest.end_row();
                }
                digest.table("room_state");
                let rows = sqlx::query(
                    "SELECT room_id, event_type, state_key, event_id, sender, content FROM room_state \
                     ORDER BY room_id, event_type, state_key",
                )
                .fetch_all(&mut *tx)
                .await?;
                for row in rows {
                    for column in 0..5 {
                        digest.field(&row.try_get::<String, _>(column)?);
                    }
                    digest.json_field(&row.try_get::<String, _>(5)?);
                    digest.end_row();
                }
                digest.table("communities");
                let rows = sqlx::query("SELECT space_id, name, description, tools, requested_by FROM communities ORDER BY space_id")
                    .fetch_all(&mut *tx)
                    .await?;
                for row in rows {
                    for column in 0..5 {
                        digest.field(&row.try_get::<String, _>(column)?);
                    }
                    digest.end_row();
                }
                digest.table("community_rooms");
                for row in sqlx::query("SELECT room_id, space_id, purpose FROM community_rooms ORDER BY room_id").fetch_all(&mut *tx).await? {
                    for column in 0..3 {
                        digest.field(&row.try_get::<String, _>(column)?);
                    }
                    digest.end_row();
                }
                let tool_tables = TOOLS.iter().flat_map(|tool| tool.tables).map(|table| (table.name, table.digest, None));
                for (table, sql, json_column) in DIGESTED_PUBLISHING_TABLES.iter().copied().chain(tool_tables) {
                    digest.table(table);
                    for row in sqlx::query(sql).fetch_all(&mut *tx).await? {
                        for column in 0..row.len() {
                            let value: Option<String> = match row.try_get::<Option<String>, _>(column) {
                                Ok(value) => value,
                                Err(_) => Some(row.try_get::<i64, _>(column)?.to_string()),
                            };
                            let value = value.unwrap_or_else(|| "\u{0}null".to_owned());
                            if Some(column) == json_column {
                                digest.json_field(&value);
                            } else {
                                digest.field(&value);
                            }
                        }
                        digest.end_row();
                    }
                }
                tx.commit().await?;
                Ok(digest.finish())
            }

            async fn enqueue(&self, job: &Job) -> Result<()> {
                Self::insert_job(&self.pool, job).await
            }

            async fn next_job(&self, now_ms: i64) -> Result<Option<QueuedJob>> {
                let row = sqlx::query("SELECT id, payload, attempts FROM jobs WHERE not_before <= $1 ORDER BY not_before, id LIMIT 1")
                    .bind(now_ms)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let id: i64 = row.try_get(0)?;
                let payload: String = row.try_get(1)?;
                let attempts: i64 = row.try_get(2)?;
                match serde_json::from_str(&payload) {
                    Ok(job) => Ok(Some(QueuedJob { id, job, attempts })),
                    Err(error) => {
                        // A job this version cannot read is parked, not retried forever.
                        self.retry_job(id, i64::MAX, &format!("unreadable job: {error}")).await?;
                        Ok(None)
                    }
                }
            }

            async fn next_job_due(&self) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar("SELECT MIN(not_before) FROM jobs WHERE not_before < $1")
                    .bind(i64::MAX)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn complete_job(&self, id: i64) -> Result<()> {
                sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn retry_job(&self, id: i64, not_before_ms: i64, error: &str) -> Result<()> {
                sqlx::query(
                    "UPDATE jobs SET attempts = attempts + 1, last_error = $2, \
                     not_before = CASE WHEN attempts + 1 >= $4 THEN $5 ELSE $3 END WHERE id = $1",
                )
                .bind(id)
                .bind(error)
                .bind(not_before_ms)
                .bind(MAX_JOB_ATTEMPTS)
                .bind(i64::MAX)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn communities(&self) -> Result<Vec<CommunitySummary>> {
                let mut tx = self.pool.begin().await?;
                let mut rooms: HashMap<String, Vec<(OwnedRoomId, String)>> = HashMap::new();
                for row in sqlx::query("SELECT room_id, space_id, purpose FROM community_rooms ORDER BY room_id").fetch_all(&mut *tx).await? {
                    let room_id = OwnedRoomId::try_from(row.try_get::<String, _>(0)?).map_err(corrupt)?;
                    rooms.entry(row.try_get(1)?).or_default().push((room_id, row.try_get(2)?));
                }
                let rows = sqlx::query("SELECT space_id, name, description, tools, requested_by FROM communities ORDER BY name, space_id")
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows.into_iter()
                    .map(|row| {
                        let space_id: String = row.try_get(0)?;
                        let tools: String = row.try_get(3)?;
                        Ok(CommunitySummary {
                            space_id: OwnedRoomId::try_from(space_id.as_str()).map_err(corrupt)?,
                            name: row.try_get(1)?,
                            description: row.try_get(2)?,
                            tools: tools.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                            requested_by: row.try_get(4)?,
                            rooms: rooms.remove(&space_id).unwrap_or_default(),
                        })
                    })
                    .collect()
            }

            async fn membership(&self, room_id: &RoomId, user_id: &UserId) -> Result<Option<MembershipState>> {
                let membership: Option<String> =
                    sqlx::query_scalar("SELECT membership FROM room_members WHERE room_id = $1 AND user_id = $2")
                        .bind(room_id.as_str())
                        .bind(user_id.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(membership.map(MembershipState::from))
            }

            async fn state_content(&self, room_id: &RoomId, event_type: &StateEventType, state_key: &str) -> Result<Option<(OwnedUserId, JsonObject)>> {
                let row = sqlx::query("SELECT sender, content FROM room_state WHERE room_id = $1 AND event_type = $2 AND state_key = $3")
                    .bind(room_id.as_str())
                    .bind(event_type.to_string())
                    .bind(state_key)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| Ok((sender_of(row.try_get(0)?)?, parse_content(&row.try_get::<String, _>(1)?)?))).transpose()
            }

            async fn state_events(&self, room_id: &RoomId, event_type: &StateEventType) -> Result<Vec<(String, OwnedUserId, JsonObject)>> {
                let rows = sqlx::query("SELECT state_key, sender, content FROM room_state WHERE room_id = $1 AND event_type = $2 ORDER BY state_key")
                    .bind(room_id.as_str())
                    .bind(event_type.to_string())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| Ok((row.try_get(0)?, sender_of(row.try_get(1)?)?, parse_content(&row.try_get::<String, _>(2)?)?)))
                    .collect()
            }

            async fn room_state(&self, room_id: &RoomId) -> Result<Vec<StateRow>> {
                // A publication's content is kept with its revision (the state row holds `{}`).
                let rows = sqlx::query(
                    "SELECT s.event_type, s.state_key, s.event_id, s.sender, COALESCE(r.content, s.content) \
                     FROM room_state s LEFT JOIN publication_revisions r ON r.event_id = s.event_id \
                     WHERE s.room_id = $1",
                )
                    .bind(room_id.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(StateRow {
                            room_id: room_id.to_owned(),
                            event_type: row.try_get(0)?,
                            state_key: row.try_get(1)?,
                            event_id: OwnedEventId::try_from(row.try_get::<String, _>(2)?).map_err(corrupt)?,
                            sender: OwnedUserId::try_from(row.try_get::<String, _>(3)?).map_err(corrupt)?,
                            content: parse_content(&row.try_get::<String, _>(4)?)?,
                        })
                    })
                    .collect()
            }

            async fn put_comments(&self, comments: Vec<CommentRow>) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                Self::flush(&mut tx, Pending { comments, ..Default::default() }).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn put_revisions(&self, revisions: Vec<RevisionRow>) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                Self::flush(&mut tx, Pending { revisions, ..Default::default() }).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn put_publications(&self, publications: Vec<PublicationRow>) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                Self::flush_publications(&mut tx, publications).await?;
                tx.commit().await?;
                // Their words changed: the search worker takes them now.
                self.after_write();
                Ok(())
            }

            async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
                let query_text = query.text.clone();
                let text = $match_query(&query.text);
                if text.is_empty() {
                    return Ok(Vec::new());
                }
                self.before_search().await?;
                let limit = query.limit.clamp(1, 200);
                let run = |sql: &'static str| {
                    sqlx::query(sql)
                        .bind(text.clone())
                        .bind(&query.user_id)
                        .bind(query.kind.as_deref().unwrap_or(""))
                        .bind(query.tag.as_deref().unwrap_or(""))
                        .bind(query.author.as_deref().unwrap_or(""))
                        .bind(query.community.as_deref().unwrap_or(""))
                        .bind(limit)
                };
                let candidates: Option<&'static str> = $candidates_sql;
                let mut rows = match candidates {
                    Some(sql) => run(sql).bind(SEARCH_CANDIDATES).fetch_all(&self.pool).await?,
                    None => Vec::new(),
                };
                // Fewer results than asked: the filters may have dropped the best matches, or
                // there are few matches; either way the exact query answers (and is cheap then).
                if candidates.is_none() || (rows.len() as i64) < limit {
                    rows = run($search_sql).fetch_all(&self.pool).await?;
                }
                let mut hits = Vec::with_capacity(rows.len());
                let mut ids = Vec::with_capacity(rows.len());
                for row in rows {
                    let score: f64 = row.try_get(8)?;
                    ids.push(row.try_get::<i64, _>(0)?);
                    let kind: String = row.try_get(2)?;
                    hits.push(SearchHit {
                        room_id: OwnedRoomId::try_from(row.try_get::<String, _>(1)?).map_err(corrupt)?,
                        kind: tools::publication_kind(&kind).ok_or_else(|| corrupt(format!("publication kind {kind}")))?,
                        object_id: row.try_get(3)?,
                        title: row.try_get(4)?,
                        slug: row.try_get(5)?,
                        author: OwnedUserId::try_from(row.try_get::<String, _>(6)?).map_err(corrupt)?,
                        updated_at: row.try_get(7)?,
                        snippet: String::new(),
                        score: -score,
                    });
                }
                if ids.is_empty() {
                    return Ok(hits);
                }
                // Snippets only for the results returned.
                let mut query = QueryBuilder::<$db>::new(
                    "SELECT p.id, p.kind, p.body, r.content FROM publications p \
                     LEFT JOIN publication_revisions r ON r.event_id = p.event_id WHERE p.id IN (",
                );
                let mut list = query.separated(", ");
                ids.iter().for_each(|id| { list.push_bind(*id); });
                query.push(")");
                let mut bodies = HashMap::with_capacity(ids.len());
                for row in query.build().fetch_all(&self.pool).await? {
                    let kind: String = row.try_get(1)?;
                    let kind = tools::publication_kind(&kind).ok_or_else(|| corrupt(format!("publication kind {kind}")))?;
                    bodies.insert(row.try_get::<i64, _>(0)?, body_of(kind, row.try_get(2)?, row.try_get(3)?)?);
                }
                let words: Vec<String> = postgres_match_query(&query_text).split(' ').map(str::to_owned).collect();
                for (hit, id) in hits.iter_mut().zip(&ids) {
                    if let Some(body) = bodies.get(id) {
                        let plain = crate::publishing::render::plain_text(body);
                        hit.snippet = crate::publishing::render::snippet(&plain, &words, 24);
                    }
                }
                Ok(hits)
            }

            async fn apply_tool_writes(&self, writes: Vec<ToolWrite>) -> Result<()> {
                retry_conflicts(|| async {
                    let mut tx = self.pool.begin().await?;
                    for write in writes.iter().cloned() {
                        Self::bind_tool(sqlx::query(write.statement), write.args).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
                .await?;
                self.after_write();
                Ok(())
            }

            async fn tool_rows(&self, statement: &str, args: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>> {
                let query = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()));
                let rows = Self::bind_tool(query, args).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|column| {
                                if let Ok(text) = row.try_get::<Option<String>, _>(column) {
                                    return Ok(text.map_or(SqlValue::Null, SqlValue::Text));
                                }
                                Ok(row.try_get::<Option<i64>, _>(column)?.map_or(SqlValue::Null, SqlValue::Integer))
                            })
                            .collect()
                    })
                    .collect()
            }

            async fn search_backlog(&self) -> Result<u64> {
                self.words_waiting().await
            }

            async fn prune_processed(&self, before_ms: i64) -> Result<u64> {
                let done = sqlx::query("DELETE FROM processed_events WHERE processed_at < $1").bind(before_ms).execute(&self.pool).await?;
                sqlx::query("DELETE FROM skipped_events WHERE skipped_at < $1").bind(before_ms).execute(&self.pool).await?;
                // Parked jobs (failed for good) are kept for the operator, the newest ones only.
                sqlx::query(
                    "DELETE FROM jobs WHERE not_before = $1 AND id NOT IN \
                     (SELECT id FROM jobs WHERE not_before = $1 ORDER BY id DESC LIMIT $2)",
                )
                .bind(i64::MAX)
                .bind(PARKED_JOBS_KEPT)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn pending_jobs(&self, job: &Job) -> Result<u64> {
                let payload = serde_json::to_string(job).map_err(corrupt)?;
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM jobs WHERE payload = $1 AND not_before < $2",
                )
                .bind(payload)
                .bind(i64::MAX)
                .fetch_one(&self.pool)
                .await?;
                Ok(u64::try_from(count).unwrap_or_default())
            }

            async fn record_skipped(&self, skipped: &[SkippedEvent]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                Self::insert_skipped(&mut tx, skipped).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn skipped_events(&self, limit: i64) -> Result<Vec<SkippedEvent>> {
                let rows = sqlx::query("SELECT event_id, room_id, cause, reason FROM skipped_events ORDER BY id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        let cause: String = row.try_get(2)?;
                        Ok(SkippedEvent {
                            event_id: row.try_get(0)?,
                            room_id: row.try_get(1)?,
                            cause: SkipCause::ALL
                                .into_iter()
                                .find(|known| known.as_str() == cause)
                                .ok_or_else(|| corrupt(format!("unknown skip cause {cause}")))?,
                            reason: row.try_get(3)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

index_store!(
    SqliteIndex,
    SqliteWrite,
    sqlx::Sqlite,
    SQLITE_SEARCH,
    Some(SQLITE_SEARCH_CANDIDATES),
    sqlite_match_query,
    false
);
index_store!(
    PostgresIndex,
    PostgresWrite,
    sqlx::Postgres,
    POSTGRES_SEARCH,
    None,
    postgres_match_query,
    true
);

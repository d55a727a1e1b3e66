//! The SQLite and PostgreSQL backends: one body of SQL (`sql.rs`), compiled for each with its own
//! database type and search statements.

use std::{
    collections::{HashMap, HashSet},
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
    CommunitySummary, IndexStore, IndexWrite, QueuedJob, Result, RoomAccessState, SearchHit,
    SearchQuery, StoreError, body_of,
    digest::IndexDigest,
    distinct, now_ms, retry_conflicts,
    search_words::{self, SearchWords},
};
use crate::{
    projection::{
        CommentRow, HeldState, IndexChange, Job, JsonObject, ProjectionContext, RevisionRow,
        RoomEvent, SkipCause, SkippedEvent, StateRow, TrackedRoom,
    },
    publishing::publication::{PublicationRow, link_source},
    tools::{self, SqlValue, TOOLS, ToolWrite},
};

/// The migrations sqlx recorded as applied, in order.
const APPLIED_MIGRATIONS: &str =
    "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
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
    /// The migrations applied to the SQLite database at `url`, read only; `None` when the file
    /// does not exist yet.
    pub async fn migrations_applied(url: &str) -> Result<Option<Vec<i64>>> {
        let options = SqliteConnectOptions::from_str(url)?;
        if !options.get_filename().exists() {
            return Ok(None);
        }
        let mut connection = sqlx::ConnectOptions::connect(&options.read_only(true)).await?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&mut connection)
        .await?;
        // No migration table: nothing applied yet (a database some other program made).
        let applied = match exists {
            true => {
                sqlx::query_scalar(APPLIED_MIGRATIONS)
                    .fetch_all(&mut connection)
                    .await?
            }
            false => Vec::new(),
        };
        connection.close().await?;
        Ok(Some(applied))
    }

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
    /// The migrations applied to the PostgreSQL database at `url`, without changing it.
    pub async fn migrations_applied(url: &str) -> Result<Vec<i64>> {
        let mut connection = PgConnection::connect(url).await?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&mut connection)
            .await?;
        let applied = if exists {
            sqlx::query_scalar(APPLIED_MIGRATIONS)
                .fetch_all(&mut connection)
                .await?
        } else {
            Vec::new()
        };
        connection.close().await?;
        Ok(applied)
    }

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

/// A new change stamp: random, so that no two writes, on any instance, before or after the
/// index is emptied, give a room the same one (zero is the column's default: never given).
fn new_stamp() -> i64 {
    loop {
        // A version-4 UUID's first half: 60 random bits.
        let stamp = uuid::Uuid::new_v4().as_u64_pair().0.cast_signed();
        if stamp != 0 {
            return stamp;
        }
    }
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
         AND (p.status = 'published' OR p.author = $2) "
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

mod postgres;
mod sqlite;

pub use postgres::sql::Write as PostgresWrite;
pub use sqlite::sql::Write as SqliteWrite;

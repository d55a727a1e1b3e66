//! SQLite's full-text index, kept in a database file of its own beside the index and filled by a
//! worker beside the writer.
//!
//! SQLite lets one connection write to a database file at a time, and putting the words of
//! every page written into an FTS5 index was a third of the writer's time. In a file of its
//! own (attached to every connection as `search`), the words are written on another
//! connection — on the other core — while the writer goes on. The writer only notes which
//! objects changed (`search_backlog`, filled by triggers on `publications`); the worker reads
//! the backlog past its progress mark, renders those objects' plain text, replaces their words
//! and moves the mark, in one transaction of the search file (so two workers, of the server
//! and of `parvis rebuild-index`, take turns). A search first waits, briefly, for the words of
//! what was written before it: who saves a page finds it.
//!
//! The search file is an index of the index: deleted, it is rebuilt from `publications` on the
//! next start.

use std::{
    collections::{BTreeMap, HashSet},
    path::Path,
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, sqlite::SqliteConnectOptions};
use tokio::sync::{Notify, watch};

use super::{Result, StoreError};
use crate::{publishing::render, tools};

/// Objects read from the backlog per transaction of the worker.
const BATCH: i64 = 2_000;
/// Rows per multi-row statement (3 values each).
const ROWS_PER_STATEMENT: usize = 500;
/// How long a search waits for the words of what was written before it.
const SEARCH_WAIT: Duration = Duration::from_secs(2);

/// Where the search file is: beside the index file (`parvis.db` → `parvis.db-search`), or a
/// shared in-memory database of its own for an in-memory index.
pub(super) fn location(options: &SqliteConnectOptions) -> String {
    let filename = options.get_filename();
    if filename
        .to_string_lossy()
        .starts_with("file:sqlx-in-memory-")
        || filename == Path::new(":memory:")
    {
        format!(
            "file:parvis-search-{}?mode=memory&cache=shared",
            uuid::Uuid::new_v4().simple()
        )
    } else {
        format!("{}-search", filename.display())
    }
}

/// Run on every new connection: attaches the search file as `search`.
pub(super) async fn attach(
    connection: &mut sqlx::SqliteConnection,
    location: &str,
) -> sqlx::Result<()> {
    sqlx::query("ATTACH DATABASE $1 AS search")
        .bind(location)
        .execute(&mut *connection)
        .await?;
    sqlx::raw_sql(
        "PRAGMA search.journal_mode = WAL; PRAGMA search.synchronous = NORMAL; PRAGMA search.cache_size = -65536;",
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Creates the search file's tables when it is new, or when it belongs to another index (its
/// progress mark is past the index's backlog), and queues every object for it.
pub(super) async fn prepare(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS search.word_progress (seq INTEGER NOT NULL);
         CREATE VIRTUAL TABLE IF NOT EXISTS search.publication_words USING fts5(
             title, plain_body, content = '', contentless_delete = 1,
             tokenize = 'unicode61 remove_diacritics 2'
         );",
    )
    .execute(&mut *tx)
    .await?;
    let progress: Option<i64> = sqlx::query_scalar("SELECT seq FROM search.word_progress")
        .fetch_optional(&mut *tx)
        .await?;
    let issued: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'search_backlog'",
    )
    .fetch_one(&mut *tx)
    .await?;
    if progress.is_none_or(|progress| progress > issued) {
        // Merge full-text segments 8 at a time rather than 4: about half the merge work while
        // pages are indexed, for a few more segments read per search term.
        sqlx::raw_sql(
            "INSERT INTO search.publication_words (publication_words) VALUES ('delete-all');
             INSERT INTO search.publication_words (publication_words, rank) VALUES ('automerge', 8);
             INSERT INTO search.publication_words (publication_words, rank) VALUES ('pgsz', 4050);
             DELETE FROM search.word_progress;",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO search.word_progress (seq) VALUES ($1)")
            .bind(issued)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO search_backlog (publication, fresh) SELECT id, 1 FROM publications",
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The worker's state, shared with the index handles.
#[derive(Debug)]
pub(super) struct SearchWords {
    /// Rung after each write of the index.
    written: Notify,
    /// The backlog's last entry whose words are indexed.
    progress: watch::Sender<i64>,
}

impl SearchWords {
    /// Starts the worker on `pool`; it stops when the pool is closed or the index dropped.
    pub(super) fn start(pool: SqlitePool) -> Arc<Self> {
        let words = Arc::new(Self {
            written: Notify::new(),
            progress: watch::Sender::new(0),
        });
        tokio::spawn(work(pool, Arc::downgrade(&words)));
        words
    }

    /// After a write of the index: the worker has words to index.
    pub(super) fn written(&self) {
        self.written.notify_one();
    }

    /// Waits (at most [`SEARCH_WAIT`]) until the words of everything written before now are
    /// indexed. Past that, the search runs on the words indexed so far.
    pub(super) async fn caught_up(&self, pool: &SqlitePool) -> Result<()> {
        let target: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM search_backlog")
            .fetch_one(pool)
            .await?;
        let Some(target) = target else { return Ok(()) };
        let deadline = Instant::now() + SEARCH_WAIT;
        let mut progress = self.progress.subscribe();
        loop {
            // Another process's worker may be the one indexing: the mark is read from the file.
            let done: i64 = sqlx::query_scalar("SELECT seq FROM search.word_progress")
                .fetch_one(pool)
                .await?;
            if done >= target {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::debug!(
                    target,
                    done,
                    "searching before the full-text index has caught up"
                );
                return Ok(());
            }
            let _ =
                tokio::time::timeout(left.min(Duration::from_millis(50)), progress.changed()).await;
        }
    }

    /// Objects written whose words are not indexed yet.
    pub(super) async fn waiting(pool: &SqlitePool) -> Result<u64> {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM search_backlog WHERE seq > (SELECT seq FROM search.word_progress)",
        )
        .fetch_one(pool)
        .await?;
        Ok(waiting.max(0) as u64)
    }
}

async fn work(pool: SqlitePool, words: Weak<SearchWords>) {
    loop {
        let Some(words) = words.upgrade() else { return };
        match super::retry_conflicts(|| index_batch(&pool)).await {
            Ok(Some(done)) => {
                // The entries done leave the backlog with the writer's next write of objects:
                // the progress mark alone says what is done.
                words.progress.send_replace(done);
                continue;
            }
            Ok(None) => {}
            Err(_) if pool.is_closed() => return,
            Err(error) => {
                tracing::warn!(%error, "indexing words for search failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if pool.is_closed() {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), words.written.notified()).await;
    }
}

/// One object read from the backlog: its row ID, and its title and plain text unless it is gone.
type Words = (i64, Option<(String, String)>);

/// Indexes the words of the next objects of the backlog; returns the new progress mark, or
/// `None` when there was nothing to do.
async fn index_batch(pool: &SqlitePool) -> Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    // Writing to the search file first takes its lock: the backlog and the objects are then
    // read as they are once any other worker is done.
    sqlx::query("UPDATE search.word_progress SET seq = seq")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(
        "SELECT b.seq, b.publication, p.kind, p.title, p.body, r.content, b.fresh FROM search_backlog b \
         LEFT JOIN publications p ON p.id = b.publication \
         LEFT JOIN publication_revisions r ON r.event_id = p.event_id \
         WHERE b.seq > (SELECT seq FROM search.word_progress) ORDER BY b.seq LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let Some(last) = rows
        .last()
        .map(|row| row.try_get::<i64, _>(0))
        .transpose()?
    else {
        return Ok(None);
    };
    // The latest state of each object, rendered off the async threads.
    let mut objects = BTreeMap::new();
    // Objects first written in this batch have no words to delete (row IDs are never reused).
    let mut fresh = HashSet::new();
    for row in rows {
        let id: i64 = row.try_get(1)?;
        if row.try_get::<bool, _>(6)? && !objects.contains_key(&id) {
            fresh.insert(id);
        }
        let kind: Option<String> = row.try_get(2)?;
        // An object the index cannot read (a database edited by hand) is left out of search
        // rather than holding up the words of everything written after it.
        let current = match kind
            .as_deref()
            .map(|name| (name, tools::publication_kind(name)))
        {
            Some((_, Some(kind))) => Some((
                kind,
                row.try_get::<String, _>(3)?,
                row.try_get::<Option<String>, _>(4)?,
                row.try_get::<Option<String>, _>(5)?,
            )),
            Some((name, None)) => {
                tracing::warn!(
                    id,
                    kind = name,
                    "not indexing words of an object of unknown kind"
                );
                None
            }
            None => None,
        };
        objects.insert(id, current);
    }
    let words: Vec<Words> = tokio::task::spawn_blocking(move || {
        objects
            .into_iter()
            .map(|(id, current)| {
                let words = current.map(|(kind, title, stored, content)| {
                    let body = super::body_of(kind, stored, content).unwrap_or_else(|error| {
                        tracing::warn!(id, %error, "indexing only the title of an object whose body is unreadable");
                        String::new()
                    });
                    (title, render::plain_text(&body))
                });
                (id, words)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|error| StoreError::Corrupt(format!("rendering words for search: {error}")))?;

    for chunk in words.chunks(ROWS_PER_STATEMENT) {
        let known: Vec<i64> = chunk
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !fresh.contains(id))
            .collect();
        if !known.is_empty() {
            let mut query = QueryBuilder::<Sqlite>::new(
                "DELETE FROM search.publication_words WHERE rowid IN (",
            );
            let mut list = query.separated(", ");
            known.iter().for_each(|id| {
                list.push_bind(*id);
            });
            query.push(")");
            query.build().execute(&mut *tx).await?;
        }
        let present: Vec<(i64, &String, &String)> = chunk
            .iter()
            .filter_map(|(id, words)| words.as_ref().map(|(title, plain)| (*id, title, plain)))
            .collect();
        if !present.is_empty() {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO search.publication_words (rowid, title, plain_body) ",
            );
            query.push_values(present, |mut values, (id, title, plain)| {
                values
                    .push_bind(id)
                    .push_bind(title.as_str())
                    .push_bind(plain.as_str());
            });
            query.build().execute(&mut *tx).await?;
        }
    }
    sqlx::query("UPDATE search.word_progress SET seq = $1")
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(last))
}

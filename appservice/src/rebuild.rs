//! `parvis rebuild-index`: rebuilds the index from the homeserver, room by room.
//!
//! The new index is built beside the old one — in files of its own on SQLite (the default), in
//! a schema of its own on PostgreSQL — and replaces it only once every room is in: a homeserver
//! or a room failing half-way leaves the old index as it was, and the command fails saying so.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use parvis_config::Config;
use ruma::OwnedRoomId;

use crate::{
    bot::{Bot, JobError},
    server::{ServerError, Services},
    store::{Index, IndexStore, PostgresIndex},
};

/// The PostgreSQL schema a rebuild builds the new index in, beside the live one.
pub const REBUILDING_SCHEMA: &str = "parvis_rebuilding";

/// Why the index was not rebuilt. The old index is left as it was in every case.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The homeserver, the index or end-to-end encryption failed.
    #[error(transparent)]
    Job(#[from] JobError),
    /// Parvis could not start on the new index.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// Rooms could not be read.
    #[error("{} of {rooms} rooms could not be read (first: {}); see the log", failed.len(), failed[0])]
    RoomsFailed {
        /// How many rooms the bot is joined to.
        rooms: usize,
        /// Those that failed.
        failed: Vec<OwnedRoomId>,
    },
    /// The files of the SQLite index.
    #[error("{path}: {source}")]
    Files {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl From<crate::store::StoreError> for RebuildError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Job(error.into())
    }
}

/// Rebuilds the configured index from the homeserver beside the old one, and puts it in its
/// place once every room is in. Returns how many rooms were indexed. Parvis must not be
/// serving this index meanwhile.
pub async fn rebuild_beside(config: Config) -> Result<usize, RebuildError> {
    let live = config.database.url.clone();
    let mut building = config;
    match sqlite_file(&live) {
        Some(file) => {
            let built = beside(&file);
            let files = |path: &Path| {
                let path = path.to_owned();
                move |source| RebuildError::Files { path, source }
            };
            remove_sqlite_index(&built).map_err(files(&built))?;
            building.database.url = format!("sqlite://{}", built.display());
            match rebuild_into(building).await {
                Ok(rooms) => {
                    replace_sqlite_index(&built, &file).map_err(files(&file))?;
                    Ok(rooms)
                }
                Err(error) => {
                    let _ = remove_sqlite_index(&built);
                    Err(error)
                }
            }
        }
        None => {
            PostgresIndex::empty_schema(&live, REBUILDING_SCHEMA).await?;
            building.database.url = PostgresIndex::url_in_schema(&live, REBUILDING_SCHEMA);
            match rebuild_into(building).await {
                Ok(rooms) => {
                    PostgresIndex::adopt_schema(&live, REBUILDING_SCHEMA).await?;
                    Ok(rooms)
                }
                Err(error) => {
                    let _ = PostgresIndex::drop_schema(&live, REBUILDING_SCHEMA).await;
                    Err(error)
                }
            }
        }
    }
}

/// Rebuilds the (new, empty) index `config` names, then closes it.
async fn rebuild_into(config: Config) -> Result<usize, RebuildError> {
    let services = Services::connect(config).await?;
    let rebuilt = rebuild_index(&services.bot, &services.index).await;
    services.index.close().await;
    rebuilt
}

/// A one-line progress bar on a terminal (plain lines otherwise).
pub struct ProgressLine {
    label: &'static str,
    total: usize,
    interactive: bool,
}

impl ProgressLine {
    /// A progress line for `total` steps.
    pub fn new(label: &'static str, total: usize) -> Self {
        use std::io::IsTerminal;
        Self {
            label,
            total,
            interactive: std::io::stderr().is_terminal(),
        }
    }

    /// Shows that `done` steps are done.
    pub fn update(&self, done: usize) {
        let width = 30;
        let filled = (done * width)
            .checked_div(self.total)
            .unwrap_or(width)
            .min(width);
        let bar = format!("[{}{}]", "#".repeat(filled), " ".repeat(width - filled));
        let mut stderr = std::io::stderr();
        if self.interactive {
            let _ = write!(stderr, "\r{} {bar} {done}/{}", self.label, self.total);
            if done == self.total {
                let _ = writeln!(stderr);
            }
        } else if done == self.total || done.is_multiple_of(50) {
            let _ = writeln!(stderr, "{} {bar} {done}/{}", self.label, self.total);
        }
    }
}

/// Builds the (new, empty) `index` from the current state of every room the bot is joined
/// to. Returns how many rooms were indexed; fails if any room could not be.
pub async fn rebuild_index(bot: &Bot, index: &Index) -> Result<usize, RebuildError> {
    let mut progress = None;
    let reconciled = bot
        .reconcile_all(|done, total| {
            progress
                .get_or_insert_with(|| ProgressLine::new("rebuilding the index", total))
                .update(done)
        })
        .await?;
    if !reconciled.failed.is_empty() {
        return Err(RebuildError::RoomsFailed {
            rooms: reconciled.rooms,
            failed: reconciled.failed,
        });
    }
    let rooms = reconciled.rooms;
    // On SQLite, the words of the pages are indexed for search beside the writer: the index is
    // rebuilt when they are too.
    let mut words: Option<ProgressLine> = None;
    loop {
        let waiting = index.search_backlog().await?;
        let waiting = usize::try_from(waiting).unwrap_or(usize::MAX);
        if waiting > 0 || words.is_some() {
            let line = words
                .get_or_insert_with(|| ProgressLine::new("indexing words for search", waiting));
            line.update(line.total.saturating_sub(waiting));
        }
        if waiting == 0 {
            return Ok(rooms);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The file of a SQLite index URL (`sqlite://path/file.db?…`); `None` for PostgreSQL and for
/// in-memory databases.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !path.starts_with("file:"))
        .then(|| PathBuf::from(path))
}

/// Where the new index of `file` is built.
pub fn beside(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rebuilding");
    PathBuf::from(name)
}

/// The files of a SQLite index: the database, its search file, and their logs.
fn index_files(file: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-search", "-search-wal", "-search-shm"]
        .into_iter()
        .map(|suffix| {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .collect()
}

/// Removes the files of the SQLite index at `file` (those that exist).
pub fn remove_sqlite_index(file: &Path) -> std::io::Result<()> {
    for path in index_files(file) {
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

/// Puts the index built at `built` in the place of the one at `file`, files and logs together
/// (a log left from the old database must never be replayed into the new one). Parvis must
/// not be running on `file`.
pub fn replace_sqlite_index(built: &Path, file: &Path) -> std::io::Result<()> {
    remove_sqlite_index(file)?;
    for (from, to) in index_files(built).into_iter().zip(index_files(file)) {
        match std::fs::rename(&from, &to) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_of_urls() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/parvis/index.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/parvis/index.db"))
        );
        assert_eq!(
            sqlite_file("sqlite://parvis.db"),
            Some(PathBuf::from("parvis.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/parvis"), None);
    }

    #[test]
    fn a_built_index_replaces_the_old_one_with_its_logs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.db");
        for (suffix, text) in [("", "old"), ("-wal", "old log"), ("-search", "old words")] {
            std::fs::write(format!("{}{suffix}", file.display()), text).unwrap();
        }
        let built = beside(&file);
        std::fs::write(&built, "new").unwrap();
        std::fs::write(format!("{}-search", built.display()), "new words").unwrap();
        replace_sqlite_index(&built, &file).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert_eq!(
            std::fs::read_to_string(format!("{}-search", file.display())).unwrap(),
            "new words"
        );
        assert!(!Path::new(&format!("{}-wal", file.display())).exists());
        assert!(!built.exists());
    }
}

//! The shared SQL body (`sql.rs`) on SQLite.

use super::*;

type Db = sqlx::Sqlite;
type Store = SqliteIndex;
const WRITE_NAME: &str = "SqliteWrite";
const SEARCH_SQL: &str = SQLITE_SEARCH;
const CANDIDATES_SQL: Option<&str> = Some(SQLITE_SEARCH_CANDIDATES);
// SQLite's words are indexed beside the writer (`search_words`), not folded in the write.
const FOLDS_SEARCH: bool = false;
use super::sqlite_match_query as match_query;

// The same file is this module on each backend: one body of SQL, two database types.
#[allow(clippy::duplicate_mod)]
#[path = "sql.rs"]
pub(super) mod sql;

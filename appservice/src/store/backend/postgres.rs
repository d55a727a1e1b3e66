//! The shared SQL body (`sql.rs`) on PostgreSQL.

use super::*;

type Db = sqlx::Postgres;
type Store = PostgresIndex;
const WRITE_NAME: &str = "PostgresWrite";
const SEARCH_SQL: &str = POSTGRES_SEARCH;
const CANDIDATES_SQL: Option<&str> = None;
// The `tsvector` is computed from the folded title and body written with each object.
const FOLDS_SEARCH: bool = true;
use super::postgres_match_query as match_query;

// The same file is this module on each backend: one body of SQL, two database types.
#[allow(clippy::duplicate_mod)]
#[path = "sql.rs"]
pub(super) mod sql;

//! The dev harness: a real Synapse installed from PyPI and the real `parvis` binary, started on
//! free loopback ports, stopped by PID. Used by the integration tests in `tests/tests/` and by
//! the `parvis-demo` binary (the README's first command).

pub mod api;
pub mod client;
pub mod faults;
pub mod parvis;
pub mod stack;
pub mod synapse;

pub use client::TestUser;
pub use faults::{Fault, FaultyHomeserver};
pub use parvis::ParvisProcess;
pub use stack::{Database, Stack, StackOptions, skip_without_postgres};
pub use synapse::Synapse;

use std::{path::PathBuf, time::Duration};

/// Why the harness failed.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A process or file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request failed.
    #[error("{context}: {source}")]
    Http {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: reqwest::Error,
    },
    /// A Matrix or Parvis API answered with an error.
    #[error("{context}: HTTP {status}: {body}")]
    Api {
        /// What was being done.
        context: String,
        /// HTTP status.
        status: u16,
        /// The answer.
        body: String,
    },
    /// Something did not happen in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Result alias of the harness.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let context = context.into();
    move |source| HarnessError::Io { context, source }
}

/// Where the harness caches installs between runs (`$PARVIS_CACHE_DIR`, default `~/.cache/parvis`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("PARVIS_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp"));
            home.join(".cache/parvis")
        })
}

/// A free TCP port on 127.0.0.1 (bound then released), for a server a test starts.
///
/// It is drawn from 20000–32767, below Linux's ephemeral range (32768–60999): a port the kernel
/// hands out meanwhile — a proxy bound to port 0, an outgoing connection — can never take it
/// before its server listens. No port is handed out twice by one test process.
pub fn free_port() -> Result<u16> {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for _ in 0..2000 {
        let random = u16::from_le_bytes([
            uuid::Uuid::new_v4().as_bytes()[0],
            uuid::Uuid::new_v4().as_bytes()[1],
        ]);
        let port = 20000 + random % 12768;
        if handed_out.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.push(port);
            return Ok(port);
        }
    }
    Err(HarnessError::Other(
        "no free port in 20000-32767".to_owned(),
    ))
}

/// Polls `check` every 200 ms until it returns `Some`, or fails after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(HarnessError::Timeout(format!("{what} (after {timeout:?})")));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs one named step of a long scenario test: says `── step: {name}` on stderr before the
/// step starts and, should it panic, `── failed in step: {name}` after the panic's message, so
/// the captured output of a failing test names the step that broke. See [`step!`].
pub async fn step<T>(name: &str, future: impl std::future::Future<Output = T>) -> T {
    struct Failing<'a>(&'a str);
    impl Drop for Failing<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("── failed in step: {}", self.0);
            }
        }
    }
    eprintln!("── step: {name}");
    let _failing = Failing(name);
    future.await
}

/// `step!(scenario.name(args…))` awaits `scenario.name(args…)` as the [`step()`] named `name`:
/// the step's name is the name of the method that runs it.
#[macro_export]
macro_rules! step {
    ($scenario:ident . $name:ident ( $($arg:expr),* $(,)? )) => {
        $crate::step(stringify!($name), $scenario.$name($($arg),*)).await
    };
}

/// The last `lines` lines of a log file, for error messages.
pub fn log_tail(path: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// An HTTP client for the harness.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|error| panic!("cannot build an HTTP client: {error}"))
}

/// `GET url` with a bearer token: the status and the answer as JSON (`Null` when it is not).
pub async fn get_json(url: &str, token: &str) -> Result<(u16, serde_json::Value)> {
    let response = http_client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|source| HarnessError::Http {
            context: format!("GET {url}"),
            source,
        })?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or_default()))
}

/// A Matrix ID as one path segment of a Parvis API URL (`!` and `:` escaped).
pub fn path_segment(id: &str) -> String {
    id.replace('!', "%21")
        .replace(':', "%3A")
        .replace('@', "%40")
}

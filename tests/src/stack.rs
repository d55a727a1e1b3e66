//! A whole test deployment: Synapse and Parvis, wired by a registration, in a temporary directory.

use std::{path::PathBuf, process::Stdio};

use tokio::process::Command;

use crate::{HarnessError, Result, TestUser, io, parvis::ParvisProcess, synapse::Synapse};

/// Which database Parvis indexes into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in the stack's directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `PARVIS_TEST_POSTGRES_URL` (`scripts/test`
    /// sets it; tests skip PostgreSQL without it: [`skip_without_postgres`]), dropped with the
    /// stack.
    Postgres,
}

/// How a [`Stack`] is set up beyond its database.
#[derive(Clone, Debug, Default)]
pub struct StackOptions {
    /// Synapse pushes no encryption updates to appservices (MSC2409/MSC3202 off), and Parvis's
    /// bot, apart from the appservice's own user, reads them with `/sync`.
    pub device_updates_by_sync: bool,
}

/// Synapse and Parvis, running.
pub struct Stack {
    /// The homeserver.
    pub synapse: Synapse,
    /// Parvis.
    pub parvis: ParvisProcess,
    /// The stack's directory (logs, databases).
    pub dir: PathBuf,
    _tempdir: Option<tempfile::TempDir>,
    postgres_database: Option<String>,
}

/// Whether the PostgreSQL tests are to be skipped: `PARVIS_TEST_POSTGRES_URL` is not set
/// (`cargo test` on a machine without PostgreSQL). Says so on stderr.
pub fn skip_without_postgres() -> bool {
    let skip = std::env::var_os("PARVIS_TEST_POSTGRES_URL").is_none();
    if skip {
        eprintln!("skipped: PARVIS_TEST_POSTGRES_URL is not set (scripts/test sets it)");
    }
    skip
}

fn postgres_admin_url() -> String {
    std::env::var("PARVIS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn psql(sql: &str) -> Result<()> {
    let output = Command::new("psql")
        .arg(postgres_admin_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(io("running psql"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(HarnessError::Other(format!(
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// Creates a fresh PostgreSQL database; returns its name and URL.
pub async fn fresh_postgres_database() -> Result<(String, String)> {
    let name = format!("parvis_it_{}", uuid::Uuid::new_v4().simple());
    psql(&format!("CREATE DATABASE {name}")).await?;
    let admin = postgres_admin_url();
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base.to_owned())
        .unwrap_or(admin);
    Ok((name.clone(), format!("{base}/{name}")))
}

impl Stack {
    /// Starts Synapse and Parvis (on `database`) in a new temporary directory.
    pub async fn start(database: Database) -> Result<Self> {
        Self::start_with(database, StackOptions::default()).await
    }

    /// As [`Stack::start`], set up as `options` say.
    pub async fn start_with(database: Database, options: StackOptions) -> Result<Self> {
        Self::start_configured(database, options, |_| {}).await
    }

    /// As [`Stack::start_with`], with `configure` given Parvis before anything runs it (the
    /// registration is generated and `parvis serve` started after it), to set what the
    /// harness's configuration leaves at its default, as an operator would:
    /// `|parvis| parvis.set_env("PARVIS__WEB__THEME", "dsfr")`.
    pub async fn start_configured(
        database: Database,
        options: StackOptions,
        configure: impl FnOnce(&mut ParvisProcess),
    ) -> Result<Self> {
        let tempdir = tempfile::Builder::new()
            .prefix("parvis-stack-")
            .tempdir()
            .map_err(io("creating a temporary directory"))?;
        let dir = tempdir.path().to_owned();
        let (database_url, postgres_database) = match database {
            Database::Sqlite => (
                format!("sqlite://{}", dir.join("parvis.db").display()),
                None,
            ),
            Database::Postgres => {
                let (name, url) = fresh_postgres_database().await?;
                (url, Some(name))
            }
        };
        let port = Synapse::pick_port()?;
        let homeserver_url = format!("http://127.0.0.1:{port}");
        let mut parvis = ParvisProcess::configure(
            &dir.join("parvis"),
            &homeserver_url,
            &format!("localhost:{port}"),
            &database_url,
            None,
        )?;
        if options.device_updates_by_sync {
            parvis.set_env("PARVIS__APPSERVICE__SENDER_LOCALPART", "parvis-appservice");
            parvis.set_env("PARVIS__E2EE__DEVICE_UPDATES", "sync");
        }
        configure(&mut parvis);
        let registration = parvis.generate_registration().await?;
        parvis.start().await?;
        let synapse = Synapse::start_with(
            &dir.join("synapse"),
            port,
            &[registration],
            !options.device_updates_by_sync,
        )
        .await?;
        let keep = std::env::var_os("PARVIS_KEEP_TMP").is_some();
        let (tempdir, dir) = if keep {
            (None, tempdir.keep())
        } else {
            (Some(tempdir), dir)
        };
        Ok(Self {
            synapse,
            parvis,
            dir,
            _tempdir: tempdir,
            postgres_database,
        })
    }

    /// Registers a user on the homeserver (password `password`).
    pub async fn register_user(&self, localpart: &str) -> Result<TestUser> {
        TestUser::register(&self.synapse.base_url(), localpart, "password").await
    }

    /// Parvis's directory (configuration, logs, crypto store).
    pub fn parvis_dir(&self) -> std::path::PathBuf {
        self.dir.join("parvis")
    }

    /// The bot's user ID.
    pub fn bot_user_id(&self) -> String {
        self.parvis.bot_user_id()
    }

    /// A SQLite URL in the stack's directory, for a second, fresh index.
    pub fn scratch_sqlite_url(&self, name: &str) -> String {
        format!("sqlite://{}", self.dir.join(format!("{name}.db")).display())
    }

    /// Stops both processes and drops the PostgreSQL database, if any.
    pub async fn stop(mut self) {
        self.parvis.stop().await;
        let _ = self.synapse.stop().await;
        if let Some(name) = self.postgres_database.take() {
            let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

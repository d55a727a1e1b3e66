//! The `parvis` command line.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use parvis_config::{
    Config, ConfigError, LogFormat, random_token, registration_yaml, sample_config,
};

use crate::{
    rebuild::{RebuildError, rebuild_beside},
    server::{Application, ServerError, Services},
    store::IndexStore,
};

/// Parvis: collaboration communities on Matrix.
#[derive(Debug, Parser)]
#[command(name = "parvis", version, about)]
pub struct Cli {
    /// Configuration file (TOML). Defaults to `parvis.toml` when it exists; `PARVIS__…`
    /// environment variables override it.
    #[arg(long, short, global = true, env = "PARVIS_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: CliCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run the application service.
    Serve,
    /// Write a documented sample configuration.
    GenerateConfig {
        /// File to write (standard output when absent).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Write the appservice registration file for the homeserver.
    GenerateRegistration {
        /// File to write (standard output when absent).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Write the OpenAPI description of the REST API (the web app's types are generated from
    /// the copy in `widgets/openapi.json`).
    Openapi {
        /// File to write (standard output when absent).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Drop the index and rebuild it from the homeserver.
    RebuildIndex,
    /// Check the deployment (index database, homeserver, registration, the homeserver reaching
    /// Parvis, clocks, web app) and say what to fix; exits with 1 when Parvis cannot run.
    Doctor,
    /// Inspect the index.
    Index {
        /// What to inspect.
        #[command(subcommand)]
        command: IndexCommand,
    },
}

/// `parvis index …`
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Print a stable digest of the index (compare it before and after a rebuild).
    Digest,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The server or its services.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// Rebuilding.
    #[error("rebuild failed: {0}")]
    Rebuild(#[from] RebuildError),
    /// The index.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// `parvis doctor` found what stops Parvis.
    #[error("the deployment needs fixing (see above)")]
    Unhealthy,
    /// Writing a file.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl Cli {
    fn config_path(&self) -> Option<PathBuf> {
        self.config
            .clone()
            .or_else(|| Some(PathBuf::from("parvis.toml")).filter(|path| path.exists()))
    }

    fn load_config(&self) -> Result<Config, ConfigError> {
        Config::load(self.config_path().as_deref())
    }
}

fn write_output(output: Option<&Path>, text: &str) -> Result<(), CliError> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.to_owned(),
            source,
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Writes a file holding secrets (the registration's tokens): readable by its owner only,
/// from the moment it exists.
fn write_secret_output(output: Option<&Path>, text: &str) -> Result<(), CliError> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt, os::unix::fs::PermissionsExt};
    match output {
        Some(path) => {
            let write = || -> std::io::Result<()> {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(path)?;
                // An existing file keeps its mode on open: narrow it too.
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                file.write_all(text.as_bytes())
            };
            write().map_err(|source| CliError::Write {
                path: path.to_owned(),
                source,
            })
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn init_logging(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        // With the spans around each line (the HTTP request, the transaction), for a
        // collector to group a request's lines.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}

/// Runs the command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        CliCommand::GenerateConfig { output } => write_output(output.as_deref(), &sample_config()),
        CliCommand::Openapi { output } => write_output(
            output.as_deref(),
            &crate::api::openapi_document(crate::server::TOOL_ROUTES),
        ),
        CliCommand::GenerateRegistration { output } => {
            let mut config =
                Config::load_unvalidated(cli.config_path().as_deref(), std::env::vars())?;
            for (name, token) in [
                ("as_token", &mut config.appservice.as_token),
                ("hs_token", &mut config.appservice.hs_token),
            ] {
                if token.is_empty() {
                    *token = random_token();
                    eprintln!(
                        "appservice.{name} was not set; add it to the configuration: {name} = \"{token}\""
                    );
                }
            }
            config.validate()?;
            write_secret_output(output.as_deref(), &registration_yaml(&config))
        }
        CliCommand::Serve => {
            let config = cli.load_config()?;
            init_logging(&config.log.filter, config.log.format);
            let application = Application::build(config).await?;
            application.run_until_stopped(shutdown_signal()).await?;
            Ok(())
        }
        CliCommand::RebuildIndex => {
            // The crypto store is read to decrypt encrypted state (MSC4362): stop the serving
            // Parvis first, as for any rebuild.
            let config = cli.load_config()?;
            init_logging("warn", config.log.format);
            match rebuild_beside(config).await {
                Ok(rooms) => {
                    eprintln!("index rebuilt from {rooms} rooms");
                    Ok(())
                }
                Err(error) => {
                    eprintln!("the index was not rebuilt, and is left as it was");
                    Err(error.into())
                }
            }
        }
        CliCommand::Doctor => {
            let config = cli.load_config()?;
            init_logging("error", LogFormat::Text);
            let report = crate::doctor::diagnose(&config).await;
            print!("{}", report.text());
            if report.healthy() {
                Ok(())
            } else {
                Err(CliError::Unhealthy)
            }
        }
        CliCommand::Index {
            command: IndexCommand::Digest,
        } => {
            let mut config = cli.load_config()?;
            config.e2ee.enabled = false;
            let services = Services::connect(config).await?;
            println!("{}", services.index.digest().await?);
            Ok(())
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("stopping");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// The registration holds `as_token` and `hs_token`: it used to be written readable by
    /// every user of the machine.
    #[test]
    fn the_registration_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registration.yaml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_secret_output(Some(&path), "as_token: secret\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "as_token: secret\n"
        );
    }
}

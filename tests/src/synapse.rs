//! A real Synapse, installed from PyPI into a cached virtualenv, configured from code.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use serde_json::json;
use tokio::process::{Child, Command};

use crate::{HarnessError, Result, cache_dir, free_port, http_client, io, log_tail, wait_for};

/// The Synapse version the harness installs.
pub const SYNAPSE_VERSION: &str = "1.163.2";

/// The virtualenv holding Synapse, installed on first use (atomically: concurrent tests either
/// wait for nothing or install into their own directory and rename).
pub async fn ensure_installed() -> Result<PathBuf> {
    let venv = cache_dir().join(format!("synapse-{SYNAPSE_VERSION}-venv"));
    let python = venv.join("bin/python");
    if installed_version(&python).await.as_deref() == Some(SYNAPSE_VERSION) {
        return Ok(venv);
    }
    std::fs::create_dir_all(cache_dir()).map_err(io("creating the cache directory"))?;
    let staging = cache_dir().join(format!("synapse-install-{}", uuid::Uuid::new_v4().simple()));
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&staging),
        "creating the Synapse virtualenv",
    )
    .await?;
    run(
        Command::new(staging.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("matrix-synapse=={SYNAPSE_VERSION}")),
        "installing Synapse from PyPI",
    )
    .await?;
    // Only `bin/python` is used, which finds its packages relative to itself after the rename.
    if std::fs::rename(&staging, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        if installed_version(&python).await.as_deref() != Some(SYNAPSE_VERSION) {
            return Err(HarnessError::Other(format!(
                "Synapse install at {} is broken; delete it",
                venv.display()
            )));
        }
        return Ok(venv);
    }
    Ok(venv)
}

async fn installed_version(python: &Path) -> Option<String> {
    let output = Command::new(python)
        .args(["-c", "import synapse; print(synapse.__version__)"])
        .output()
        .await
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

async fn run(command: &mut Command, what: &str) -> Result<()> {
    let output = command.output().await.map_err(io(what))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(HarnessError::Other(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// A running Synapse.
pub struct Synapse {
    venv: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
    /// Whether appservices get to-device messages, device lists and key counts (MSC2409, MSC3202).
    pushes_device_updates: bool,
}

impl Synapse {
    /// Writes a configuration in `dir` (kept if present) for a Synapse on `port` with the given
    /// appservice registrations, and starts it. It pushes to-device messages, device lists and
    /// key counts to appservices (MSC2409, MSC3202).
    pub async fn start(dir: &Path, port: u16, registrations: &[PathBuf]) -> Result<Self> {
        Self::start_with(dir, port, registrations, true).await
    }

    /// As [`Synapse::start`]; `pushes_device_updates` false leaves MSC2409/MSC3202 off, as on
    /// homeservers that do not push encryption updates to appservices.
    pub async fn start_with(
        dir: &Path,
        port: u16,
        registrations: &[PathBuf],
        pushes_device_updates: bool,
    ) -> Result<Self> {
        let venv = ensure_installed().await?;
        std::fs::create_dir_all(dir).map_err(io("creating the Synapse directory"))?;
        let mut synapse = Self {
            venv,
            dir: dir.to_owned(),
            port,
            child: None,
            pushes_device_updates,
        };
        synapse.write_config(registrations).await?;
        synapse.spawn().await?;
        Ok(synapse)
    }

    /// A port for a new Synapse.
    pub fn pick_port() -> Result<u16> {
        free_port()
    }

    /// The client-server API base URL.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server name (`localhost:PORT`).
    pub fn server_name(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// The process ID, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The shared secret for the admin registration API.
    pub fn registration_secret(&self) -> &'static str {
        "parvis-harness-registration-secret"
    }

    async fn write_config(&self, registrations: &[PathBuf]) -> Result<()> {
        let key = self.dir.join("signing.key");
        if !key.exists() {
            let script = format!(
                "from signedjson.key import generate_signing_key, write_signing_keys\n\
                 with open({:?}, 'w') as f: write_signing_keys(f, [generate_signing_key('a_key')])",
                key.display().to_string()
            );
            run(
                Command::new(self.venv.join("bin/python")).args(["-c", &script]),
                "generating the signing key",
            )
            .await?;
        }
        let log_config = self.dir.join("log.yaml");
        let log = json!({
            "version": 1,
            "formatters": {"precise": {"format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s"}},
            "filters": {"context": {"()": "synapse.logging.context.LoggingContextFilter", "request": ""}},
            "handlers": {"file": {"class": "logging.FileHandler", "formatter": "precise", "filename": self.dir.join("homeserver.log"), "filters": ["context"]}},
            "root": {"level": "INFO", "handlers": ["file"]},
            "disable_existing_loggers": false,
        });
        let fast = json!({"per_second": 10000, "burst_count": 100000});
        let config = json!({
            "server_name": self.server_name(),
            "public_baseurl": format!("{}/", self.base_url()),
            "pid_file": self.dir.join("homeserver.pid"),
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": false,
                           "x_forwarded": false, "resources": [{"names": ["client", "federation"], "compress": false}]}],
            "database": {"name": "sqlite3", "args": {"database": self.dir.join("homeserver.db")}},
            "log_config": log_config,
            "media_store_path": self.dir.join("media"),
            "signing_key_path": key,
            "registration_shared_secret": self.registration_secret(),
            "enable_registration": true,
            "enable_registration_without_verification": true,
            "report_stats": false,
            "url_preview_enabled": false,
            "trusted_key_servers": [],
            "suppress_key_server_warning": true,
            "app_service_config_files": registrations,
            "experimental_features": {"msc2409_to_device_messages_enabled": self.pushes_device_updates, "msc3202_transaction_extensions": self.pushes_device_updates},
            "rc_message": fast, "rc_registration": fast, "rc_room_creation": fast, "rc_profile": fast,
            "rc_login": {"address": fast, "account": fast, "failed_attempts": fast},
            "rc_joins": {"local": fast, "remote": fast}, "rc_joins_per_room": fast,
            "rc_invites": {"per_room": fast, "per_user": fast, "per_issuer": fast},
            "rc_presence": {"per_user": fast}, "rc_delayed_event_mgmt": fast, "rc_media_create": fast,
            "rc_key_requests": fast, "rc_3pid_validation": fast, "rc_reports": fast, "rc_admin_redaction": fast,
            "rc_federation": {"window_size": 1000, "sleep_limit": 10000, "sleep_delay": 0, "reject_limit": 100000, "concurrent": 1000},
        });
        let yaml =
            |value| serde_yaml::to_string(&value).map_err(|e| HarnessError::Other(e.to_string()));
        std::fs::write(&log_config, yaml(log)?).map_err(io("writing the Synapse log config"))?;
        std::fs::write(self.dir.join("homeserver.yaml"), yaml(config)?)
            .map_err(io("writing homeserver.yaml"))?;
        Ok(())
    }

    async fn spawn(&mut self) -> Result<()> {
        let out = std::fs::File::create(self.dir.join("stdout.log"))
            .map_err(io("creating the Synapse output log"))?;
        let err = out
            .try_clone()
            .map_err(io("creating the Synapse output log"))?;
        let child = Command::new(self.venv.join("bin/python"))
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(self.dir.join("homeserver.yaml"))
            .current_dir(&self.dir)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .map_err(io("starting Synapse"))?;
        self.child = Some(child);
        let url = format!("{}/_matrix/client/versions", self.base_url());
        let http = http_client();
        let ready = wait_for("Synapse to answer", Duration::from_secs(60), || {
            let (http, url) = (http.clone(), url.clone());
            async move {
                http.get(&url)
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().is_success())
                    .map(|_| ())
            }
        })
        .await;
        if let Err(error) = ready {
            return Err(HarnessError::Other(format!(
                "{error}\n--- homeserver.log ---\n{}\n--- stdout ---\n{}",
                log_tail(&self.dir.join("homeserver.log"), 40),
                log_tail(&self.dir.join("stdout.log"), 20)
            )));
        }
        Ok(())
    }

    /// Stops Synapse (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(child) = self.child.take() {
            stop_child(child).await;
        }
        Ok(())
    }

    /// Synapse's SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.dir.join("homeserver.db")
    }

    /// Stops and starts Synapse again with the same configuration and database.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        self.spawn().await
    }
}

/// SIGTERM, then SIGKILL after 10 s.
pub(crate) async fn stop_child(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

//! The `parvis` binary under test, configured and started like an operator would.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::process::{Child, Command};

use crate::{
    HarnessError, Result, free_port, http_client, io, log_tail, synapse::stop_child, wait_for,
};

/// Tokens shared between Parvis, the homeserver and the tests.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// Parvis → homeserver.
    pub as_token: String,
    /// Homeserver → Parvis.
    pub hs_token: String,
    /// Admin REST calls.
    pub admin_token: String,
}

/// A Parvis process and its configuration file.
pub struct ParvisProcess {
    binary: PathBuf,
    dir: PathBuf,
    config_path: PathBuf,
    port: u16,
    tokens: Tokens,
    server_name: String,
    child: Option<Child>,
    starts: u32,
    /// Configuration set through the environment (`PARVIS__SECTION__KEY`).
    env: Vec<(String, String)>,
}

/// Finds the `parvis` binary: `$PARVIS_BIN`, else next to the running test or demo executable
/// (`target/debug/parvis`; `scripts/test` builds it first).
pub fn parvis_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("PARVIS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(io("locating the test executable"))?;
    exe.ancestors()
        .skip(1)
        .take(3)
        .map(|dir| dir.join("parvis"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            HarnessError::Other(
                "the parvis binary is not built: run `cargo build -p parvis` (or set PARVIS_BIN)"
                    .to_owned(),
            )
        })
}

fn token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The built web front end (`npm run build` in `widgets/`), which Parvis serves at `/widgets/`.
pub fn widgets_dist() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../widgets/dist")
}

impl ParvisProcess {
    /// Writes `dir/parvis.toml` for a Parvis on a free port beside the homeserver at
    /// `homeserver_url` (`server_name`), indexing into `database_url`.
    pub fn configure(
        dir: &Path,
        homeserver_url: &str,
        server_name: &str,
        database_url: &str,
        port: Option<u16>,
    ) -> Result<Self> {
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let tokens = Tokens {
            as_token: token(),
            hs_token: token(),
            admin_token: token(),
        };
        let config = format!(
            "[homeserver]\nurl = \"{homeserver_url}\"\nserver_name = \"{server_name}\"\n\n\
             [appservice]\nid = \"parvis\"\nbind = \"127.0.0.1:{port}\"\nurl = \"http://127.0.0.1:{port}\"\n\
             as_token = \"{}\"\nhs_token = \"{}\"\n\n\
             [database]\nurl = \"{database_url}\"\n\n\
             [api]\nadmin_token = \"{}\"\n\n\
             [web]\nassets_dir = \"{}\"\n\n\
             [e2ee]\nstore_dir = \"{}\"\n\n\
             [index]\nreconcile_interval_secs = 300\n\n\
             [log]\nfilter = \"info,parvis=debug,parvis_homeserver_bridge=debug\"\n",
            tokens.as_token,
            tokens.hs_token,
            tokens.admin_token,
            widgets_dist().display(),
            dir.join("crypto").display()
        );
        std::fs::create_dir_all(dir).map_err(io("creating the Parvis directory"))?;
        let config_path = dir.join("parvis.toml");
        std::fs::write(&config_path, config).map_err(io("writing parvis.toml"))?;
        Ok(Self {
            binary: parvis_binary()?,
            dir: dir.to_owned(),
            config_path,
            port,
            tokens,
            server_name: server_name.to_owned(),
            child: None,
            starts: 0,
            env: Vec::new(),
        })
    }

    /// Reuses an existing configuration file (the demo's second run).
    pub fn existing(dir: &Path, port: u16, tokens: Tokens, server_name: &str) -> Result<Self> {
        Ok(Self {
            binary: parvis_binary()?,
            dir: dir.to_owned(),
            config_path: dir.join("parvis.toml"),
            port,
            tokens,
            server_name: server_name.to_owned(),
            child: None,
            starts: 0,
            env: Vec::new(),
        })
    }

    /// The tokens in the configuration.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Parvis's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sets a configuration key through the environment (`PARVIS__SECTION__KEY`) for every
    /// later command and start.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Adds a section the written configuration does not have (`[bot]\n…`), for every later
    /// command and start.
    pub fn add_config_section(&self, toml: &str) -> Result<()> {
        let mut config =
            std::fs::read_to_string(&self.config_path).map_err(io("reading parvis.toml"))?;
        config.push('\n');
        config.push_str(toml);
        std::fs::write(&self.config_path, config).map_err(io("writing parvis.toml"))
    }

    /// Takes back what [`Self::set_env`] set for `name`: the configuration file rules again.
    pub fn unset_env(&mut self, name: &str) {
        self.env.retain(|(set, _)| set != name);
    }

    /// The bot's user ID.
    pub fn bot_user_id(&self) -> String {
        format!("@parvis:{}", self.server_name)
    }

    /// Runs a `parvis` subcommand with this configuration; returns its standard output. When it
    /// fails, the error holds what it wrote to both outputs.
    pub async fn command(&self, args: &[&str], database_url: Option<&str>) -> Result<String> {
        let mut command = Command::new(&self.binary);
        command
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .envs(self.env.iter().map(|(name, value)| (name, value)));
        if let Some(url) = database_url {
            command.env("PARVIS__DATABASE__URL", url);
        }
        let output = command
            .output()
            .await
            .map_err(io(format!("running parvis {}", args.join(" "))))?;
        if !output.status.success() {
            return Err(HarnessError::Other(format!(
                "parvis {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr),
                String::from_utf8_lossy(&output.stdout)
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Writes the registration file for the homeserver; returns its path.
    pub async fn generate_registration(&self) -> Result<PathBuf> {
        let path = self.dir.join("registration.yaml");
        let path_text = path.display().to_string();
        self.command(&["generate-registration", "--output", &path_text], None)
            .await?;
        Ok(path)
    }

    /// The index digest (`parvis index digest`), of the configured database or of `database_url`.
    pub async fn digest(&self, database_url: Option<&str>) -> Result<String> {
        self.command(&["index", "digest"], database_url).await
    }

    /// Rebuilds the index from the homeserver (`parvis rebuild-index`).
    pub async fn rebuild_index(&self, database_url: Option<&str>) -> Result<()> {
        self.command(&["rebuild-index"], database_url)
            .await
            .map(|_| ())
    }

    /// The log file of the current (or last) run.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!("parvis-{}.log", self.starts))
    }

    /// Starts `parvis serve` and waits for `/health`.
    pub async fn start(&mut self) -> Result<()> {
        self.starts += 1;
        let log = std::fs::File::create(self.log_path()).map_err(io("creating the Parvis log"))?;
        let err = log.try_clone().map_err(io("creating the Parvis log"))?;
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config_path)
            .arg("serve")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env("NO_COLOR", "1")
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .map_err(io("starting parvis"))?;
        self.child = Some(child);
        let url = format!("{}/health", self.url());
        let http = http_client();
        let ready = wait_for("Parvis to answer /health", Duration::from_secs(30), || {
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
        ready.map_err(|error| {
            HarnessError::Other(format!(
                "{error}\n--- parvis log ---\n{}",
                log_tail(&self.log_path(), 40)
            ))
        })
    }

    /// Kills Parvis with SIGKILL (no chance to finish anything).
    pub async fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Stops Parvis (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child).await;
        }
    }
}

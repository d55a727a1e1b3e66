//! Parvis's configuration: one typed struct, read from a TOML file and `PARVIS__SECTION__KEY`
//! environment variables, validated at start-up with errors that name the key.
//!
//! Each section is declared once with [`config_section!`]: the field docs become the
//! generated struct's docs *and* the comments of the sample file (`parvis generate-config`).

use std::{net::SocketAddr, path::Path};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
    value::{Dict, Value as FigmentValue},
};
use rand::{Rng, distr::Alphanumeric};
use ruma::{OwnedServerName, OwnedUserId, api::appservice::{Namespace, Namespaces, Registration, RegistrationInit}};
use serde::{Deserialize, Serialize};
use url::Url;

/// Prefix of the environment variables that override the file: `PARVIS__DATABASE__URL`.
pub const ENV_PREFIX: &str = "PARVIS__";

/// Why the configuration cannot be used. Every message names the key it is about.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an environment variable could not be read or has the wrong shape.
    #[error("configuration: {0}")]
    Parse(String),
    /// A key has a value Parvis cannot use.
    #[error("{key}: {problem}")]
    Invalid {
        /// The key, as `section.name`.
        key: &'static str,
        /// What is wrong, and what to do.
        problem: String,
    },
}

/// The documentation of one key, for the sample file.
#[derive(Clone, Copy, Debug)]
pub struct FieldDoc {
    /// Key name within its section.
    pub name: &'static str,
    /// Doc comment lines.
    pub doc: &'static [&'static str],
    /// Whether the key has no usable default and must be set.
    pub required: bool,
}

/// Declares a config section: the struct (with serde and `Default`), and its [`FieldDoc`]s.
macro_rules! config_section {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident [$section:literal] {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty = $default:expr $(, required = $required:literal)?;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// The section's name in the file.
            pub const SECTION: &'static str = $section;
            /// The section's doc lines.
            pub const DOC: &'static [&'static str] = &[$($sdoc),*];
            /// Its keys' docs.
            pub const FIELDS: &'static [FieldDoc] = &[
                $( FieldDoc { name: stringify!($field), doc: &[$($fdoc),*], required: false $(|| $required)? }, )*
            ];
        }
    };
}

config_section! {
    /// The homeserver Parvis is an application service of.
    HomeserverConfig ["homeserver"] {
        /// Base URL of the homeserver's client-server API, as Parvis reaches it.
        url: Url = Url::parse("http://127.0.0.1:8008").unwrap_or_else(|_| unreachable!());
        /// The homeserver's server name: the part after `:` in user IDs.
        server_name: OwnedServerName = "localhost:8008".try_into().unwrap_or_else(|_| unreachable!());
    }
}

config_section! {
    /// Parvis as an application service: where it listens, and the tokens it shares with the homeserver.
    AppserviceConfig ["appservice"] {
        /// The registration's `id`.
        id: String = "parvis".to_owned();
        /// Address Parvis listens on (appservice API, REST API, web pages).
        bind: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8009));
        /// URL at which the homeserver reaches Parvis (the registration's `url`).
        url: Url = Url::parse("http://127.0.0.1:8009").unwrap_or_else(|_| unreachable!());
        /// Token Parvis presents to the homeserver. `parvis generate-registration` makes one.
        as_token: String = String::new(), required = true;
        /// Token the homeserver presents to Parvis. `parvis generate-registration` makes one.
        hs_token: String = String::new(), required = true;
        /// Localpart of the bot users talk to (`@parvis:server`).
        bot_localpart: String = "parvis".to_owned();
        /// Localpart prefix of the users Parvis creates (`@parvis_…:server`).
        user_prefix: String = "parvis_".to_owned();
    }
}

config_section! {
    /// The index database: a SQLite file (default) or PostgreSQL.
    DatabaseConfig ["database"] {
        /// `sqlite://path/to/file.db` or `postgres://user@host/dbname`.
        url: String = "sqlite://parvis.db".to_owned();
        /// Most connections held open at once.
        max_connections: u32 = 8;
    }
}

config_section! {
    /// The REST API.
    ApiConfig ["api"] {
        /// Bearer token for administrative REST calls (creating communities for someone). Unset disables them.
        admin_token: Option<String> = None;
    }
}

config_section! {
    /// The index's upkeep.
    IndexConfig ["index"] {
        /// Seconds between reconciles of every room with the homeserver's state (0 disables them).
        reconcile_interval_secs: u64 = 300;
    }
}

config_section! {
    /// Logging.
    LogConfig ["log"] {
        /// A `tracing` filter, such as `info` or `info,parvis=debug`.
        filter: String = "info".to_owned();
    }
}

/// Parvis's whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// See [`HomeserverConfig`].
    pub homeserver: HomeserverConfig,
    /// See [`AppserviceConfig`].
    pub appservice: AppserviceConfig,
    /// See [`DatabaseConfig`].
    pub database: DatabaseConfig,
    /// See [`ApiConfig`].
    pub api: ApiConfig,
    /// See [`IndexConfig`].
    pub index: IndexConfig,
    /// See [`LogConfig`].
    pub log: LogConfig,
}

impl Config {
    /// Defaults, then the TOML file at `path` (if any), then `PARVIS__SECTION__KEY` variables; validated.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(path, std::env::vars())
    }

    /// Like [`Config::load`], with the environment given explicitly.
    pub fn load_from(path: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let config = Self::load_unvalidated(path, env)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the configuration without [`Config::validate`] (to generate what is missing).
    pub fn load_unvalidated(path: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError::Parse(format!("the file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Serialized::globals(env_overrides(env)?));
        let config: Config = figment.extract().map_err(|error| {
            let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
            ConfigError::Parse(messages.join("; "))
        })?;
        Ok(config)
    }

    /// Checks the values serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| Err(ConfigError::Invalid { key, problem: problem.to_owned() });
        let appservice = &self.appservice;
        for (key, token) in [("appservice.as_token", &appservice.as_token), ("appservice.hs_token", &appservice.hs_token)] {
            if token.trim().is_empty() {
                return invalid(key, "must be set (a random secret shared with the homeserver; `parvis generate-registration` makes one)");
            }
        }
        if appservice.as_token == appservice.hs_token {
            return invalid("appservice.hs_token", "must differ from appservice.as_token");
        }
        for (key, url) in [("homeserver.url", &self.homeserver.url), ("appservice.url", &appservice.url)] {
            if !matches!(url.scheme(), "http" | "https") {
                return invalid(key, "must be an http:// or https:// URL");
            }
        }
        let localpart_ok = |s: &str| !s.is_empty() && s.chars().all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '=' | '-' | '/'));
        if !localpart_ok(&appservice.bot_localpart) {
            return invalid("appservice.bot_localpart", "must be a Matrix localpart (a-z, 0-9, . _ = - /)");
        }
        if !localpart_ok(&appservice.user_prefix) {
            return invalid("appservice.user_prefix", "must be a Matrix localpart prefix (a-z, 0-9, . _ = - /)");
        }
        if appservice.bot_localpart.starts_with(&appservice.user_prefix) {
            return invalid("appservice.bot_localpart", "must not start with appservice.user_prefix");
        }
        if OwnedUserId::try_from(format!("@{}:{}", appservice.bot_localpart, self.homeserver.server_name)).is_err() {
            return invalid("appservice.bot_localpart", "does not make a valid user ID with homeserver.server_name");
        }
        let db = &self.database.url;
        if !(db.starts_with("sqlite:") || db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            return invalid("database.url", "must start with sqlite:// or postgres://");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        Ok(())
    }

    /// The bot's user ID, `@{bot_localpart}:{server_name}`.
    pub fn bot_user_id(&self) -> OwnedUserId {
        OwnedUserId::try_from(format!("@{}:{}", self.appservice.bot_localpart, self.homeserver.server_name))
            .unwrap_or_else(|_| unreachable!("checked by validate()"))
    }

    /// Whether the index is on PostgreSQL.
    pub fn is_database_postgres(&self) -> bool {
        self.database.url.starts_with("postgres")
    }
}

/// Turns `PARVIS__SECTION__KEY=value` pairs into a nested dictionary. Values are read as TOML
/// when they parse as such (numbers, booleans), as strings otherwise.
fn env_overrides(env: impl IntoIterator<Item = (String, String)>) -> Result<Dict, ConfigError> {
    let mut root = Dict::new();
    for (name, value) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else { continue };
        let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        let [section, key] = keys.as_slice() else {
            return Err(ConfigError::Parse(format!("{name}: expected PARVIS__SECTION__KEY")));
        };
        let parsed = value
            .parse::<i64>()
            .map(FigmentValue::from)
            .or_else(|_| value.parse::<bool>().map(FigmentValue::from))
            .unwrap_or_else(|_| FigmentValue::from(value.clone()));
        let entry = root.entry(section.clone()).or_insert_with(|| FigmentValue::from(Dict::new()));
        if let FigmentValue::Dict(_, dict) = entry {
            dict.insert(key.clone(), parsed);
        }
    }
    Ok(root)
}

/// The documented sample configuration, generated from the sections' docs and defaults.
pub fn sample_config() -> String {
    let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
    let mut out = String::from(
        "# Parvis configuration. Generated by `parvis generate-config`; every key is optional except\n\
         # where marked required. Each key can be overridden by an environment variable\n\
         # PARVIS__SECTION__KEY, e.g. PARVIS__DATABASE__URL.\n",
    );
    let sections: [(&str, &[&str], &[FieldDoc]); 6] = [
        (HomeserverConfig::SECTION, HomeserverConfig::DOC, HomeserverConfig::FIELDS),
        (AppserviceConfig::SECTION, AppserviceConfig::DOC, AppserviceConfig::FIELDS),
        (DatabaseConfig::SECTION, DatabaseConfig::DOC, DatabaseConfig::FIELDS),
        (ApiConfig::SECTION, ApiConfig::DOC, ApiConfig::FIELDS),
        (IndexConfig::SECTION, IndexConfig::DOC, IndexConfig::FIELDS),
        (LogConfig::SECTION, LogConfig::DOC, LogConfig::FIELDS),
    ];
    for (section, doc, fields) in sections {
        out.push('\n');
        for line in doc {
            out.push_str(&format!("#{line}\n"));
        }
        out.push_str(&format!("[{section}]\n"));
        for field in fields {
            for line in field.doc {
                out.push_str(&format!("#{line}\n"));
            }
            let value = defaults.get(section).and_then(|s| s.get(field.name));
            match value {
                Some(value) if !field.required => out.push_str(&format!("{} = {value}\n", field.name)),
                _ if field.required => out.push_str(&format!("# Required.\n{} = \"\"\n", field.name)),
                _ => out.push_str(&format!("# {} = \"\"\n", field.name)),
            }
        }
    }
    out
}

/// The appservice registration file for this configuration, as YAML.
pub fn registration_yaml(config: &Config) -> String {
    #[derive(Serialize)]
    struct RegistrationFile {
        #[serde(flatten)]
        registration: Registration,
        #[serde(rename = "de.sorunome.msc2409.push_ephemeral")]
        push_ephemeral: bool,
        #[serde(rename = "org.matrix.msc3202")]
        msc3202: bool,
        #[serde(rename = "io.element.msc4190")]
        msc4190: bool,
    }
    let appservice = &config.appservice;
    let server = regex_escape(config.homeserver.server_name.as_str());
    let mut namespaces = Namespaces::new();
    namespaces.users = vec![
        Namespace::new(true, format!("@{}.*:{server}", regex_escape(&appservice.user_prefix))),
        Namespace::new(true, format!("@{}:{server}", regex_escape(&appservice.bot_localpart))),
    ];
    namespaces.aliases = vec![Namespace::new(true, format!("#{}.*:{server}", regex_escape(&appservice.user_prefix)))];
    let mut registration: Registration = RegistrationInit {
        id: appservice.id.clone(),
        url: Some(appservice.url.as_str().trim_end_matches('/').to_owned()),
        as_token: appservice.as_token.clone(),
        hs_token: appservice.hs_token.clone(),
        sender_localpart: appservice.bot_localpart.clone(),
        namespaces,
        rate_limited: Some(false),
        protocols: None,
    }
    .into();
    registration.receive_ephemeral = true;
    let file = RegistrationFile { registration, push_ephemeral: true, msc3202: true, msc4190: true };
    serde_yaml::to_string(&file).unwrap_or_default()
}

/// A random secret for `as_token` / `hs_token`: 48 alphanumeric characters.
pub fn random_token() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(48).map(char::from).collect()
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = "\\.+*?()|[]{}^$".contains(c);
            escape.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tokens() -> Vec<(String, String)> {
        vec![
            ("PARVIS__APPSERVICE__AS_TOKEN".into(), "as-secret".into()),
            ("PARVIS__APPSERVICE__HS_TOKEN".into(), "hs-secret".into()),
        ]
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn committed_sample_is_current() {
        let committed = include_str!("../parvis.sample.toml");
        assert!(
            committed == sample_config(),
            "config/parvis.sample.toml is out of date: run `cargo run -p parvis -- generate-config --output config/parvis.sample.toml`"
        );
    }

    #[test]
    fn sample_with_tokens_loads_to_the_defaults() {
        let sample = sample_config()
            .replace("as_token = \"\"", "as_token = \"a\"")
            .replace("hs_token = \"\"", "hs_token = \"h\"");
        let config = Config::load_from(Some(file(&sample).path()), []).unwrap();
        let mut expected = Config::default();
        expected.appservice.as_token = "a".into();
        expected.appservice.hs_token = "h".into();
        assert_eq!(config, expected);
        assert!(sample_config().contains("# Token the homeserver presents to Parvis."));
    }

    #[test]
    fn environment_beats_file_beats_default() {
        let toml = file("[database]\nurl = \"sqlite://from-file.db\"\nmax_connections = 3\n");
        let mut env = tokens();
        env.push(("PARVIS__DATABASE__URL".into(), "postgres://db/parvis".into()));
        let config = Config::load_from(Some(toml.path()), env).unwrap();
        assert_eq!(config.database.url, "postgres://db/parvis");
        assert_eq!(config.database.max_connections, 3);
        assert_eq!(config.appservice.bot_localpart, "parvis");
        assert!(config.is_database_postgres());
        assert_eq!(config.bot_user_id().as_str(), "@parvis:localhost:8008");
    }

    #[test]
    fn errors_name_the_key() {
        let error = Config::load_from(None, []).unwrap_err().to_string();
        assert!(error.contains("appservice.as_token"), "{error}");
        let mut env = tokens();
        env.push(("PARVIS__HOMESERVER__URL".into(), "not a url".into()));
        let error = Config::load_from(None, env).unwrap_err().to_string();
        assert!(error.contains("url"), "{error}");
        let error = Config::load_from(Some(file("[database]\nurll = 1\n").path()), tokens()).unwrap_err().to_string();
        assert!(error.contains("urll"), "{error}");
        let mut env = tokens();
        env.push(("PARVIS__DATABASE__URL".into(), "mysql://x".into()));
        assert!(Config::load_from(None, env).unwrap_err().to_string().contains("database.url"));
        let mut env = tokens();
        env.push(("PARVIS__DATABASE__MAX_CONNECTIONS".into(), "many".into()));
        assert!(Config::load_from(None, env).unwrap_err().to_string().contains("max_connections"));
        let error = Config::load_from(Some(file("[database\n").path()), tokens()).unwrap_err().to_string();
        assert!(error.contains("line"), "{error}");
    }

    #[test]
    fn registration_namespaces() {
        let mut config = Config::default();
        config.appservice.as_token = "a".into();
        config.appservice.hs_token = "h".into();
        let yaml: serde_yaml::Value = serde_yaml::from_str(&registration_yaml(&config)).unwrap();
        assert_eq!(yaml["sender_localpart"], "parvis");
        assert_eq!(yaml["receive_ephemeral"], true);
        assert_eq!(yaml["org.matrix.msc3202"], true);
        assert_eq!(yaml["url"], "http://127.0.0.1:8009");
        let users: Vec<String> = yaml["namespaces"]["users"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|ns| {
                assert_eq!(ns["exclusive"], true);
                ns["regex"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(users, vec![r"@parvis_.*:localhost:8008".to_owned(), r"@parvis:localhost:8008".to_owned()]);
        assert_eq!(regex_escape("a.b"), r"a\.b");
    }

    #[test]
    fn tokens_are_random() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 48);
        assert_ne!(a, b);
    }
}

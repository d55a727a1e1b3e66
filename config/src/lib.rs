//! Parvis's configuration: one typed struct, read from a TOML file and `PARVIS__SECTION__KEY`
//! environment variables, validated at start-up with errors that name the key.
//!
//! Each section is declared once with `config_section!`: the field docs become the generated
//! struct's docs *and* the comments of the sample file ([`sample_config`], written by
//! `parvis generate-config`), and the defaults in the sample are the `Default` values,
//! serialised. A unit test keeps the committed `config/parvis.sample.toml` equal to it.
//!
//! The appservice registration file for the homeserver is generated from the configuration
//! too ([`registration_yaml`]).

use std::{net::SocketAddr, path::Path};

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Format, Serialized, Toml},
    value::{Dict, Map},
};
use ruma::{OwnedServerName, OwnedUserId};
use serde::{Deserialize, Serialize};
use url::Url;

mod env;
mod error;
mod registration;
mod sample;
#[cfg(test)]
mod tests;

pub use error::{ConfigError, Origin};
pub use registration::{random_token, registration_yaml};
pub use sample::sample_config;

/// Prefix of the environment variables that override the file: `PARVIS__DATABASE__URL`.
pub const ENV_PREFIX: &str = "PARVIS__";

/// The name of the provider in figment's metadata, by which errors are traced back to it.
pub(crate) const METADATA_NAME: &str = "environment variable";

/// `["database", "url"]` → `PARVIS__DATABASE__URL`.
pub(crate) fn variable_name<K: AsRef<str>>(keys: &[K]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|key| key.as_ref().to_ascii_uppercase())
        .collect();
    format!("{ENV_PREFIX}{}", keys.join("__"))
}

/// The documentation of one key, for the sample file.
#[derive(Clone, Copy, Debug)]
pub struct FieldDoc {
    /// Key name within its section.
    pub name: &'static str,
    /// Doc comment lines, each with the space that followed `///`.
    pub doc: &'static [&'static str],
    /// Whether the key has no usable default and must be set.
    pub required: bool,
    /// Placeholder shown, commented out, for keys that are required or unset by default.
    pub example: Option<&'static str>,
}

/// The documentation of one section, for the sample file.
#[derive(Clone, Copy, Debug)]
pub struct SectionDoc {
    /// The section's name: its `[table]` in the file, its `SECTION` in environment variables.
    pub name: &'static str,
    /// Doc comment lines of the section's struct.
    pub doc: &'static [&'static str],
    /// Its keys, in declaration order.
    pub fields: &'static [FieldDoc],
}

/// Declares a config section from one description: the struct with its docs, serde and
/// `Default`, and its [`SectionDoc`] (`Self::DOC`), from which the sample file is made.
///
/// ```text
/// config_section! {
///     /// Section doc.
///     pub struct NameConfig in "name" {
///         /// Field doc.
///         #[serde(deserialize_with = "…")]   // optional
///         pub field: Type = default_expression, required = true, example = "placeholder";
///     }
/// }
/// ```
macro_rules! config_section {
    (@required) => { false };
    (@required $required:literal) => { $required };
    (@example) => { None };
    (@example $example:literal) => { Some($example) };
    (
        $(#[doc = $section_doc:literal])*
        pub struct $name:ident in $section:literal {
            $(
                $(#[doc = $field_doc:literal])*
                $(#[serde($($serde:tt)*)])*
                pub $field:ident : $ty:ty = $default:expr
                    $(, required = $required:literal)?
                    $(, example = $example:literal)?;
            )*
        }
    ) => {
        $(#[doc = $section_doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[doc = $field_doc])*
                $(#[serde($($serde)*)])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// This section's name and documentation, for the sample configuration.
            pub const DOC: SectionDoc = SectionDoc {
                name: $section,
                doc: &[$($section_doc),*],
                fields: &[$(
                    FieldDoc {
                        name: stringify!($field),
                        doc: &[$($field_doc),*],
                        required: config_section!(@required $($required)?),
                        example: config_section!(@example $($example)?),
                    },
                )*],
            };
        }
    };
}

config_section! {
    /// The homeserver Parvis is an application service of.
    pub struct HomeserverConfig in "homeserver" {
        /// Base URL of the homeserver's client-server API, as Parvis reaches it.
        #[serde(deserialize_with = "de::url")]
        pub url: Url = default_url("http://127.0.0.1:8008");
        /// The homeserver's server name: the part after the `:` in user IDs.
        #[serde(deserialize_with = "de::server_name")]
        pub server_name: OwnedServerName = ruma::owned_server_name!("localhost:8008");
    }
}

config_section! {
    /// Parvis as an application service: where it listens, and the secrets it shares with the
    /// homeserver. `parvis generate-registration` writes the homeserver's registration file.
    pub struct AppserviceConfig in "appservice" {
        /// The registration's `id`, unique among the homeserver's application services.
        pub id: String = "parvis".to_owned();
        /// Address Parvis listens on, as `IP:port`, for the appservice API, the REST API and
        /// the web pages.
        #[serde(deserialize_with = "de::socket_addr")]
        pub bind: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8009));
        /// URL at which the homeserver reaches Parvis (the registration's `url`).
        #[serde(deserialize_with = "de::url")]
        pub url: Url = default_url("http://127.0.0.1:8009");
        /// Secret Parvis presents to the homeserver. Required: `parvis generate-registration`
        /// makes one when it is unset.
        pub as_token: String = String::new(),
            required = true, example = "a long random secret";
        /// Secret the homeserver presents to Parvis, different from `as_token`. Required:
        /// `parvis generate-registration` makes one when it is unset.
        pub hs_token: String = String::new(),
            required = true, example = "another long random secret";
        /// Localpart of the bot people talk to (`@parvis:server`). It must not start with
        /// `user_prefix`.
        pub bot_localpart: String = "parvis".to_owned();
        /// Localpart prefix of the users Parvis creates (`@parvis_…:server`); Parvis claims all
        /// users and room aliases starting with it.
        pub user_prefix: String = "parvis_".to_owned();
        /// Localpart of the appservice's own user (the registration's `sender_localpart`).
        /// Unset, the bot is that user. Set it apart from the bot when the bot must read its
        /// encryption updates with `/sync` (`e2ee.device_updates = "sync"`): Synapse refuses
        /// `/sync` to an appservice's sender. Parvis then registers the bot as one of its users.
        pub sender_localpart: Option<String> = None, example = "parvis-appservice";
        /// Address of a listener of its own for the Application Service API (what only the
        /// homeserver calls), such as an address of an internal network; `bind` then serves the
        /// REST API and the web pages alone. Unset, `bind` serves everything. Point `url` at it.
        pub homeserver_bind: Option<SocketAddr> = None, example = "10.0.0.5:8010";
        /// Connections each listener serves at once; more wait in the system's queue until
        /// one closes.
        pub max_connections: u32 = 512;
        /// Seconds a client has to send a request's headers (and an idle connection is kept
        /// open); a slower one is disconnected.
        pub header_timeout_secs: u64 = 10;
        /// Seconds a request of the REST API or a web page may take, its body included; a
        /// longer one is answered `503 M_UNAVAILABLE`.
        pub request_timeout_secs: u64 = 60;
    }
}

config_section! {
    /// What the bot accepts from people: invitations, commands, communities.
    pub struct BotConfig in "bot" {
        /// Servers whose users may invite the bot into a room, besides this homeserver's own
        /// users (who always may); `["*"]` lets anyone on any federated server invite it. An
        /// invitation from elsewhere is declined.
        pub invite_servers: Vec<String> = Vec::new();
        /// Commands one user may have answered per minute; those past it are not run (the
        /// user is told once a minute).
        pub commands_per_user_per_minute: u32 = 20;
        /// Commands answered per minute in one room, from all its members together.
        pub commands_per_room_per_minute: u32 = 60;
        /// Communities one user may have the bot create; 0 for no limit.
        pub communities_per_user: u32 = 50;
    }
}

config_section! {
    /// The index database: a SQLite file (the default) or PostgreSQL.
    pub struct DatabaseConfig in "database" {
        /// `sqlite://path/to/file.db` (its full-text index goes beside it, in `file.db-search`),
        /// or `postgres://user:password@host/dbname` for PostgreSQL.
        pub url: String = "sqlite://parvis.db".to_owned();
        /// Most connections held open at once.
        pub max_connections: u32 = 8;
    }
}

config_section! {
    /// The REST API.
    pub struct ApiConfig in "api" {
        /// Bearer token for administrative REST calls (such as creating a community for
        /// someone). Unset, those calls are refused.
        pub admin_token: Option<String> = None, example = "a long random secret";
    }
}

/// Where the bot's device reads its encryption updates (`e2ee.device_updates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceUpdates {
    /// In the appservice transactions the homeserver pushes (MSC2409, MSC3202).
    Transactions,
    /// From `/sync`, long-polled as the bot's device.
    Sync,
}

config_section! {
    /// End-to-end encryption: the bot's device and its keys, to take part in encrypted rooms.
    pub struct E2eeConfig in "e2ee" {
        /// Give the bot a device and read and answer in encrypted rooms.
        pub enabled: bool = true;
        /// Directory of the crypto store (the device's keys and sessions). Keep it with the
        /// index, back it up, never share it between two Parvis.
        pub store_dir: String = "parvis-crypto".to_owned();
        /// Create new communities with end-to-end encrypted rooms unless asked otherwise (as
        /// Tchap does for private rooms); `--encrypted` asks for it case by case.
        pub encrypt_new_communities: bool = false;
        /// Passphrase the crypto store is encrypted with. Unset, the store is not encrypted at
        /// rest: protect the directory.
        pub store_passphrase: Option<String> = None, example = "a long random secret";
        /// How the bot's device learns of to-device messages (room keys), device list changes
        /// and its key counts: `"transactions"` when the homeserver pushes them to the
        /// appservice (MSC2409 and MSC3202; Synapse's `msc2409_to_device_messages_enabled` and
        /// `msc3202_transaction_extensions`), `"sync"` when it does not (Parvis long-polls
        /// `/sync` as the bot's device; needs `appservice.sender_localpart`).
        pub device_updates: DeviceUpdates = DeviceUpdates::Transactions;
    }
}

/// The look of the web pages (`web.theme`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebTheme {
    /// Parvis's own, neutral look.
    Neutral,
    /// In the style of the French State's design system (DSFR). The Marianne font and the
    /// State's logo are reserved to State services and not shipped: a State deployment supplies
    /// them in `web.brand_dir`.
    Dsfr,
}

config_section! {
    /// The web pages (Element widgets and the standalone web app).
    pub struct WebConfig in "web" {
        /// URL at which browsers reach Parvis, used in the widgets Parvis adds to rooms.
        /// Unset, `appservice.url` is used.
        pub public_url: Option<String> = None, example = "https://parvis.example.org";
        /// Directory of the built web front end (`npm run build` in `widgets/`).
        pub assets_dir: String = "widgets/dist".to_owned();
        /// Accept OpenID tokens from homeservers at private or loopback addresses (a
        /// single-machine setup or tests). The configured homeserver is always accepted.
        pub openid_allow_private: bool = false;
        /// The look of the pages: `neutral`, or `dsfr` for a State deployment.
        pub theme: WebTheme = WebTheme::Neutral;
        /// A directory of the deployment's own brand files, served at `/widgets/brand/`:
        /// `brand.css` (e.g. the Marianne font's `@font-face`) and `logo.svg`, shown in the
        /// header. Unset, the pages use system fonts and no logo.
        pub brand_dir: Option<String> = None, example = "/etc/parvis/brand";
    }
}

config_section! {
    /// The index's upkeep.
    pub struct IndexConfig in "index" {
        /// Seconds between reconciles of every room with the homeserver's state; 0 disables
        /// them.
        pub reconcile_interval_secs: u64 = 300;
    }
}

/// How log lines are written (`log.format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Text for people reading a terminal.
    Text,
    /// One JSON object per line (time, level, target, message, fields, and the spans they
    /// happened in: an HTTP request's method and path, a transaction's ID), for a log
    /// collector.
    Json,
}

config_section! {
    /// Logging, to standard error.
    pub struct LogConfig in "log" {
        /// A `tracing` filter, such as `info` or `info,parvis=debug`. The `RUST_LOG` environment
        /// variable, when set, replaces it.
        pub filter: String = "info".to_owned();
        /// `"text"` for a terminal, `"json"` for a log collector (one object per line).
        pub format: LogFormat = LogFormat::Text;
    }
}

/// Parses a default URL written in this file.
fn default_url(url: &str) -> Url {
    Url::parse(url).expect("default URLs are valid")
}

/// Deserialisers whose errors say what form the value should have.
mod de {
    use std::net::SocketAddr;

    use ruma::OwnedServerName;
    use serde::{Deserialize, Deserializer, de::Error};
    use url::Url;

    /// A URL: `not a valid URL: …` otherwise.
    pub(crate) fn url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Url, D::Error> {
        let text = String::deserialize(deserializer)?;
        Url::parse(&text)
            .map_err(|error| D::Error::custom(format!("not a valid URL: {error}: {text:?}")))
    }

    /// A Matrix server name: `example.org`, `localhost:8008`, `[::1]:8448`.
    pub(crate) fn server_name<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OwnedServerName, D::Error> {
        let text = String::deserialize(deserializer)?;
        OwnedServerName::try_from(text.as_str()).map_err(|error| {
            D::Error::custom(format!(
                "not a valid server name (a host name or IP address, with an optional :port): \
                 {error}: {text:?}"
            ))
        })
    }

    /// A socket address: `127.0.0.1:8009`, `[::]:8009`.
    pub(crate) fn socket_addr<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SocketAddr, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|error| {
            D::Error::custom(format!(
                "not a valid address to listen on (IP:port, such as 127.0.0.1:8009): {error}: {text:?}"
            ))
        })
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
    /// See [`WebConfig`].
    pub web: WebConfig,
    /// See [`E2eeConfig`].
    pub e2ee: E2eeConfig,
    /// See [`BotConfig`].
    pub bot: BotConfig,
    /// See [`IndexConfig`].
    pub index: IndexConfig,
    /// See [`LogConfig`].
    pub log: LogConfig,
}

impl Config {
    /// The sections, in the order of the sample file.
    pub const SECTIONS: &'static [SectionDoc] = &[
        HomeserverConfig::DOC,
        AppserviceConfig::DOC,
        DatabaseConfig::DOC,
        ApiConfig::DOC,
        WebConfig::DOC,
        E2eeConfig::DOC,
        BotConfig::DOC,
        IndexConfig::DOC,
        LogConfig::DOC,
    ];

    /// Defaults, then the TOML file at `path` (if any), then the process's
    /// `PARVIS__SECTION__KEY` environment variables; then [`Config::validate`].
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(path, process_environment())
    }

    /// Like [`Config::load`], with the environment variables given explicitly (for tests).
    pub fn load_from(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let config = Self::load_unvalidated(path, env)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the configuration like [`Config::load_from`] but without [`Config::validate`],
    /// to fill in what is missing (`parvis generate-registration` makes the tokens).
    pub fn load_unvalidated(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            figment = figment.merge(TomlFile { path, text });
        }
        figment = figment.merge(env::EnvOverrides::from_vars(env, Self::SECTIONS)?);
        // Lossy: environment values are strings, read as numbers where a number is wanted.
        figment
            .extract_lossy()
            .map_err(|error| ConfigError::from_figment(error, &figment))
    }

    /// Checks what serde cannot: secrets set, URL schemes, localparts, the database URL.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| {
            Err(ConfigError::Invalid {
                key,
                problem: problem.to_owned(),
            })
        };
        let appservice = &self.appservice;
        if appservice.id.trim().is_empty() {
            return invalid("appservice.id", "must not be empty");
        }
        if let Some(url) = &self.web.public_url
            && !Url::parse(url).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
        {
            return invalid("web.public_url", "must be an http:// or https:// URL");
        }
        for (key, token) in [
            ("appservice.as_token", &appservice.as_token),
            ("appservice.hs_token", &appservice.hs_token),
        ] {
            if token.is_empty() {
                return invalid(
                    key,
                    "must be set (a random secret shared with the homeserver; \
                     `parvis generate-registration` makes one)",
                );
            }
            if !token.chars().all(|c| c.is_ascii_graphic()) {
                return invalid(
                    key,
                    "must be printable ASCII without spaces (it is sent in an HTTP header)",
                );
            }
        }
        for (key, value) in [
            (
                "appservice.max_connections",
                u64::from(appservice.max_connections),
            ),
            (
                "appservice.header_timeout_secs",
                appservice.header_timeout_secs,
            ),
            (
                "appservice.request_timeout_secs",
                appservice.request_timeout_secs,
            ),
        ] {
            if value == 0 {
                return invalid(key, "must be at least 1");
            }
        }
        if appservice.as_token == appservice.hs_token {
            return invalid(
                "appservice.hs_token",
                "must differ from appservice.as_token",
            );
        }
        for (key, url) in [
            ("homeserver.url", &self.homeserver.url),
            ("appservice.url", &appservice.url),
        ] {
            if !matches!(url.scheme(), "http" | "https") {
                return invalid(key, "must be an http:// or https:// URL");
            }
        }
        if !is_localpart(&appservice.bot_localpart) {
            return invalid(
                "appservice.bot_localpart",
                "must be a Matrix user localpart: one or more of a-z 0-9 . _ = - /",
            );
        }
        if !is_localpart(&appservice.user_prefix) {
            // Empty would claim every user on the homeserver.
            return invalid(
                "appservice.user_prefix",
                "must be the start of a Matrix user localpart: one or more of a-z 0-9 . _ = - /",
            );
        }
        if appservice
            .bot_localpart
            .starts_with(&appservice.user_prefix)
        {
            return invalid(
                "appservice.bot_localpart",
                "must not start with appservice.user_prefix (the bot is not one of the users Parvis creates)",
            );
        }
        if OwnedUserId::try_from(format!(
            "@{}:{}",
            appservice.bot_localpart, self.homeserver.server_name
        ))
        .is_err()
        {
            return invalid(
                "appservice.bot_localpart",
                "does not make a valid user ID with homeserver.server_name",
            );
        }
        if let Some(sender) = &appservice.sender_localpart {
            if !is_localpart(sender) {
                return invalid(
                    "appservice.sender_localpart",
                    "must be a Matrix user localpart: one or more of a-z 0-9 . _ = - /",
                );
            }
            if sender.starts_with(&appservice.user_prefix) {
                return invalid(
                    "appservice.sender_localpart",
                    "must not start with appservice.user_prefix",
                );
            }
        }
        if self.e2ee.enabled
            && self.e2ee.device_updates == DeviceUpdates::Sync
            && self.bot_is_sender()
        {
            return invalid(
                "e2ee.device_updates",
                "\"sync\" needs appservice.sender_localpart set apart from appservice.bot_localpart \
                 (homeservers refuse /sync to an appservice's own user)",
            );
        }
        let database = &self.database.url;
        // `sqlite:` rather than `sqlite://` also admits sqlx's `sqlite::memory:` and
        // `sqlite:file.db`.
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| database.starts_with(scheme))
        {
            return invalid("database.url", "must start with sqlite:// or postgres://");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        if self
            .api
            .admin_token
            .as_deref()
            .is_some_and(|token| token.trim().is_empty())
        {
            return invalid(
                "api.admin_token",
                "must not be empty (leave it unset to refuse admin calls)",
            );
        }
        Ok(())
    }

    /// The bot's user ID, `@{bot_localpart}:{server_name}`.
    ///
    /// # Panics
    ///
    /// If the two do not make a user ID, which [`Config::validate`] rules out.
    pub fn bot_user_id(&self) -> OwnedUserId {
        OwnedUserId::try_from(format!(
            "@{}:{}",
            self.appservice.bot_localpart, self.homeserver.server_name
        ))
        .expect("a validated configuration has a valid bot user ID")
    }

    /// The registration's `sender_localpart`: `appservice.sender_localpart`, else the bot's.
    pub fn sender_localpart(&self) -> &str {
        self.appservice
            .sender_localpart
            .as_deref()
            .unwrap_or(&self.appservice.bot_localpart)
    }

    /// Whether the bot is the appservice's own user (which the homeserver creates itself).
    pub fn bot_is_sender(&self) -> bool {
        self.sender_localpart() == self.appservice.bot_localpart
    }

    /// The URL at which browsers reach Parvis (`web.public_url`, else `appservice.url`),
    /// without a trailing slash.
    pub fn public_url(&self) -> String {
        let url = self
            .web
            .public_url
            .clone()
            .unwrap_or_else(|| self.appservice.url.to_string());
        url.trim_end_matches('/').to_owned()
    }

    /// Whether the index is on PostgreSQL (`database.url` is `postgres://` or `postgresql://`).
    pub fn is_database_postgres(&self) -> bool {
        self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://")
    }
}

/// The characters of a Matrix user localpart (the spec's historical grammar allows more, but
/// new users must use these).
fn is_localpart(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '=' | '-' | '/'))
}

/// The process's environment; names and values that are not UTF-8 are converted lossily
/// (`std::env::vars` would panic on them).
fn process_environment() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().map(|(name, value)| {
        (
            name.to_string_lossy().into_owned(),
            value.to_string_lossy().into_owned(),
        )
    })
}

/// The configuration file, read beforehand so that a missing file is a [`ConfigError::Read`],
/// and named in figment's metadata so that errors point to it.
struct TomlFile<'a> {
    path: &'a Path,
    text: String,
}

impl Provider for TomlFile<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::from("TOML file", self.path)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Toml::string(&self.text).data()
    }
}

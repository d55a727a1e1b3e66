//! Why a configuration cannot be used, always naming the key and where its value came from.

use std::{fmt, path::PathBuf};

use figment::{Figment, error::Kind};

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The TOML configuration file at this path.
    File(PathBuf),
    /// This environment variable, such as `PARVIS__DATABASE__URL`.
    Environment(String),
    /// Parvis's built-in defaults.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "the file {}", path.display()),
            Origin::Environment(name) => write!(f, "the environment variable {name}"),
            Origin::Default => f.write_str("the defaults"),
        }
    }
}

/// Why the configuration cannot be used. Every message starts with the key it is about
/// (`section.key`), or with the file or environment variable when no key can be named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read (it does not exist, or is not readable).
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("{}: not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// An environment variable has Parvis's prefix but not the `PARVIS__SECTION__KEY` shape.
    #[error(
        "{name}: not a configuration variable; they are named PARVIS__SECTION__KEY, \
         such as PARVIS__DATABASE__URL"
    )]
    EnvironmentName {
        /// The variable's name.
        name: String,
    },
    /// A key Parvis does not know, probably misspelt.
    #[error("{key}: unknown key in {origin} (expected {expected})")]
    UnknownKey {
        /// The key, as `section.key` (or `section` for an unknown section).
        key: String,
        /// Where it was set.
        origin: Origin,
        /// The keys that are known at that place.
        expected: String,
    },
    /// A value that does not have its key's type or form, such as a `homeserver.url` that is
    /// not a URL.
    #[error("{key}: {problem} (set in {origin})")]
    BadValue {
        /// The key, as `section.key`.
        key: String,
        /// Where the value was set.
        origin: Origin,
        /// What is wrong with it.
        problem: String,
    },
    /// A value of the right form that Parvis still cannot use; found by
    /// [`Config::validate`](crate::Config::validate).
    #[error("{key}: {problem}")]
    Invalid {
        /// The key, as `section.key`.
        key: &'static str,
        /// What is wrong, and what to do about it.
        problem: String,
    },
}

impl ConfigError {
    /// Translates figment's error, resolving where the offending value came from.
    pub(crate) fn from_figment(error: figment::Error, figment: &Figment) -> Self {
        let mut path = error.path.clone();
        if let Kind::UnknownField(field, _) = &error.kind
            && path.last() != Some(field)
        {
            path.push(field.clone());
        }
        // The value's own provider, when figment can find it: for an unknown key the error is
        // tagged with the enclosing table, which may come from another provider.
        let metadata = figment
            .find_metadata(&path.join("."))
            .or(error.metadata.as_ref());
        let origin = match metadata {
            Some(metadata) => match &metadata.source {
                Some(figment::Source::File(file)) => Origin::File(file.clone()),
                _ if metadata.name == crate::METADATA_NAME => {
                    Origin::Environment(crate::variable_name(&path))
                }
                _ => Origin::Default,
            },
            None => Origin::Default,
        };
        match (error.kind, origin) {
            // A provider that failed as a whole: the file did not parse.
            (kind, Origin::File(file)) if path.is_empty() => ConfigError::Syntax {
                path: file,
                message: kind.to_string(),
            },
            (Kind::UnknownField(_, expected), origin) => ConfigError::UnknownKey {
                key: path.join("."),
                origin,
                expected: one_of(expected.iter().copied()),
            },
            (kind, origin) => {
                let key = if path.is_empty() {
                    "configuration".to_owned()
                } else {
                    path.join(".")
                };
                ConfigError::BadValue {
                    key,
                    origin,
                    problem: kind.to_string(),
                }
            }
        }
    }
}

/// "`a`, `b` or `c`", for the keys expected where an unknown one was found.
pub(crate) fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|name| format!("`{name}`")).collect();
    match names.split_last() {
        None => "no keys".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

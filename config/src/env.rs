//! `PARVIS__SECTION__KEY` environment variables as a figment provider.
//!
//! figment's own `Env` provider reads only the process environment, and parses values into
//! numbers and booleans eagerly (so a token `12345` would no longer be a string). This one takes
//! the variables it is given, keeps every value a string (numbers are read from strings when a
//! field wants one, by `Figment::extract_lossy`), rejects unknown keys naming the variable, and
//! gives figment the variable's name for error messages.

use figment::{
    Metadata, Profile, Provider,
    value::{Dict, Map, Value},
};

use crate::{
    ConfigError, ENV_PREFIX, METADATA_NAME, Origin, SectionDoc, error::one_of, variable_name,
};

/// The `PARVIS__…` variables, as a nested dictionary `{section: {key: value}}`.
pub(crate) struct EnvOverrides(Dict);

impl EnvOverrides {
    /// Keeps the variables starting with [`ENV_PREFIX`]; each must name a known key.
    pub(crate) fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
        sections: &[SectionDoc],
    ) -> Result<Self, ConfigError> {
        let mut root = Dict::new();
        for (name, value) in vars {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let (section_name, key) = match path.split("__").collect::<Vec<_>>().as_slice() {
                [section, key] if !section.is_empty() && !key.is_empty() => {
                    (section.to_ascii_lowercase(), key.to_ascii_lowercase())
                }
                _ => return Err(ConfigError::EnvironmentName { name }),
            };
            let Some(section) = sections.iter().find(|section| section.name == section_name) else {
                return Err(ConfigError::UnknownKey {
                    key: format!("{section_name}.{key}"),
                    origin: Origin::Environment(name),
                    expected: one_of(sections.iter().map(|section| section.name)),
                });
            };
            if !section.fields.iter().any(|field| field.name == key) {
                return Err(ConfigError::UnknownKey {
                    key: format!("{section_name}.{key}"),
                    origin: Origin::Environment(name),
                    expected: one_of(section.fields.iter().map(|field| field.name)),
                });
            }
            let entry = root
                .entry(section_name)
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, keys) = entry {
                keys.insert(key, Value::from(value));
            }
        }
        Ok(EnvOverrides(root))
    }
}

impl Provider for EnvOverrides {
    fn metadata(&self) -> Metadata {
        Metadata::named(METADATA_NAME).interpolater(|_profile, keys| variable_name(keys))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

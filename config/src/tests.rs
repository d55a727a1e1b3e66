#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use super::*;
use crate::registration::regex_escape;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The two required secrets, and `extra`.
fn tokens_and(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = vars(&[
        ("PARVIS__APPSERVICE__AS_TOKEN", "as-secret"),
        ("PARVIS__APPSERVICE__HS_TOKEN", "hs-secret"),
    ]);
    env.extend(vars(extra));
    env
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

/// The error `load_from` gives, as its message.
fn load_error(toml: Option<&str>, env: Vec<(String, String)>) -> String {
    let file = toml.map(file);
    let error = Config::load_from(file.as_ref().map(|file| file.path()), env).unwrap_err();
    error.to_string()
}

fn with_tokens(mut config: Config) -> Config {
    config.appservice.as_token = "as-secret".into();
    config.appservice.hs_token = "hs-secret".into();
    config
}

// --- The sample file ---

#[test]
fn committed_sample_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("parvis.sample.toml");
    if std::env::var_os("PARVIS_UPDATE_SAMPLE").is_some() {
        std::fs::write(&path, sample_config()).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == sample_config(),
        "config/parvis.sample.toml is out of date: run \
         `cargo run -p parvis -- generate-config --output config/parvis.sample.toml` \
         (or `PARVIS_UPDATE_SAMPLE=1 cargo test -p parvis-config`)"
    );
}

#[test]
fn sample_with_tokens_loads_to_the_defaults() {
    let sample: String = sample_config()
        .lines()
        .map(|line| match line {
            _ if line.starts_with("# as_token = ") => "as_token = \"as-secret\"".to_owned(),
            _ if line.starts_with("# hs_token = ") => "hs_token = \"hs-secret\"".to_owned(),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config::load_from(Some(file(&sample).path()), []).unwrap();
    assert_eq!(config, with_tokens(Config::default()));
}

#[test]
fn sample_as_is_asks_for_the_tokens() {
    let error = load_error(Some(&sample_config()), vec![]);
    assert!(
        error.starts_with("appservice.as_token: must be set"),
        "{error}"
    );
}

#[test]
fn sample_documents_every_section_and_key() {
    let serialised = toml::Table::try_from(Config::default()).unwrap();
    let sections: BTreeSet<&str> = Config::SECTIONS
        .iter()
        .map(|section| section.name)
        .collect();
    assert_eq!(
        sections,
        serialised.keys().map(String::as_str).collect(),
        "Config::SECTIONS lacks a section"
    );
    let sample = sample_config();
    for section in Config::SECTIONS {
        assert!(
            !section.doc.is_empty(),
            "[{}] has no doc comment",
            section.name
        );
        assert!(sample.contains(&format!(
            "#{}\n[{}]\n",
            section.doc.last().unwrap(),
            section.name
        )));
        for field in section.fields {
            assert!(
                !field.doc.is_empty(),
                "{}.{} has no doc comment",
                section.name,
                field.name
            );
            let line = format!(
                "\n{}{} = ",
                if field.required { "# " } else { "" },
                field.name
            );
            let commented = format!("\n# {} = ", field.name);
            assert!(
                sample.contains(&line) || sample.contains(&commented),
                "{}.{} missing",
                section.name,
                field.name
            );
            // The doc comment is the comment above the key.
            assert!(
                sample.contains(&format!("#{}\n", field.doc[0])),
                "{}.{} undocumented",
                section.name,
                field.name
            );
        }
    }
    assert!(
        sample.contains("\n# Localpart prefix of the users Parvis creates"),
        "{sample}"
    );
    assert!(sample.contains("\nmax_connections = 8\n"), "{sample}");
    assert!(sample.contains("\nbind = \"127.0.0.1:8009\"\n"), "{sample}");
    assert!(
        sample.contains("\n# hs_token = \"another long random secret\"\n"),
        "{sample}"
    );
    assert!(
        sample.contains("\n# admin_token = \"a long random secret\"\n"),
        "{sample}"
    );
}

// --- Loading ---

#[test]
fn environment_beats_file_beats_default() {
    let toml = file(
        "[database]\nurl = \"sqlite://from-file.db\"\nmax_connections = 3\n[log]\nfilter = \"debug\"\n",
    );
    let env = tokens_and(&[
        ("PARVIS__DATABASE__URL", "postgres://db/parvis"),
        ("PARVIS__LOG__FILTER", "warn"),
    ]);
    let config = Config::load_from(Some(toml.path()), env).unwrap();
    assert_eq!(
        config.database.url, "postgres://db/parvis",
        "environment beats file"
    );
    assert_eq!(config.log.filter, "warn", "environment beats file");
    assert_eq!(config.database.max_connections, 3, "file beats default");
    assert_eq!(config.appservice.bot_localpart, "parvis", "default");
    assert_eq!(config.index.reconcile_interval_secs, 300, "default");
    assert!(config.is_database_postgres());
    assert_eq!(config.bot_user_id().as_str(), "@parvis:localhost:8008");
}

#[test]
fn environment_values_take_the_field_type() {
    let env = tokens_and(&[
        ("PARVIS__DATABASE__MAX_CONNECTIONS", "3"),
        ("PARVIS__INDEX__RECONCILE_INTERVAL_SECS", "0"),
        ("PARVIS__API__ADMIN_TOKEN", "12345"),
        ("PARVIS__APPSERVICE__BIND", "0.0.0.0:9000"),
        ("PARVIS__HOMESERVER__SERVER_NAME", "example.org"),
        ("PARVIS__HOMESERVER__URL", "https://matrix.example.org"),
        // Lower case works too; other variables are not ours.
        ("PARVIS__appservice__user_prefix", "p_"),
        ("PARVIS_CONFIG", "/etc/parvis.toml"),
        ("HOME", "/root"),
    ]);
    let config = Config::load_from(None, env).unwrap();
    assert_eq!(config.database.max_connections, 3);
    assert_eq!(config.index.reconcile_interval_secs, 0);
    assert_eq!(
        config.api.admin_token.as_deref(),
        Some("12345"),
        "a numeric secret stays a string"
    );
    assert_eq!(
        config.appservice.bind,
        SocketAddr::from(([0, 0, 0, 0], 9000))
    );
    assert_eq!(config.homeserver.server_name, "example.org");
    assert_eq!(
        config.homeserver.url.as_str(),
        "https://matrix.example.org/"
    );
    assert_eq!(config.appservice.user_prefix, "p_");
    assert_eq!(config.bot_user_id().as_str(), "@parvis:example.org");
}

#[test]
fn missing_tokens_name_the_key() {
    let error = load_error(None, vars(&[("PARVIS__APPSERVICE__AS_TOKEN", "as-secret")]));
    assert_eq!(
        error,
        "appservice.hs_token: must be set (a random secret shared with the homeserver; \
         `parvis generate-registration` makes one)"
    );
    let error = load_error(None, vars(&[("PARVIS__APPSERVICE__HS_TOKEN", "hs-secret")]));
    assert!(
        error.starts_with("appservice.as_token: must be set"),
        "{error}"
    );
    // Unvalidated loading is for filling them in.
    assert_eq!(
        Config::load_unvalidated(None, []).unwrap(),
        Config::default()
    );
}

#[test]
fn unknown_keys_are_named() {
    let error = load_error(
        Some("[database]\nurll = \"sqlite://x.db\"\n"),
        tokens_and(&[]),
    );
    assert!(
        error.starts_with("database.urll: unknown key in the file "),
        "{error}"
    );
    assert!(
        error.contains("expected `url` or `max_connections`"),
        "{error}"
    );

    let error = load_error(
        Some("[databse]\nurl = \"sqlite://x.db\"\n"),
        tokens_and(&[]),
    );
    assert!(
        error.starts_with("databse: unknown key in the file "),
        "{error}"
    );

    let error = load_error(Some("homeserver = \"x\"\n"), tokens_and(&[]));
    assert!(error.starts_with("homeserver: "), "{error}");

    let error = load_error(None, tokens_and(&[("PARVIS__DATABASE__URLL", "x")]));
    assert!(
        error.starts_with(
            "database.urll: unknown key in the environment variable PARVIS__DATABASE__URLL"
        ),
        "{error}"
    );
    let error = load_error(None, tokens_and(&[("PARVIS__DB__URL", "x")]));
    assert!(
        error.starts_with("db.url: unknown key in the environment variable PARVIS__DB__URL"),
        "{error}"
    );
    assert!(error.contains("`homeserver`, `appservice`"), "{error}");

    let error = load_error(None, tokens_and(&[("PARVIS__DATABASE", "x")]));
    assert!(
        error.starts_with("PARVIS__DATABASE: not a configuration variable"),
        "{error}"
    );
    let error = load_error(None, tokens_and(&[("PARVIS__DATABASE__URL__X", "x")]));
    assert!(
        error.starts_with("PARVIS__DATABASE__URL__X: not a configuration variable"),
        "{error}"
    );
}

#[test]
fn bad_values_name_the_key_and_where_they_were_set() {
    let toml = file("[homeserver]\nurl = \"not a url\"\n");
    let error = Config::load_from(Some(toml.path()), tokens_and(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("homeserver.url: not a valid URL: "),
        "{error}"
    );
    assert!(
        error.contains(&toml.path().display().to_string()),
        "{error}"
    );

    let error = load_error(None, tokens_and(&[("PARVIS__APPSERVICE__URL", "::")]));
    assert!(
        error.starts_with("appservice.url: not a valid URL: "),
        "{error}"
    );
    assert!(error.contains("PARVIS__APPSERVICE__URL"), "{error}");

    let error = load_error(
        None,
        tokens_and(&[("PARVIS__DATABASE__MAX_CONNECTIONS", "many")]),
    );
    assert!(
        error.starts_with("database.max_connections: invalid type"),
        "{error}"
    );
    assert!(
        error.ends_with("(set in the environment variable PARVIS__DATABASE__MAX_CONNECTIONS)"),
        "{error}"
    );

    let error = load_error(
        None,
        tokens_and(&[("PARVIS__HOMESERVER__SERVER_NAME", "not a server!")]),
    );
    assert!(
        error.starts_with("homeserver.server_name: not a valid server name"),
        "{error}"
    );

    let error = load_error(
        None,
        tokens_and(&[("PARVIS__APPSERVICE__BIND", "localhost")]),
    );
    assert!(
        error.starts_with("appservice.bind: not a valid address to listen on"),
        "{error}"
    );

    let error = load_error(
        Some("[index]\nreconcile_interval_secs = -1\n"),
        tokens_and(&[]),
    );
    assert!(
        error.starts_with("index.reconcile_interval_secs: "),
        "{error}"
    );
}

#[test]
fn unreadable_and_malformed_files_are_named() {
    let missing = Path::new("/nonexistent/parvis.toml");
    let error = Config::load_from(Some(missing), tokens_and(&[])).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error:?}");
    assert!(
        error.to_string().contains("/nonexistent/parvis.toml"),
        "{error}"
    );

    let toml = file("[database]\nurl = \"sqlite://x.db\"\n[log\n");
    let error = Config::load_from(Some(toml.path()), tokens_and(&[])).unwrap_err();
    assert!(matches!(error, ConfigError::Syntax { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}: not valid TOML", toml.path().display())),
        "{message}"
    );
    assert!(message.contains("line 3"), "{message}");
}

#[test]
fn validation_names_the_key() {
    /// An expected message's start, and the change to a valid configuration that causes it.
    type Case = (&'static str, fn(&mut Config));
    let cases: [Case; 18] = [
        ("appservice.hs_token: must differ", |c| {
            c.appservice.hs_token = c.appservice.as_token.clone()
        }),
        ("appservice.as_token: must be printable", |c| {
            c.appservice.as_token = "a secret".into()
        }),
        ("appservice.id: ", |c| c.appservice.id = " ".into()),
        ("homeserver.url: must be an http", |c| {
            c.homeserver.url = Url::parse("ftp://x").unwrap()
        }),
        ("appservice.url: must be an http", |c| {
            c.appservice.url = Url::parse("unix:/run/parvis").unwrap()
        }),
        ("appservice.bot_localpart: must be a Matrix", |c| {
            c.appservice.bot_localpart = "Parvis".into()
        }),
        ("appservice.bot_localpart: must be a Matrix", |c| {
            c.appservice.bot_localpart = String::new()
        }),
        ("appservice.user_prefix: must be", |c| {
            c.appservice.user_prefix = "p:".into()
        }),
        ("appservice.user_prefix: must be", |c| {
            c.appservice.user_prefix = String::new()
        }),
        ("appservice.bot_localpart: must not start with", |c| {
            c.appservice.bot_localpart = "parvis_bot".into()
        }),
        (
            "database.url: must start with sqlite:// or postgres://",
            |c| c.database.url = "mysql://x".into(),
        ),
        ("database.url: ", |c| c.database.url = "parvis.db".into()),
        ("database.max_connections: must be at least 1", |c| {
            c.database.max_connections = 0
        }),
        ("api.admin_token: must not be empty", |c| {
            c.api.admin_token = Some(String::new())
        }),
        ("appservice.sender_localpart: must be a Matrix", |c| {
            c.appservice.sender_localpart = Some("Parvis AS".into())
        }),
        ("appservice.sender_localpart: must not start with", |c| {
            c.appservice.sender_localpart = Some("parvis_as".into())
        }),
        ("e2ee.device_updates: \"sync\" needs", |c| {
            c.e2ee.device_updates = crate::DeviceUpdates::Sync
        }),
        ("e2ee.device_updates: \"sync\" needs", |c| {
            c.e2ee.device_updates = crate::DeviceUpdates::Sync;
            c.appservice.sender_localpart = Some("parvis".into());
        }),
    ];
    for (expected, change) in cases {
        let mut config = with_tokens(Config::default());
        change(&mut config);
        let error = config.validate().unwrap_err().to_string();
        assert!(
            error.starts_with(expected),
            "expected {expected:?}, got {error:?}"
        );
    }
    with_tokens(Config::default()).validate().unwrap();
}

#[test]
fn database_kinds() {
    let mut config = with_tokens(Config::default());
    assert!(!config.is_database_postgres());
    for url in ["postgres://u@h/db", "postgresql://u@h/db"] {
        config.database.url = url.into();
        config.validate().unwrap();
        assert!(config.is_database_postgres(), "{url}");
    }
    config.database.url = "sqlite::memory:".into();
    config.validate().unwrap();
    assert!(!config.is_database_postgres());
}

// --- The registration file ---

/// Whether `text` matches `pattern`, in the subset of regex syntax `registration_yaml` writes:
/// `^…$` around literal characters, `\`-escapes, `.` and `.*`. Anything else fails the test.
fn regex_matches(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy)]
    enum Token {
        Literal(char),
        Any,
        AnyRun,
    }
    fn matches(tokens: &[Token], text: &[char]) -> bool {
        match tokens.split_first() {
            None => text.is_empty(),
            Some((Token::AnyRun, rest)) => {
                (0..=text.len()).any(|skip| matches(rest, &text[skip..]))
            }
            Some((Token::Any, rest)) => !text.is_empty() && matches(rest, &text[1..]),
            Some((Token::Literal(c), rest)) => text.first() == Some(c) && matches(rest, &text[1..]),
        }
    }
    let body = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .expect("anchored at both ends");
    let mut tokens = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '\\' => Token::Literal(chars.next().expect("escape at the end")),
            '.' if chars.peek() == Some(&'*') => {
                chars.next();
                Token::AnyRun
            }
            '.' => Token::Any,
            c if r"+*?()|[]{}^$".contains(c) => panic!("unexpected metacharacter {c} in {pattern}"),
            c => Token::Literal(c),
        });
    }
    matches(&tokens, &text.chars().collect::<Vec<_>>())
}

fn namespace(yaml: &serde_yaml::Value, kind: &str) -> Vec<String> {
    yaml["namespaces"][kind]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|namespace| {
            assert_eq!(namespace["exclusive"], true);
            namespace["regex"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn registration_has_the_keys_the_homeserver_needs() {
    let config = with_tokens(Config::default());
    let text = registration_yaml(&config);
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(yaml["id"], "parvis");
    assert_eq!(yaml["url"], "http://127.0.0.1:8009");
    assert_eq!(yaml["as_token"], "as-secret");
    assert_eq!(yaml["hs_token"], "hs-secret");
    assert_eq!(yaml["sender_localpart"], "parvis");
    assert_eq!(yaml["rate_limited"], false);
    assert_eq!(yaml["receive_ephemeral"], true);
    assert_eq!(yaml["de.sorunome.msc2409.push_ephemeral"], true);
    assert_eq!(yaml["org.matrix.msc3202"], true);
    assert_eq!(yaml["io.element.msc4190"], true);
    assert_eq!(
        yaml["namespaces"]["rooms"],
        serde_yaml::Value::Sequence(vec![])
    );
    assert_eq!(
        namespace(&yaml, "users"),
        [r"^@parvis_.*:localhost:8008$", r"^@parvis:localhost:8008$"]
    );
    assert_eq!(
        namespace(&yaml, "aliases"),
        [r"^#parvis_.*:localhost:8008$"]
    );

    // ruma reads it back as a registration.
    let registration: ruma::api::appservice::Registration = serde_yaml::from_str(&text).unwrap();
    assert_eq!(registration.sender_localpart, "parvis");
    assert!(registration.receive_ephemeral);
}

#[test]
fn a_sender_apart_from_the_bot_reads_encryption_updates_with_sync() {
    let mut config = with_tokens(Config::default());
    config.appservice.sender_localpart = Some("parvis-appservice".into());
    config.e2ee.device_updates = crate::DeviceUpdates::Sync;
    config.validate().unwrap();
    assert!(!config.bot_is_sender());
    let yaml: serde_yaml::Value = serde_yaml::from_str(&registration_yaml(&config)).unwrap();
    assert_eq!(yaml["sender_localpart"], "parvis-appservice");
    // The bot stays in the namespace: the homeserver sends Parvis its rooms' events.
    assert_eq!(
        namespace(&yaml, "users"),
        [r"^@parvis_.*:localhost:8008$", r"^@parvis:localhost:8008$"]
    );
    assert_eq!(config.bot_user_id().as_str(), "@parvis:localhost:8008");

    // From a file and from the environment.
    let file =
        file("[appservice]\nsender_localpart = \"parvis-as\"\n[e2ee]\ndevice_updates = \"sync\"\n");
    let loaded = Config::load_from(Some(file.path()), tokens_and(&[])).unwrap();
    assert_eq!(loaded.e2ee.device_updates, crate::DeviceUpdates::Sync);
    assert_eq!(loaded.sender_localpart(), "parvis-as");
    let env = tokens_and(&[
        ("PARVIS__APPSERVICE__SENDER_LOCALPART", "parvis-as"),
        ("PARVIS__E2EE__DEVICE_UPDATES", "sync"),
    ]);
    assert_eq!(
        Config::load_from(None, env).unwrap().e2ee.device_updates,
        crate::DeviceUpdates::Sync
    );
    let error = load_error(
        None,
        tokens_and(&[("PARVIS__E2EE__DEVICE_UPDATES", "polling")]),
    );
    assert!(error.contains("device_updates"), "{error}");
}

#[test]
fn registration_regexes_claim_exactly_parvis_users() {
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&registration_yaml(&with_tokens(Config::default()))).unwrap();
    let users = namespace(&yaml, "users");
    let claimed = |user_id: &str| users.iter().any(|regex| regex_matches(regex, user_id));
    assert!(claimed("@parvis_x:localhost:8008"));
    assert!(claimed("@parvis_alice.smith:localhost:8008"));
    assert!(claimed("@parvis:localhost:8008"));
    assert!(!claimed("@parvisx:localhost:8008"));
    assert!(!claimed("@parvis:otherhost"));
    assert!(!claimed("@parvis:localhost:80080"));
    assert!(!claimed("@alice:localhost:8008"));
    assert!(!claimed("@parvis_x:otherhost"));
    let aliases = namespace(&yaml, "aliases");
    assert!(regex_matches(
        &aliases[0],
        "#parvis_community:localhost:8008"
    ));
    assert!(!regex_matches(&aliases[0], "#general:localhost:8008"));
}

#[test]
fn registration_escapes_the_server_name() {
    let mut config = with_tokens(Config::default());
    config.homeserver.server_name = ruma::owned_server_name!("matrix.example.org");
    config.appservice.user_prefix = "p.".into();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&registration_yaml(&config)).unwrap();
    let users = namespace(&yaml, "users");
    assert_eq!(users[0], r"^@p\..*:matrix\.example\.org$");
    assert!(regex_matches(&users[0], "@p.x:matrix.example.org"));
    assert!(!regex_matches(&users[0], "@pxx:matrix.example.org"));
    assert!(!regex_matches(&users[1], "@parvis:matrixxexample.org"));
    assert_eq!(regex_escape("[::1]:8448"), r"\[::1\]:8448");
}

#[test]
fn random_tokens_are_long_unique_and_url_safe() {
    let tokens: BTreeSet<String> = (0..100).map(|_| random_token()).collect();
    assert_eq!(tokens.len(), 100);
    for token in &tokens {
        assert_eq!(token.len(), 48);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
    }
    // Usable as the secrets: valid, and different from each other.
    let mut config = Config::default();
    config.appservice.as_token = random_token();
    config.appservice.hs_token = random_token();
    config.validate().unwrap();
}

//! `parvis doctor`: checks a deployment the way an operator would, one line per check, and
//! says what to fix. It changes nothing: the index is read without being migrated, and the
//! homeserver is only asked questions.
//!
//! The reading of each answer ([`index_check`], [`homeserver_check`], [`registration_check`],
//! [`ping_check`], [`clock_check`], [`assets_check`]) is sans-I/O; [`diagnose`] asks.

use std::{
    path::Path,
    time::{Duration, SystemTime},
};

use parvis_config::Config;
use parvis_homeserver_bridge::{ClientError, HomeserverClient};
use ruma::{
    UserId,
    api::{
        client::{account::whoami, appservice::request_ping},
        error::ErrorKind,
    },
};

use crate::store::MigrationState;

/// How a check went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// As it should be.
    Ok,
    /// Works, but something should be looked at.
    Warning,
    /// Parvis cannot work like this.
    Failure,
}

/// One check: what was looked at, how it went, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub subject: &'static str,
    /// How it went.
    pub outcome: Outcome,
    /// What was found, and what to fix.
    pub detail: String,
}

impl Check {
    fn new(subject: &'static str, outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            subject,
            outcome,
            detail: detail.into(),
        }
    }
}

/// Every check of a deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether Parvis can work: no check failed.
    pub fn healthy(&self) -> bool {
        self.checks
            .iter()
            .all(|check| check.outcome != Outcome::Failure)
    }

    /// The report as printed: a line per check, `ok`, `warning` or `FAILED` first.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for check in &self.checks {
            let mark = match check.outcome {
                Outcome::Ok => "ok     ",
                Outcome::Warning => "warning",
                Outcome::Failure => "FAILED ",
            };
            text.push_str(&format!("{mark} {}: {}\n", check.subject, check.detail));
        }
        let failed = self
            .checks
            .iter()
            .filter(|check| check.outcome == Outcome::Failure)
            .count();
        text.push_str(&match failed {
            0 => "Parvis can run with this configuration.\n".to_owned(),
            1 => "1 check failed: fix it, then run `parvis doctor` again.\n".to_owned(),
            n => format!("{n} checks failed: fix them, then run `parvis doctor` again.\n"),
        });
        text
    }
}

/// The index database: migrated by this binary, behind it (`serve` migrates it at start), or
/// ahead of it (a newer Parvis wrote it: this one must not run on it).
pub fn index_check(state: Result<MigrationState, String>) -> Check {
    const SUBJECT: &str = "index database";
    let state = match state {
        Ok(state) => state,
        Err(error) => {
            return Check::new(
                SUBJECT,
                Outcome::Failure,
                format!(
                    "cannot be opened ({error}): check database.url and that the database server runs"
                ),
            );
        }
    };
    let Some(applied) = state.applied else {
        return Check::new(
            SUBJECT,
            Outcome::Ok,
            "not created yet: `parvis serve` creates it and fills it from the rooms",
        );
    };
    let unknown: Vec<String> = applied
        .iter()
        .filter(|version| !state.known.iter().any(|(known, _)| known == *version))
        .map(ToString::to_string)
        .collect();
    if !unknown.is_empty() {
        return Check::new(
            SUBJECT,
            Outcome::Failure,
            format!(
                "written by a newer Parvis (migrations {} are unknown to this one): run that version, \
                 or rebuild the index with `parvis rebuild-index`",
                unknown.join(", ")
            ),
        );
    }
    let pending: Vec<&str> = state
        .known
        .iter()
        .filter(|(version, _)| !applied.contains(version))
        .map(|(_, description)| description.as_str())
        .collect();
    if pending.is_empty() {
        Check::new(
            SUBJECT,
            Outcome::Ok,
            format!("up to date ({} migrations)", applied.len()),
        )
    } else {
        Check::new(
            SUBJECT,
            Outcome::Ok,
            format!(
                "{} migration(s) to apply ({}): `parvis serve` applies them when it starts",
                pending.len(),
                pending.join(", ")
            ),
        )
    }
}

/// The homeserver answers at `homeserver.url`.
pub fn homeserver_check(url: &str, answer: &Result<Option<SystemTime>, ClientError>) -> Check {
    const SUBJECT: &str = "homeserver";
    match answer {
        Ok(_) => Check::new(SUBJECT, Outcome::Ok, format!("answers at {url}")),
        Err(error) => Check::new(
            SUBJECT,
            Outcome::Failure,
            format!("{error}: check homeserver.url, and that the homeserver runs"),
        ),
    }
}

/// The homeserver loaded Parvis's registration: it knows the `as_token` (as the appservice's
/// own user, `expected`).
pub fn registration_check(
    answer: &Result<ruma::OwnedUserId, ClientError>,
    expected: &UserId,
) -> Check {
    const SUBJECT: &str = "registration";
    const LOAD_IT: &str = "write it with `parvis generate-registration --output registration.yaml`, \
        list that file in the homeserver's `app_service_config_files`, and restart the homeserver";
    match answer {
        Ok(user) if user == expected => Check::new(
            SUBJECT,
            Outcome::Ok,
            format!("the homeserver knows Parvis's as_token (as {user})"),
        ),
        Ok(user) => Check::new(
            SUBJECT,
            Outcome::Failure,
            format!(
                "the as_token is {user}'s, not {expected}'s: the homeserver loaded another \
                 registration with this token, or appservice.sender_localpart differs from it; {LOAD_IT}"
            ),
        ),
        Err(error) if matches!(error.kind(), Some(ErrorKind::UnknownToken(_))) => Check::new(
            SUBJECT,
            Outcome::Failure,
            format!("the homeserver does not know appservice.as_token: {LOAD_IT}"),
        ),
        Err(error) => Check::new(
            SUBJECT,
            Outcome::Failure,
            format!("cannot be checked: {error}"),
        ),
    }
}

/// The homeserver reaches Parvis at the registration's `url` (the appservice ping: the
/// homeserver calls Parvis, with the hs_token).
pub fn ping_check(answer: &Result<Duration, ClientError>, url: &str) -> Check {
    const SUBJECT: &str = "homeserver → Parvis";
    match answer {
        Ok(round_trip) => Check::new(
            SUBJECT,
            Outcome::Ok,
            format!(
                "the homeserver reaches Parvis at {url} ({} ms)",
                round_trip.as_millis()
            ),
        ),
        Err(error) => Check::new(
            SUBJECT,
            Outcome::Warning,
            format!(
                "the homeserver cannot reach Parvis at {url} ({error}): fine if `parvis serve` is \
                 not running yet; otherwise make appservice.url the address the homeserver reaches \
                 Parvis at, write the registration again and restart the homeserver"
            ),
        ),
    }
}

/// The clocks agree: Parvis checks expiry times the homeserver sets (OpenID tokens, widget
/// sessions), and people read times in both.
pub fn clock_check(ours: SystemTime, theirs: Option<SystemTime>) -> Check {
    const SUBJECT: &str = "clock";
    let Some(theirs) = theirs else {
        return Check::new(
            SUBJECT,
            Outcome::Warning,
            "the homeserver sends no Date header: its clock cannot be compared",
        );
    };
    let skew = match ours.duration_since(theirs) {
        Ok(ahead) => ahead.as_secs(),
        Err(behind) => behind.duration().as_secs(),
    };
    // The Date header has a one-second resolution.
    if skew <= 30 {
        Check::new(
            SUBJECT,
            Outcome::Ok,
            format!("Parvis's and the homeserver's agree (within {skew} s)"),
        )
    } else {
        Check::new(
            SUBJECT,
            Outcome::Warning,
            format!(
                "Parvis's and the homeserver's differ by {skew} s: synchronise both with NTP \
                 (widget sessions last as long as the homeserver's OpenID tokens say)"
            ),
        )
    }
}

/// The built web app is where `web.assets_dir` says.
pub fn assets_check(dir: &str, has_index: bool) -> Check {
    const SUBJECT: &str = "web app";
    if has_index {
        Check::new(SUBJECT, Outcome::Ok, format!("built, in {dir}"))
    } else {
        Check::new(
            SUBJECT,
            Outcome::Warning,
            format!(
                "{dir}/index.html is missing: build it with `scripts/build-widgets` or set \
                 web.assets_dir; the REST API works without it"
            ),
        )
    }
}

/// Runs every check of `config`'s deployment.
pub async fn diagnose(config: &Config) -> Report {
    let mut checks = vec![index_check(
        MigrationState::read(&config.database.url)
            .await
            .map_err(|error| error.to_string()),
    )];
    let url = config
        .homeserver
        .url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let client = match HomeserverClient::new(&config.homeserver.url, &config.appservice.as_token) {
        Ok(client) => client,
        Err(error) => {
            checks.push(homeserver_check(&url, &Err(error)));
            return Report { checks };
        }
    };
    let time = client.server_time().await;
    checks.push(homeserver_check(&url, &time));
    if let Ok(theirs) = time {
        let sender = format!(
            "@{}:{}",
            config.sender_localpart(),
            config.homeserver.server_name
        );
        let registered = client
            .send(whoami::v3::Request::new())
            .await
            .map(|answer| answer.user_id);
        match <&UserId>::try_from(sender.as_str()) {
            Ok(expected) => checks.push(registration_check(&registered, expected)),
            Err(error) => checks.push(Check::new(
                "registration",
                Outcome::Failure,
                format!("{sender} is not a user ID ({error}): check appservice.sender_localpart"),
            )),
        }
        if registered.is_ok() {
            let request = request_ping::v1::Request::new(config.appservice.id.clone());
            let pinged = client.send(request).await.map(|answer| answer.duration);
            checks.push(ping_check(&pinged, config.appservice.url.as_str()));
        }
        checks.push(clock_check(SystemTime::now(), theirs));
    }
    let assets = &config.web.assets_dir;
    checks.push(assets_check(
        assets,
        Path::new(assets).join("index.html").is_file(),
    ));
    Report { checks }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::user_id;

    use super::*;

    fn known() -> Vec<(i64, String)> {
        vec![(1, "index".to_owned()), (2, "publishing".to_owned())]
    }

    #[test]
    fn the_index_is_up_to_date_behind_or_ahead() {
        let state = |applied: Option<Vec<i64>>| {
            Ok(MigrationState {
                applied,
                known: known(),
            })
        };
        assert_eq!(index_check(state(Some(vec![1, 2]))).outcome, Outcome::Ok);
        let behind = index_check(state(Some(vec![1])));
        assert_eq!(behind.outcome, Outcome::Ok);
        assert!(behind.detail.contains("publishing"), "{}", behind.detail);
        assert!(index_check(state(None)).detail.contains("not created yet"));
        let ahead = index_check(state(Some(vec![1, 2, 3])));
        assert_eq!(ahead.outcome, Outcome::Failure);
        assert!(ahead.detail.contains("migrations 3"), "{}", ahead.detail);
        assert_eq!(
            index_check(Err("connection refused".to_owned())).outcome,
            Outcome::Failure
        );
    }

    #[test]
    fn an_unknown_token_says_how_to_load_the_registration() {
        let refused = Err(ClientError::Matrix {
            status: 401,
            kind: ErrorKind::UnknownToken(Default::default()),
            message: "Unknown token".to_owned(),
        });
        let check = registration_check(&refused, user_id!("@parvis:hs"));
        assert_eq!(check.outcome, Outcome::Failure);
        assert!(
            check.detail.contains("app_service_config_files"),
            "{}",
            check.detail
        );
        let known = registration_check(
            &Ok(user_id!("@parvis:hs").to_owned()),
            user_id!("@parvis:hs"),
        );
        assert_eq!(known.outcome, Outcome::Ok);
        let other = registration_check(
            &Ok(user_id!("@bridge:hs").to_owned()),
            user_id!("@parvis:hs"),
        );
        assert_eq!(other.outcome, Outcome::Failure);
    }

    #[test]
    fn clocks_apart_by_more_than_30_seconds_warn() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            clock_check(now, Some(now + Duration::from_secs(2))).outcome,
            Outcome::Ok
        );
        let apart = clock_check(now, Some(now - Duration::from_secs(95)));
        assert_eq!(apart.outcome, Outcome::Warning);
        assert!(apart.detail.contains("95 s"), "{}", apart.detail);
        assert_eq!(clock_check(now, None).outcome, Outcome::Warning);
    }

    #[test]
    fn the_report_fails_only_on_a_failure() {
        let mut report = Report {
            checks: vec![
                assets_check("widgets/dist", false),
                ping_check(&Ok(Duration::from_millis(3)), "http://127.0.0.1:8009/"),
            ],
        };
        assert!(report.healthy());
        assert!(
            report
                .text()
                .ends_with("Parvis can run with this configuration.\n")
        );
        report
            .checks
            .push(index_check(Err("no database".to_owned())));
        assert!(!report.healthy());
        let text = report.text();
        assert!(
            text.contains("FAILED  index database: cannot be opened"),
            "{text}"
        );
        assert!(text.contains("warning web app"), "{text}");
        assert!(text.ends_with("1 check failed: fix it, then run `parvis doctor` again.\n"));
    }
}

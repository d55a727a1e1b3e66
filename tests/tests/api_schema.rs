//! The REST API against its own OpenAPI description, probed by schemathesis (PyPI) with a real
//! signed-in user: Synapse and Parvis on SQLite, a community with a wiki page so there is data,
//! then `st run <parvis>/api/v1/openapi.json` as a subprocess.
//!
//! Checks: `not_a_server_error`, `status_code_conformance`, `content_type_conformance`,
//! `response_schema_conformance`, `response_headers_conformance`, `negative_data_rejection`,
//! `missing_required_header`, `ignored_auth`, `unsupported_method`, and the hooks' own
//! `matrix_error_body` (`tests/schemathesis_hooks.py`: every error is `{"errcode", "error"}`
//! JSON with a documented status). Bounded: `--max-examples`, `--max-time`, and the process is
//! killed after five minutes.
//!
//! schemathesis lives in the virtualenv `scripts/test` installs (`$PARVIS_CACHE_DIR/venv-schemathesis`).
//! Without it the test says so and passes, unless `CI` is set.

#![allow(clippy::unwrap_used)]

use std::{process::Stdio, time::Duration};

use parvis_tests::{Database, Stack, cache_dir, http_client, path_segment, wait_for};
use serde_json::{Value, json};

/// Operations tried per operation and phase.
const MAX_EXAMPLES: &str = "30";
/// Time budget of schemathesis' own run, in seconds.
const MAX_TIME: &str = "180";
/// When the test kills schemathesis.
const HARD_LIMIT: Duration = Duration::from_secs(300);

#[tokio::test]
async fn rest_api_conforms_to_its_openapi_description() {
    let st = std::env::var_os("PARVIS_SCHEMATHESIS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("venv-schemathesis/bin/st"));
    if !st.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but schemathesis is not installed at {} (scripts/test installs it)",
            st.display()
        );
        println!(
            "skipped: schemathesis is not installed at {} (scripts/test installs it)",
            st.display()
        );
        return;
    }

    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let parvis = stack.parvis.url();
    let admin_token = stack.parvis.tokens().admin_token.clone();

    // A community with a wiki page: handlers then answer from data, not only with 404s.
    let response = http_client()
        .post(format!("{parvis}/api/v1/communities"))
        .bearer_auth(&admin_token)
        .json(
            &json!({"name": "Schéma", "owner": alice.user_id(), "tools": ["wiki", "blog", "faq"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let space = created["space_id"].as_str().unwrap().to_owned();
    alice.join(&space).await.unwrap();
    for room in created["rooms"].as_array().unwrap() {
        alice.join(room[1].as_str().unwrap()).await.unwrap();
    }
    let pages = format!("{parvis}/api/v1/communities/{}/wiki", path_segment(&space));
    let page_id = wait_for("the wiki page written", Duration::from_secs(60), || {
        let (pages, token) = (pages.clone(), alice.access_token().to_owned());
        async move {
            let response = http_client()
                .post(&pages)
                .bearer_auth(&token)
                .json(&json!({"title": "Accueil", "body": "# Accueil\n\nVoir [[Guide]].", "tags": ["doc"]}))
                .send()
                .await
                .ok()?;
            let body: Value = response.json().await.ok()?;
            body["id"].as_str().map(str::to_owned)
        }
    })
    .await
    .unwrap();
    wait_for("the page in the index", Duration::from_secs(60), || {
        let (url, token) = (
            format!("{pages}/{page_id}"),
            alice.access_token().to_owned(),
        );
        async move {
            let response = http_client()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .ok()?;
            (response.status() == 200).then_some(())
        }
    })
    .await
    .unwrap();

    let hooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemathesis_hooks.py");
    let report_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    let checks = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "ignored_auth",
        "unsupported_method",
        "matrix_error_body",
    ]
    .join(",");
    let mut command = tokio::process::Command::new(&st);
    command
        .arg("run")
        .arg(format!("{parvis}/api/v1/openapi.json"))
        .args(["--url", &parvis])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", alice.access_token()),
        ])
        .args(["--checks", &checks])
        .args(["--max-examples", MAX_EXAMPLES, "--max-time", MAX_TIME])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--workers", "1", "--request-timeout", "20"])
        .args(["--seed", "1", "--no-color", "--generation-database", "none"])
        .args(["--report", "junit,ndjson"])
        .arg("--report-dir")
        .arg(&report_dir)
        .env("SCHEMATHESIS_HOOKS", &hooks)
        .env("PARVIS_ST_SPACE", &space)
        .env("PARVIS_ST_TOOL", "wiki")
        .env("PARVIS_ST_ID", &page_id)
        // Its cache (`.schemathesis/`) goes beside the reports, not into the source tree.
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(HARD_LIMIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis did not finish within {HARD_LIMIT:?}"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    let parvis_log = parvis_tests::log_tail(&stack.parvis.log_path(), 40);
    stack.stop().await;
    assert!(
        output.status.success(),
        "schemathesis found failures ({}; reports in {}):\n{stdout}\n{stderr}\n\
         --- end of Parvis's log ---\n{parvis_log}",
        output.status,
        report_dir.display()
    );
}

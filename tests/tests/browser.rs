//! The web front end in a real browser (Debian's Chromium, driven by `widgets/e2e/run.mjs` with
//! playwright-core) against a real Synapse and Parvis: a wiki page created, edited twice,
//! restored, commented and found through the widget inside a test host playing Element's side
//! of the widget API, then read and extended in the standalone app after a password login.
//! Everything the browser wrote is then checked here through the client-server API, as a
//! second member of the community. And a first visit to a deployment in the DSFR look
//! (`web.theme = "dsfr"`, `widgets/e2e/theme.mjs`): drawn in DSFR from its first frame.
//!
//! Needs Node.js, `npm ci` and `npm run build` in `widgets/`, and `/usr/bin/chromium` (or
//! `CHROMIUM`): `scripts/test` provides them. Screenshots are written to `target/screenshots/`.

#![allow(clippy::unwrap_used)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use parvis_tests::{
    Database, Stack, StackOptions, TestUser, get_json, http_client, parvis::widgets_dist,
    path_segment, step, wait_for,
};
use serde_json::{Value, json};

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Runs the browser script `widgets/e2e/{script}` with `env` against `stack`, within `limit`;
/// fails with its output and Parvis's log unless it succeeds, and returns the JSON report it
/// prints last.
async fn browser_script(
    stack: &Stack,
    script: &str,
    env: &[(&str, String)],
    limit: Duration,
    what: &str,
) -> Value {
    let output = tokio::process::Command::new("node")
        .arg(repository().join("widgets/e2e").join(script))
        .current_dir(repository().join("widgets"))
        .env("PARVIS_URL", stack.parvis.url())
        .envs(env.iter().map(|(name, value)| (*name, value)))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(limit, output)
        .await
        .unwrap_or_else(|_| panic!("{what} took over {limit:?}"))
        .expect("node could not be started: install Node.js (scripts/test expects it)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed:\n{stderr}\n--- Parvis log ---\n{}",
        parvis_tests::log_tail(&stack.parvis.log_path(), 60)
    );
    serde_json::from_str(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap()
}

/// The space and its rooms by purpose, created by Parvis for `owner`, who joins them all.
async fn community(stack: &Stack, owner: &TestUser) -> (String, Vec<(String, String)>) {
    let response = http_client()
        .post(format!("{}/api/v1/communities", stack.parvis.url()))
        .bearer_auth(&stack.parvis.tokens().admin_token)
        .json(&json!({"name": "Continuité d'activité", "description": "Préparer la continuité des services.",
            "owner": owner.user_id(), "tools": ["wiki", "blog", "faq"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let space = created["space_id"].as_str().unwrap().to_owned();
    let rooms: Vec<(String, String)> = created["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|room| {
            (
                room[0].as_str().unwrap().to_owned(),
                room[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    owner.join(&space).await.unwrap();
    for (_, room) in &rooms {
        owner.join(room).await.unwrap();
    }
    (space, rooms)
}

/// Where the browser scenario writes its screenshots.
fn screenshots() -> PathBuf {
    repository().join("target/screenshots")
}

/// Where the tasks scenario writes its screenshots.
fn tasks_screenshots() -> PathBuf {
    repository().join("target/screenshots-tasks")
}

#[tokio::test]
async fn wiki_in_the_widget_and_the_standalone_app() {
    let s = step("alice_and_bob_in_an_indexed_community", Scenario::start()).await;
    let report = step!(s.the_browser_scenario_succeeds());
    step!(s.the_widget_asks_element_for_exactly_what_it_writes(&report));
    step!(s.bob_reads_the_first_revision_in_the_room_state(&report));
    let timeline = step!(s.bobs_live_edit_and_alices_like_are_in_the_timeline(&report));
    step!(s.the_widgets_revisions_are_alices(&report, &timeline));
    step!(s.the_comment_is_in_the_thread_of_the_restore(&report, &timeline));
    step!(s.the_sub_page_is_alices_under_the_first_page(&report));
    step!(s.the_guide_lists_both_pages_in_the_chosen_order(&report));
    step!(s.bob_finds_the_page_through_search(&report));
    step!(s.the_screenshots_are_written());
    s.stack.stop().await;
}

/// A deployment in the DSFR look (`web.theme = "dsfr"`): a first visit, in a fresh browser
/// profile with nothing remembered, is drawn in DSFR from its first frame (Parvis serves the
/// page with the theme and its stylesheet), is never hidden while a stylesheet loads, fetches
/// the stylesheet once, and remembers the deployment's answer for the next visit.
/// `widgets/e2e/theme.mjs` opens the sign-in page and reports what the page's `<html>` carried.
#[tokio::test]
async fn a_dsfr_deployment_is_dsfr_from_the_first_visit() {
    assert!(
        widgets_dist().join("themes/dsfr.css").is_file(),
        "the web front end is not built: run `npm ci && npm run build` in widgets/ (scripts/test does)"
    );
    let stack = Stack::start_configured(Database::Sqlite, StackOptions::default(), |parvis| {
        parvis.set_env("PARVIS__WEB__THEME", "dsfr");
    })
    .await
    .unwrap();
    let report = browser_script(
        &stack,
        "theme.mjs",
        &[],
        Duration::from_secs(120),
        "the first visit to a DSFR deployment",
    )
    .await;

    // A first visit: nothing remembered, the deployment says DSFR.
    assert_eq!(report["storedAtStart"], Value::Null, "{report}");
    assert_eq!(report["info"], json!({"theme": "dsfr", "brand": false}));
    // DSFR in the page as served, before the app's script ran, and in the first frame drawn.
    assert_eq!(report["themeWhenInserted"], "dsfr", "{report}");
    assert_eq!(report["beforeScripts"]["theme"], "dsfr", "{report}");
    assert_eq!(report["beforeScripts"]["themeLinks"], 1, "{report}");
    assert_eq!(report["firstFrame"]["theme"], "dsfr", "{report}");
    assert_eq!(report["firstFrame"]["token"], "#000091", "{report}");
    assert_eq!(report["atDomContentLoaded"]["theme"], "dsfr", "{report}");
    // Never another look, never hidden.
    assert_eq!(report["themeHistory"], json!(["dsfr"]), "{report}");
    assert_eq!(report["pendingSeen"], false, "{report}");
    // One stylesheet, fetched once.
    assert_eq!(report["stylesheetRequests"], 1, "{report}");
    assert_eq!(
        report["dsfrRequests"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert_eq!(report["themeLinks"], json!(["themes/dsfr.css"]), "{report}");
    // The DSFR look applied, and the deployment's answer remembered for the next visit.
    assert_eq!(report["buttonBackground"], "rgb(0, 0, 145)", "{report}");
    assert_eq!(
        report["stored"], r#"{"theme":"dsfr","brand":false}"#,
        "{report}"
    );
    stack.stop().await;
}

/// What every step of [`wiki_in_the_widget_and_the_standalone_app`] shares.
struct Scenario {
    stack: Stack,
    /// The owner of the community, who uses the browser.
    alice: TestUser,
    /// A member, who checks through the client-server API what the browser wrote.
    bob: TestUser,
    space: String,
    /// The wiki room.
    wiki: String,
}

/// What the browser scenario reports on the last line of its output.
struct Report {
    /// The whole report: `pageId`, `texts`, `capabilities`, `liveSentence`, …
    json: Value,
    /// `pageId`: the wiki page created in the widget.
    page_id: String,
}

/// The wiki page's revisions in `timeline`, newest first.
fn page_revisions<'a>(timeline: &'a [Value], page_id: &str) -> Vec<&'a Value> {
    timeline
        .iter()
        .filter(|event| event["type"] == "org.parvis.wiki.page" && event["state_key"] == page_id)
        .collect()
}

/// Of the page's revisions, newest first, the widget's: those Alice sent.
fn alices_revisions<'a>(all_revisions: &[&'a Value], alice: &TestUser) -> Vec<&'a Value> {
    all_revisions
        .iter()
        .copied()
        .filter(|event| event["sender"] == alice.user_id())
        .collect()
}

impl Scenario {
    /// Bob a member of Alice's community, and Parvis aware of the community and of Alice's
    /// membership before the browser starts.
    async fn start() -> Self {
        assert!(
            widgets_dist().join("index.html").is_file(),
            "the web front end is not built: run `npm ci && npm run build` in widgets/ (scripts/test does)"
        );
        let stack = Stack::start(Database::Sqlite).await.unwrap();
        let alice = stack.register_user("alice").await.unwrap();
        let bob = stack.register_user("bob").await.unwrap();
        let (space, rooms) = community(&stack, &alice).await;
        let wiki = rooms
            .iter()
            .find(|(purpose, _)| purpose == "wiki")
            .unwrap()
            .1
            .clone();
        for room in std::iter::once(&space).chain(rooms.iter().map(|(_, room)| room)) {
            alice.invite(room, bob.user_id()).await.unwrap();
            bob.join(room).await.unwrap();
        }
        // Parvis has indexed the community and Alice's membership before the browser starts.
        wait_for("the community indexed", Duration::from_secs(30), || {
            let (stack, token, space) = (&stack, alice.access_token().to_owned(), space.clone());
            async move {
                let response = http_client()
                    .get(format!("{}/api/v1/communities/mine", stack.parvis.url()))
                    .bearer_auth(token)
                    .send()
                    .await
                    .ok()?;
                let list: Value = response.json().await.ok()?;
                list.as_array()?
                    .iter()
                    .any(|c| c["space_id"] == space.as_str())
                    .then_some(())
            }
        })
        .await
        .unwrap();
        Self {
            stack,
            alice,
            bob,
            space,
            wiki,
        }
    }

    /// The browser (`widgets/e2e/run.mjs`) creates, edits twice, restores, comments and finds a
    /// page in the widget, then reads and extends it in the standalone app; it succeeds and
    /// reports what it did.
    async fn the_browser_scenario_succeeds(&self) -> Report {
        let (stack, alice, bob) = (&self.stack, &self.alice, &self.bob);
        let env = [
            ("HS_URL", stack.synapse.base_url()),
            ("SPACE_ID", self.space.clone()),
            ("WIKI_ROOM", self.wiki.clone()),
            ("ALICE_ID", alice.user_id().to_owned()),
            ("ALICE_TOKEN", alice.access_token().to_owned()),
            ("ALICE_LOCALPART", "alice".to_owned()),
            ("ALICE_PASSWORD", "password".to_owned()),
            ("BOB_ID", bob.user_id().to_owned()),
            ("BOB_TOKEN", bob.access_token().to_owned()),
            ("SHOTS_DIR", screenshots().display().to_string()),
        ];
        let report = browser_script(
            stack,
            "run.mjs",
            &env,
            Duration::from_secs(300),
            "the browser scenario",
        )
        .await;
        let page_id = report["pageId"].as_str().unwrap().to_owned();
        Report {
            json: report,
            page_id,
        }
    }

    /// The widget asked Element for exactly what it writes.
    async fn the_widget_asks_element_for_exactly_what_it_writes(&self, report: &Report) {
        let report = &report.json;
        let capabilities: Vec<&str> = report["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            capabilities.contains(&"org.matrix.msc2762.send.state_event:org.parvis.wiki.page"),
            "{capabilities:?}"
        );
        assert!(capabilities.contains(&"org.matrix.msc2762.send.event:m.room.message"));
    }

    /// Bob reads the page in the room state: the first revision's text, written by Alice.
    async fn bob_reads_the_first_revision_in_the_room_state(&self, report: &Report) {
        let (page_id, texts) = (report.page_id.as_str(), &report.json["texts"]);
        let current = self
            .bob
            .state_event(&self.wiki, "org.parvis.wiki.page", page_id)
            .await
            .unwrap()
            .expect("the page is in the room state");
        assert_eq!(current["title"], texts["TITLE"]);
        assert!(
            current["body"]
                .as_str()
                .unwrap()
                .starts_with(texts["V1"].as_str().unwrap())
        );
    }

    /// Bob's live edit is the page's newest revision, and Alice's 👍 in the standalone app is
    /// on it. Returns the wiki's timeline as Bob reads it, for the next steps.
    async fn bobs_live_edit_and_alices_like_are_in_the_timeline(
        &self,
        report: &Report,
    ) -> Vec<Value> {
        let (page_id, report) = (report.page_id.as_str(), &report.json);
        let (alice, bob) = (&self.alice, &self.bob);
        let timeline = bob.messages(&self.wiki, 100).await.unwrap();
        let all_revisions = page_revisions(&timeline, page_id);
        // Newest first: Bob's edit, made while Alice had the page open in the standalone app,
        // which showed it without a reload.
        let live = all_revisions[0];
        assert_eq!(live["sender"], bob.user_id());
        assert!(
            live["content"]["body"]
                .as_str()
                .unwrap()
                .contains(report["liveSentence"].as_str().unwrap())
        );
        // Then Alice liked the page in the standalone app: a 👍 of hers on its current revision.
        assert_eq!(report["likedPageId"], page_id);
        let like = timeline
            .iter()
            .find(|event| event["type"] == "m.reaction" && event["sender"] == alice.user_id())
            .expect("Alice's 👍 is in the room");
        assert_eq!(like["content"]["m.relates_to"]["rel_type"], "m.annotation");
        assert_eq!(like["content"]["m.relates_to"]["key"], "👍");
        assert_eq!(
            like["content"]["m.relates_to"]["event_id"],
            live["event_id"]
        );
        timeline
    }

    /// Inside the widget, Element's side pushed the room's events to the page; the widget's
    /// revisions (create, two edits, restore) are all Alice's, each sent as herself.
    async fn the_widgets_revisions_are_alices(&self, report: &Report, timeline: &[Value]) {
        let (page_id, texts, report) =
            (report.page_id.as_str(), &report.json["texts"], &report.json);
        let all_revisions = page_revisions(timeline, page_id);
        // Inside the widget, Element's side pushed the room's events to the page.
        assert!(report["pushedToWidget"].as_u64().unwrap() > 0, "{report}");
        // The widget's revisions, all Alice's.
        let revisions = alices_revisions(&all_revisions, &self.alice);
        assert_eq!(revisions.len(), 4, "create, two edits, restore");
        assert_eq!(
            all_revisions.len(),
            5,
            "Alice's four revisions, each sent as herself, and Bob's"
        );
        // Newest first: the restore, the second edit, the first edit, the creation.
        let bodies: Vec<&str> = revisions
            .iter()
            .map(|event| event["content"]["body"].as_str().unwrap())
            .collect();
        assert!(bodies[1].starts_with(texts["V3"].as_str().unwrap()));
        assert!(bodies[2].starts_with(texts["V2"].as_str().unwrap()));
        assert_eq!(bodies[0], bodies[3]);
    }

    /// The comment is a message from Alice in the thread of the restored revision.
    async fn the_comment_is_in_the_thread_of_the_restore(
        &self,
        report: &Report,
        timeline: &[Value],
    ) {
        let (page_id, texts) = (report.page_id.as_str(), &report.json["texts"]);
        let alice = &self.alice;
        let all_revisions = page_revisions(timeline, page_id);
        let revisions = alices_revisions(&all_revisions, alice);
        let restore_event = revisions[0]["event_id"].as_str().unwrap();
        let comment = timeline
            .iter()
            .find(|event| event["type"] == "m.room.message" && event["sender"] == alice.user_id())
            .expect("Alice's comment is in the room");
        assert_eq!(comment["content"]["body"], texts["COMMENT"]);
        assert_eq!(comment["content"]["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(
            comment["content"]["m.relates_to"]["event_id"],
            restore_event
        );
    }

    /// The sub-page written in the standalone app is Alice's too, under the first page.
    async fn the_sub_page_is_alices_under_the_first_page(&self, report: &Report) {
        let page_id = report.page_id.as_str();
        let annex_id = report.json["annexId"].as_str().unwrap();
        let annex = self
            .bob
            .state_event(&self.wiki, "org.parvis.wiki.page", annex_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(annex["title"], "Annexe");
        assert_eq!(annex["parent"], page_id);
    }

    /// The guide lists both pages in the order chosen in the browser.
    async fn the_guide_lists_both_pages_in_the_chosen_order(&self, report: &Report) {
        let (page_id, report) = (report.page_id.as_str(), &report.json);
        let annex_id = report["annexId"].as_str().unwrap();
        let guide = self
            .bob
            .state_event(
                &self.wiki,
                "org.parvis.guide",
                report["guideId"].as_str().unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(guide["title"], "Prise en main");
        assert_eq!(guide["pages"], json!([annex_id, page_id]));
    }

    /// Bob finds the page through Parvis's search, as the browser did.
    async fn bob_finds_the_page_through_search(&self, report: &Report) {
        let page_id = report.page_id.as_str();
        let (_, hits) = get_json(
            &format!(
                "{}/api/v1/search?q=evenement%20lyon&community={}",
                self.stack.parvis.url(),
                path_segment(&self.space)
            ),
            self.bob.access_token(),
        )
        .await
        .unwrap();
        assert_eq!(hits[0]["object_id"], page_id, "{hits}");
    }

    /// The browser took its screenshots, on a desktop and on a phone.
    async fn the_screenshots_are_written(&self) {
        let shots = screenshots();
        for name in [
            "widget-wiki-read",
            "widget-search",
            "standalone-login",
            "standalone-community-home",
        ] {
            for width in ["desktop", "phone"] {
                assert!(shots.join(format!("{name}-{width}.png")).is_file());
            }
        }
    }
}

/// The tasks board in the standalone app (`widgets/e2e/tasks.mjs`): Alice signs in, drags one
/// card to another column with the mouse and moves another with the keyboard ("move to…"
/// controls, announced to screen readers); Bob moves a third card from his own client while
/// the board is open, and it moves on Alice's board without a reload; screenshots at desktop
/// and phone width. The moves are then checked in the room's state, as Bob reads it.
#[tokio::test]
async fn tasks_board_in_the_browser() {
    assert!(
        widgets_dist().join("index.html").is_file(),
        "the web front end is not built: run `npm ci && npm run build` in widgets/ (scripts/test does)"
    );
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let bob = stack.register_user("bob").await.unwrap();
    let created = parvis_tests::api::create_community(&stack, &alice, &["tasks"]).await;
    let space = created["space_id"].as_str().unwrap().to_owned();
    let room = parvis_tests::api::room_of(&created, "tasks");
    for joined in [&space, &room] {
        alice.join(joined).await.unwrap();
        alice.invite(joined, bob.user_id()).await.unwrap();
        bob.join(joined).await.unwrap();
    }
    let api = |user: &TestUser, method: &'static str, path: String, body: Option<Value>| {
        let (stack, token) = (&stack, user.access_token().to_owned());
        async move {
            let request = match method {
                "POST" => http_client().post(format!("{}{path}", stack.parvis.url())),
                _ => http_client().get(format!("{}{path}", stack.parvis.url())),
            };
            let request = request.bearer_auth(token);
            let request = match body {
                Some(body) => request.json(&body),
                None => request,
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let boards = format!("/api/v1/communities/{space}/tasks/boards");
    wait_for(
        "the tasks room indexed",
        Duration::from_secs(30),
        || async { (api(&bob, "GET", boards.clone(), None).await.0 == 200).then_some(()) },
    )
    .await
    .unwrap();
    let (status, board) = api(
        &alice,
        "POST",
        boards.clone(),
        Some(json!({"name": "Déménagement"})),
    )
    .await;
    assert_eq!(status, 201, "{board}");
    let board = board["id"].as_str().unwrap().to_owned();
    let mut cards = Vec::new();
    for title in [
        "Commander les cartons",
        "Réserver le camion",
        "Prévenir la poste",
        "Étiqueter",
    ] {
        let (status, card) = api(
            &alice,
            "POST",
            format!("{boards}/{board}/cards"),
            Some(json!({"title": title, "assignees": [bob.user_id()], "labels": ["logistique"]})),
        )
        .await;
        assert_eq!(status, 201, "{card}");
        cards.push(card["id"].as_str().unwrap().to_owned());
    }
    wait_for("the cards indexed", Duration::from_secs(30), || async {
        let (_, shown) = api(&bob, "GET", format!("{boards}/{board}"), None).await;
        (shown["columns"][0]["cards"].as_array()?.len() == 4).then_some(())
    })
    .await
    .unwrap();

    let env = [
        ("HS_URL", stack.synapse.base_url()),
        ("SPACE_ID", space.clone()),
        ("TASKS_ROOM", room.clone()),
        ("BOARD_ID", board.clone()),
        ("CARD_MOUSE", cards[0].clone()),
        ("CARD_KEYBOARD", cards[1].clone()),
        ("CARD_LIVE", cards[2].clone()),
        ("ALICE_ID", alice.user_id().to_owned()),
        ("ALICE_LOCALPART", "alice".to_owned()),
        ("ALICE_PASSWORD", "password".to_owned()),
        ("BOB_ID", bob.user_id().to_owned()),
        ("BOB_TOKEN", bob.access_token().to_owned()),
        // A folder of its own: the wiki scenario, which may run at the same time, empties
        // `target/screenshots` (and what is in it) when it starts.
        ("SHOTS_DIR", tasks_screenshots().display().to_string()),
    ];
    let report = step(
        "the_board_in_the_browser",
        browser_script(
            &stack,
            "tasks.mjs",
            &env,
            Duration::from_secs(240),
            "the tasks board in the browser",
        ),
    )
    .await;
    assert_eq!(report["liveSeen"], true, "{report}");
    // Alice and Bob each moved a card of one column into another at the same moment, in their
    // own browsers: both landed, and both pages show that column in the index's order.
    assert_eq!(report["concurrent"]["sameEverywhere"], true, "{report}");
    assert_eq!(
        report["concurrent"]["order"].as_array().map(Vec::len),
        Some(3),
        "{report}"
    );
    assert!(
        report["announced"]
            .as_str()
            .is_some_and(|text| !text.is_empty()),
        "the keyboard move is announced: {report}"
    );

    // In the room's state, as Bob's client reads it: Alice moved the first two cards.
    let state = bob.room_state(&room).await.unwrap();
    let card = |id: &str| {
        state
            .iter()
            .find(|event| event["type"] == "org.parvis.kanban.card" && event["state_key"] == id)
            .unwrap()
            .clone()
    };
    let mouse = card(&cards[0]);
    assert_eq!(mouse["content"]["column"], "doing", "{mouse}");
    assert_eq!(mouse["sender"], alice.user_id());
    let keyboard = card(&cards[1]);
    assert_eq!(
        keyboard["content"]["column"], report["keyboardColumn"],
        "{keyboard}"
    );
    assert_ne!(keyboard["content"]["column"], "todo");
    assert_eq!(keyboard["sender"], alice.user_id());
    let live = card(&cards[2]);
    assert_eq!(live["sender"], bob.user_id());
    // Alice's comment from the card's dialog: a message in the thread of one of its events.
    let commented = report["commented"]
        .as_str()
        .unwrap_or_else(|| panic!("{report}"));
    let comment = bob
        .messages(&room, 50)
        .await
        .unwrap()
        .into_iter()
        .find(|event| event["event_id"] == commented)
        .unwrap_or_else(|| panic!("{commented} not in the room"));
    assert_eq!(comment["sender"], alice.user_id());
    assert_eq!(comment["content"]["m.relates_to"]["rel_type"], "m.thread");
    assert_eq!(comment["content"]["body"], "Commentaire de test");
    for name in [
        "tasks-board",
        "tasks-gantt",
        "tasks-comments",
        "tasks-two-browsers-alice",
        "tasks-two-browsers-bob",
    ] {
        for width in ["desktop", "phone"] {
            let shot = tasks_screenshots().join(format!("{name}-{width}.png"));
            assert!(shot.is_file(), "{} missing", shot.display());
        }
    }
    stack.stop().await;
}

/// Front-end figures for BENCHMARKS.md, not a pass/fail test (timings flake in tests): a wiki
/// of `PARVIS_BENCH_PAGES` (default 1,000) pages written into the room, then `widgets/e2e/bench.mjs`
/// measures the JavaScript of a first load and the time to interactive of the tree and search.
///
/// `cargo test -p parvis-tests --test browser -- --ignored web_performance --nocapture`
#[tokio::test]
#[ignore = "a benchmark: run it by name"]
async fn web_performance() {
    assert!(
        widgets_dist().join("index.html").is_file(),
        "build widgets/ first"
    );
    let pages: usize = std::env::var("PARVIS_BENCH_PAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let (space, rooms) = community(&stack, &alice).await;
    let wiki = rooms
        .iter()
        .find(|(purpose, _)| purpose == "wiki")
        .unwrap()
        .1
        .clone();

    // Pages in a tree: 50 sections of 19 sub-pages (and the rest at the top level).
    let mut writers = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let (alice, wiki) = (alice.clone(), wiki.clone());
        writers.spawn(async move {
            for n in (worker..pages).step_by(4) {
                let parent = (n % 20 != 0).then(|| format!("page{:04}", n - n % 20));
                let mut content = json!({
                    "title": format!("Page {n} — continuité des services {}", n % 37),
                    "slug": format!("page-{n}"),
                    "body": format!("# Page {n}\n\nProcédure de continuité numéro {n} : \
                        contacts, astreintes, sauvegardes et reprise d'activité.\n"),
                    "tags": [format!("section-{}", n / 20)],
                });
                if let Some(parent) = parent {
                    content["parent"] = json!(parent);
                }
                alice
                    .send_state(
                        &wiki,
                        "org.parvis.wiki.page",
                        &format!("page{n:04}"),
                        content,
                    )
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(result) = writers.join_next().await {
        result.unwrap();
    }
    wait_for("every page indexed", Duration::from_secs(120), || {
        let (url, token, space) = (
            stack.parvis.url(),
            alice.access_token().to_owned(),
            space.clone(),
        );
        async move {
            let url = format!("{url}/api/v1/communities/{}/wiki", path_segment(&space));
            let (_, list) = get_json(&url, &token).await.ok()?;
            (list.as_array()?.len() >= pages).then_some(())
        }
    })
    .await
    .unwrap();

    let output = tokio::process::Command::new("node")
        .arg(repository().join("widgets/e2e/bench.mjs"))
        .current_dir(repository().join("widgets"))
        .env("PARVIS_URL", stack.parvis.url())
        .env("HS_URL", stack.synapse.base_url())
        .env("SPACE_ID", &space)
        .env("ALICE_ID", alice.user_id())
        .env("ALICE_TOKEN", alice.access_token())
        .env("PAGES", pages.to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!(
        "web performance: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    stack.stop().await;
}

/// Front-end figures for BENCHMARKS.md, not a pass/fail test: a board of
/// `PARVIS_BENCH_CARDS` (default 1,000) cards written into the tasks room, then
/// `widgets/e2e/bench-tasks.mjs` measures the time to interactive of the board page (every
/// card drawn) in headless Chromium and the JavaScript it loads, the tasks tool's own apart.
///
/// `cargo test -p parvis-tests --test browser -- --ignored tasks_board_page_performance --nocapture`
#[tokio::test]
#[ignore = "a benchmark: run it by name"]
async fn tasks_board_page_performance() {
    assert!(
        widgets_dist().join("index.html").is_file(),
        "build widgets/ first"
    );
    let cards: usize = std::env::var("PARVIS_BENCH_CARDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let created = parvis_tests::api::create_community(&stack, &alice, &["tasks"]).await;
    let space = created["space_id"].as_str().unwrap().to_owned();
    let room = parvis_tests::api::room_of(&created, "tasks");
    alice.join(&space).await.unwrap();
    alice.join(&room).await.unwrap();
    let boards = format!("/api/v1/communities/{space}/tasks/boards");
    parvis_tests::api::wait_api(&stack, &alice, &boards, |_| true).await;
    let (status, board) = parvis_tests::api::api(
        &stack,
        &alice,
        "POST",
        &boards,
        Some(json!({"name": "Grand chantier"})),
    )
    .await;
    assert_eq!(status, 201, "{board}");
    let board = board["id"].as_str().unwrap().to_owned();
    let mut writers = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (alice, room, board) = (alice.clone(), room.clone(), board.clone());
        writers.spawn(async move {
            for n in (worker..cards).step_by(8) {
                let column = ["todo", "doing", "done"][n % 3];
                let content = json!({
                    "title": format!("Lot de travaux n° {n}"),
                    "board": board,
                    "column": column,
                    "position": format!("a1{n:05}V"),
                    "assignees": [format!("@agent{}:example.org", n % 12)],
                    "labels": [if n % 2 == 0 { "gros œuvre" } else { "second œuvre" }],
                    "due": format!("2027-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
                });
                alice
                    .send_state(
                        &room,
                        "org.parvis.kanban.card",
                        &format!("card{n:05}"),
                        content,
                    )
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(result) = writers.join_next().await {
        result.unwrap();
    }
    let path = format!("{boards}/{board}");
    parvis_tests::api::wait_api(&stack, &alice, &path, |shown| {
        shown["columns"].as_array().is_some_and(|columns| {
            columns
                .iter()
                .map(|column| column["cards"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
                == cards
        })
    })
    .await;
    let env = [
        ("HS_URL", stack.synapse.base_url()),
        ("SPACE_ID", space.clone()),
        ("BOARD_ID", board.clone()),
        ("ALICE_ID", alice.user_id().to_owned()),
        ("ALICE_TOKEN", alice.access_token().to_owned()),
        ("CARDS", cards.to_string()),
    ];
    let report = browser_script(
        &stack,
        "bench-tasks.mjs",
        &env,
        Duration::from_secs(600),
        "the board page benchmark",
    )
    .await;
    println!("{report}");
    stack.stop().await;
}

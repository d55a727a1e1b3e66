//! The Foundation issue's checks, against a real Synapse and the real `parvis` binary.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use parvis_tests::{Database, Stack, TestUser, api::settled_digest, http_client, wait_for};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(90);

/// Opens a direct chat with the bot and waits until it has joined.
async fn dm_with_bot(stack: &Stack, user: &TestUser) -> String {
    let dm = user.create_dm(&stack.bot_user_id()).await.unwrap();
    user.wait_for_member(&dm, &stack.bot_user_id(), TIMEOUT)
        .await
        .unwrap();
    dm
}

/// Sends a command and returns the bot's reply to it.
async fn command(stack: &Stack, user: &TestUser, dm: &str, text: &str) -> Value {
    let event_id = user.send_text(dm, text).await.unwrap();
    let bot = stack.bot_user_id();
    user.wait_for_event(dm, TIMEOUT, |event| {
        event["sender"] == bot.as_str()
            && event["type"] == "m.room.message"
            && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id.as_str()
    })
    .await
    .unwrap()
}

/// The reaction the bot put on `event_id`, if any.
async fn reaction_on(stack: &Stack, user: &TestUser, dm: &str, event_id: &str) -> String {
    let bot = stack.bot_user_id();
    let reaction = user
        .wait_for_event(dm, TIMEOUT, |event| {
            event["sender"] == bot.as_str()
                && event["type"] == "m.reaction"
                && event["content"]["m.relates_to"]["event_id"] == event_id
        })
        .await
        .unwrap();
    reaction["content"]["m.relates_to"]["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn state<'a>(state: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    state
        .iter()
        .filter(|event| event["type"] == event_type)
        .collect()
}

async fn api_communities(stack: &Stack) -> Vec<Value> {
    let response = http_client()
        .get(format!("{}/api/v1/communities", stack.parvis.url()))
        .bearer_auth(&stack.parvis.tokens().admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Vec<Value>>().await.unwrap()
}

#[tokio::test]
async fn a_user_creates_a_community_by_talking_to_the_bot() {
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let dm = dm_with_bot(&stack, &alice).await;

    let help = command(&stack, &alice, &dm, "!parvis help").await;
    assert_eq!(help["content"]["msgtype"], "m.notice");
    assert!(
        help["content"]["body"]
            .as_str()
            .unwrap()
            .contains("!parvis community create")
    );

    let unknown = command(&stack, &alice, &dm, "!parvis dance").await;
    assert!(
        unknown["content"]["body"]
            .as_str()
            .unwrap()
            .contains("unknown command `dance`")
    );

    let reply = command(
        &stack,
        &alice,
        &dm,
        r#"!parvis community create "Projet Alpha" --tools wiki,faq --description "Pilote""#,
    )
    .await;
    let body = reply["content"]["body"].as_str().unwrap();
    assert!(body.starts_with("✅"), "{body}");
    let command_id = reply["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(reaction_on(&stack, &alice, &dm, &command_id).await, "✅");

    // Alice is invited to the space and its four rooms (home, discussion, wiki, faq).
    let invites = wait_for("five invitations", TIMEOUT, || async {
        let invites = alice.invited_rooms().await.ok()?;
        (invites.len() >= 5).then_some(invites)
    })
    .await
    .unwrap();
    assert_eq!(invites.len(), 5);

    // Find the space among them: joining it shows its state.
    let mut space = None;
    for room in &invites {
        alice.join(room).await.unwrap();
        let room_state = alice.room_state(room).await.unwrap();
        if !state(&room_state, "org.parvis.community").is_empty() {
            space = Some((room.clone(), room_state));
        }
    }
    let (space_id, space_state) = space.expect("one of the rooms is the community's space");
    let create = state(&space_state, "m.room.create")[0];
    assert_eq!(create["content"]["type"], "m.space");
    let community = &state(&space_state, "org.parvis.community")[0]["content"];
    assert_eq!(community["name"], "Projet Alpha");
    assert_eq!(community["description"], "Pilote");
    assert_eq!(community["tools"], json!(["wiki", "faq"]));
    assert_eq!(community["requested_by"], alice.user_id());
    let power = &state(&space_state, "m.room.power_levels")[0]["content"];
    assert_eq!(power["users"][alice.user_id()], 100);
    assert_eq!(power["events"]["org.parvis.community"], 100);

    let children: Vec<String> = state(&space_state, "m.space.child")
        .iter()
        .map(|e| e["state_key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(children.len(), 4);
    let mut purposes = Vec::new();
    for child in &children {
        let child_state = alice.room_state(child).await.unwrap();
        assert_eq!(
            state(&child_state, "m.space.parent")[0]["state_key"],
            space_id.as_str()
        );
        let room = &state(&child_state, "org.parvis.community.room")[0]["content"];
        assert_eq!(room["community"], space_id.as_str());
        purposes.push(room["purpose"].as_str().unwrap().to_owned());
        assert_eq!(
            state(&child_state, "m.room.power_levels")[0]["content"]["users"][alice.user_id()],
            100
        );
    }
    purposes.sort();
    assert_eq!(purposes, ["discussion", "faq", "home", "wiki"]);

    // Parvis indexed the community from the events it received.
    let indexed = wait_for("the community in the index", TIMEOUT, || async {
        let list = api_communities(&stack).await;
        list.into_iter().find(|c| {
            c["space_id"] == space_id.as_str()
                && c["rooms"].as_array().is_some_and(|r| r.len() == 4)
        })
    })
    .await
    .unwrap();
    assert_eq!(indexed["name"], "Projet Alpha");
    stack.stop().await;
}

async fn put_transaction(stack: &Stack, txn_id: &str, token: &str, body: &str) -> (u16, Value) {
    let response = http_client()
        .put(format!(
            "{}/_matrix/app/v1/transactions/{txn_id}",
            stack.parvis.url()
        ))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn transactions_are_authenticated_validated_and_applied_once() {
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let room = format!("!synthetic:{}", stack.synapse.server_name());
    let bot = stack.bot_user_id();
    let events = json!({"events": [
        {"event_id": "$synthetic-create", "room_id": room, "sender": bot, "type": "m.room.create", "state_key": "",
         "origin_server_ts": 1, "content": {"room_version": "12"}},
        {"event_id": "$synthetic-topic", "room_id": room, "sender": bot, "type": "m.room.topic", "state_key": "",
         "origin_server_ts": 2, "content": {"topic": "pushed three times"}},
    ]})
    .to_string();
    let hs_token = stack.parvis.tokens().hs_token.clone();
    // Each digest is read once the job queue is empty and the index has settled: the bot's own
    // upkeep (a reconcile at start) must not pass for a change a transaction made.
    let before = settled_digest(&stack).await;

    // A forged transaction changes nothing.
    let (status, body) = put_transaction(&stack, "forged", "not-the-hs-token", &events).await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (403, Some("M_FORBIDDEN"))
    );
    assert_eq!(settled_digest(&stack).await, before);

    // Malformed bodies get Matrix errors.
    let (status, body) = put_transaction(&stack, "bad1", &hs_token, "{not json").await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (400, Some("M_NOT_JSON"))
    );
    let (status, body) = put_transaction(&stack, "bad2", &hs_token, r#"{"events": "none"}"#).await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (400, Some("M_BAD_JSON"))
    );
    assert_eq!(settled_digest(&stack).await, before);

    // The same transaction three times: the index changes once.
    let (status, _) = put_transaction(&stack, "9001", &hs_token, &events).await;
    assert_eq!(status, 200);
    let after_first = settled_digest(&stack).await;
    assert_ne!(after_first, before);
    for _ in 0..2 {
        assert_eq!(
            put_transaction(&stack, "9001", &hs_token, &events).await.0,
            200
        );
        assert_eq!(settled_digest(&stack).await, after_first);
    }
    // Synapse restarts transaction IDs at 1 after a restart: a new ID with old events is still a no-op.
    assert_eq!(
        put_transaction(&stack, "1", &hs_token, &events).await.0,
        200
    );
    assert_eq!(settled_digest(&stack).await, after_first);
    stack.stop().await;
}

async fn sigkill_while_the_homeserver_pushes(database: Database) {
    let mut stack = Stack::start(database.clone()).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let dm = dm_with_bot(&stack, &alice).await;
    let reply = command(
        &stack,
        &alice,
        &dm,
        r#"!parvis community create "Projet Alpha" --tools wiki"#,
    )
    .await;
    assert!(reply["content"]["body"].as_str().unwrap().starts_with("✅"));
    let invites = wait_for("four invitations", TIMEOUT, || async {
        let invites = alice.invited_rooms().await.ok()?;
        (invites.len() >= 4).then_some(invites)
    })
    .await
    .unwrap();
    let mut wiki = None;
    for room in &invites {
        alice.join(room).await.unwrap();
        let purpose = alice
            .state_event(room, "org.parvis.community.room", "")
            .await
            .unwrap();
        if purpose.is_some_and(|content| content["purpose"] == "wiki") {
            wiki = Some(room.clone());
        }
    }
    let wiki = wiki.expect("a wiki room");

    // Alice writes pages; Parvis is killed in the middle and comes back later.
    for page in 0..30 {
        if page == 10 {
            stack.parvis.kill_hard().await;
        }
        if page == 20 {
            stack.parvis.start().await.unwrap();
        }
        let content =
            json!({"title": format!("Page {page}"), "body": format!("Texte de la page {page}")});
        alice
            .send_state(
                &wiki,
                "org.parvis.wiki.page",
                &format!("page-{}", page % 12),
                content,
            )
            .await
            .unwrap();
    }
    let live = settled_digest(&stack).await;
    stack.parvis.stop().await;

    // A fresh index rebuilt from the homeserver is the same.
    let fresh = stack.scratch_sqlite_url("rebuilt");
    stack.parvis.rebuild_index(Some(&fresh)).await.unwrap();
    assert_eq!(stack.parvis.digest(Some(&fresh)).await.unwrap(), live);

    // And so is the index itself, its database deleted (SQLite) or emptied (PostgreSQL), then rebuilt.
    if database == Database::Sqlite {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(stack.dir.join(format!("parvis.db{suffix}")));
        }
        assert!(!stack.dir.join("parvis.db").exists());
    }
    stack.parvis.rebuild_index(None).await.unwrap();
    assert_eq!(stack.parvis.digest(None).await.unwrap(), live);
    stack.stop().await;
}

#[tokio::test]
async fn sigkill_and_restart_lose_nothing_on_sqlite() {
    sigkill_while_the_homeserver_pushes(Database::Sqlite).await;
}

#[tokio::test]
async fn sigkill_and_restart_lose_nothing_on_postgres() {
    if parvis_tests::skip_without_postgres() {
        return;
    }
    sigkill_while_the_homeserver_pushes(Database::Postgres).await;
}

/// `parvis doctor` beside a real Synapse (and `/ready` once the homeserver reached Parvis):
/// every check passes on the harness's deployment; with
/// Parvis stopped the homeserver cannot reach it (a warning: the rest still holds); with an
/// as_token the homeserver does not know, the registration check fails, says how to load the
/// registration, and the command exits with a failure.
#[tokio::test]
async fn doctor_checks_the_deployment_and_says_what_to_fix() {
    let mut stack = Stack::start(Database::Sqlite).await.unwrap();
    // Once the homeserver has answered Parvis's ping, Parvis says it is ready.
    let ready = format!("{}/ready", stack.parvis.url());
    wait_for("Parvis to be ready", TIMEOUT, || async {
        let response = http_client().get(&ready).send().await.ok()?;
        (response.status() == 200).then_some(())
    })
    .await
    .unwrap();
    let report = stack.parvis.command(&["doctor"], None).await.unwrap();
    for line in [
        "ok      index database: up to date",
        "ok      homeserver: answers at",
        "ok      registration: the homeserver knows Parvis's as_token",
        "ok      homeserver → Parvis: the homeserver reaches Parvis at",
        "ok      clock:",
        "Parvis can run with this configuration.",
    ] {
        assert!(report.contains(line), "{line} not in:\n{report}");
    }

    // For a log collector: one JSON object per line, each with its level and message, a
    // request's lines with the request's span.
    stack.parvis.stop().await;
    stack.parvis.set_env("PARVIS__LOG__FORMAT", "json");
    stack.parvis.set_env("RUST_LOG", "info,tower_http=debug");
    stack.parvis.start().await.unwrap();
    let health = http_client()
        .get(format!("{}/health", stack.parvis.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    stack.parvis.stop().await;
    let log = std::fs::read_to_string(stack.parvis.log_path()).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "Parvis is listening"),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .all(|line| line["level"].is_string() && line["timestamp"].is_string()),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line["span"]["uri"] == "/health" && line["span"]["method"] == "GET"),
        "a request's lines carry the request: {log}"
    );
    stack.parvis.unset_env("PARVIS__LOG__FORMAT");
    stack.parvis.unset_env("RUST_LOG");

    let report = stack.parvis.command(&["doctor"], None).await.unwrap();
    assert!(
        report.contains("warning homeserver → Parvis: the homeserver cannot reach Parvis"),
        "{report}"
    );

    stack
        .parvis
        .set_env("PARVIS__APPSERVICE__AS_TOKEN", "not-the-registered-token");
    let failed = stack
        .parvis
        .command(&["doctor"], None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        failed.contains("FAILED  registration: the homeserver does not know appservice.as_token")
            && failed.contains("app_service_config_files")
            && failed.contains("1 check failed"),
        "{failed}"
    );
    stack.stop().await;
}

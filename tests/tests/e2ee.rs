//! End-to-end encryption against a real Synapse and a real E2EE client nobody here wrote:
//! matrix-js-sdk with its Rust crypto (`tests/e2ee-client/client.mjs`, run with Node.js).
//! An encrypted `!parvis` command is decrypted by Parvis's own device and answered encrypted;
//! Synapse's database holds only ciphertext; after a restart Parvis still reads new messages;
//! the bot's device is cross-signed, so clients reading only such devices read it; and where
//! the homeserver pushes no encryption updates, the bot reads them with `/sync`.
//!
//! Needs Node.js and `npm install` in `tests/e2ee-client/` (scripts/test does it).

#![allow(clippy::unwrap_used)]

use std::{path::Path, process::Stdio, time::Duration};

use parvis_tests::{Database, Stack, StackOptions, http_client};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
};

fn client_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/e2ee-client"))
}

/// A matrix-js-sdk client in a Node.js process, driven line by line.
struct JsClient {
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl JsClient {
    /// Logs `localpart` in (a new device) and starts the client with its own crypto.
    async fn start(homeserver: &str, localpart: &str) -> (Self, String) {
        let login: Value = http_client()
            .post(format!("{homeserver}/_matrix/client/v3/login"))
            .json(&json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart}, "password": "password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let user_id = login["user_id"].as_str().unwrap().to_owned();
        let mut child = Command::new("node")
            .arg(client_dir().join("client.mjs"))
            .current_dir(client_dir())
            .env("HS_URL", homeserver)
            .env("USER_ID", &user_id)
            .env("ACCESS_TOKEN", login["access_token"].as_str().unwrap())
            .env("DEVICE_ID", login["device_id"].as_str().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node is needed (scripts/test installs the client with npm)");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut client = Self {
            _child: child,
            stdin,
            stdout,
        };
        let ready = client.answer().await;
        assert_eq!(ready["ready"], true, "{ready}");
        (client, user_id)
    }

    async fn answer(&mut self) -> Value {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(120), self.stdout.next_line())
                .await
                .expect("the JS client did not answer in 2 minutes")
                .unwrap()
                .expect("the JS client exited");
            if let Some(json) = line.strip_prefix("@@ ") {
                return serde_json::from_str(json).unwrap();
            }
        }
    }

    /// Runs one command; panics with the client's error.
    async fn run(&mut self, command: &str) -> Value {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        let answer = self.answer().await;
        assert!(
            answer["error"].is_null(),
            "`{command}` failed: {}",
            answer["error"]
        );
        answer["ok"].clone()
    }
}

/// Where `needle` appears in Synapse's SQLite database (and its write-ahead log) and in the
/// files of its media store, with some context.
fn synapse_rows_containing(database: &Path, needle: &str) -> Vec<String> {
    let mut files = vec![database.to_owned(), database.with_extension("db-wal")];
    let mut dirs = vec![database.with_file_name("media")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        found.extend(text.match_indices(needle).map(|(at, _)| {
            let context = text.get(at.saturating_sub(60)..at).unwrap_or_default();
            format!("{}: …{context}", file.display())
        }));
    }
    found
}

#[tokio::test]
async fn encrypted_commands_are_answered_encrypted() {
    let mut stack = Stack::start(Database::Sqlite).await.unwrap();
    let homeserver = stack.synapse.base_url();
    stack.register_user("alice").await.unwrap();
    let bot = stack.bot_user_id();
    let (mut alice, _) = JsClient::start(&homeserver, "alice").await;

    // An encrypted direct chat with the bot; the bot joins on its own.
    let dm = alice.run(&format!("dm {bot}")).await;
    let room = dm["room"].as_str().unwrap().to_owned();

    // An encrypted command with a marker word: answered, encrypted, by Parvis's device.
    let marker = "zorglubencrypte";
    alice
        .run(&format!("send {room} !parvis search {marker}"))
        .await;
    let reply = alice
        .run(&format!("wait-reply {room} {bot} {marker}"))
        .await;
    assert_eq!(reply["sender"], bot.as_str());
    assert_eq!(reply["encrypted"], true, "the answer is encrypted: {reply}");

    // The bot's device is cross-signed by the bot: from here on Alice's client reads only
    // devices their owner signed (MSC4153), as recent Element clients do, and still reads it.
    let device = std::fs::read_to_string(stack.parvis_dir().join("crypto/device_id")).unwrap();
    let trust = alice
        .run(&format!("device-trust {bot} {}", device.trim()))
        .await;
    assert_eq!(trust["known"], true, "{trust}");
    assert_eq!(trust["signedByOwner"], true, "{trust}");
    let signed = alice.run("cross-sign").await;
    assert_eq!(signed["ready"], true, "{signed}");
    alice.run("only-signed-devices").await;
    alice
        .run(&format!("send {room} !parvis search signeparproprietaire"))
        .await;
    let reply = alice
        .run(&format!("wait-reply {room} {bot} signeparproprietaire"))
        .await;
    assert_eq!(reply["encrypted"], true);

    // Synapse stored ciphertext only: neither the command nor the answer is readable there,
    // while a message in a room without encryption is (the search does find plaintext).
    let clear = stack.register_user("carol").await.unwrap();
    let clear_room = clear.create_dm(&bot).await.unwrap();
    clear.send_text(&clear_room, "temoinenclair").await.unwrap();
    let database = stack.synapse.database_path();
    parvis_tests::wait_for("the clear message on disk", Duration::from_secs(20), || {
        let found = !synapse_rows_containing(&database, "temoinenclair").is_empty();
        async move { found.then_some(()) }
    })
    .await
    .unwrap();
    let leaks = synapse_rows_containing(&database, marker);
    assert!(
        leaks.is_empty(),
        "plaintext in Synapse's database: {leaks:?}"
    );

    // Restarted, Parvis keeps its device and keys: a new command is read and answered.
    stack.parvis.stop().await;
    stack.parvis.start().await.unwrap();
    alice
        .run(&format!("send {room} !parvis search apresredemarrage"))
        .await;
    let reply = alice
        .run(&format!("wait-reply {room} {bot} apresredemarrage"))
        .await;
    assert_eq!(reply["encrypted"], true);

    // The crypto store lost: detected at start, a new device begins, and the conversation goes
    // on (Alice's client learns of the new device and shares its next keys with it).
    stack.parvis.stop().await;
    let crypto = stack.parvis_dir().join("crypto");
    let lost_device = std::fs::read_to_string(crypto.join("device_id")).unwrap();
    for entry in std::fs::read_dir(&crypto).unwrap().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("matrix-sdk-crypto")
        {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    stack.parvis.start().await.unwrap();
    let new_device = parvis_tests::wait_for("a new device", Duration::from_secs(30), || {
        let file = crypto.join("device_id");
        let lost = lost_device.clone();
        async move { std::fs::read_to_string(file).ok().filter(|id| *id != lost) }
    })
    .await
    .unwrap();
    assert_ne!(new_device, lost_device);
    let trust = alice.run(&format!("device-trust {bot} {new_device}")).await;
    assert_eq!(
        trust["signedByOwner"], true,
        "the new device is cross-signed: {trust}"
    );
    alice
        .run(&format!("send {room} !parvis search nouvellecle"))
        .await;
    let reply = alice
        .run(&format!("wait-reply {room} {bot} nouvellecle"))
        .await;
    assert_eq!(reply["encrypted"], true);

    // A member who joins later gets the room key of what Parvis posts after they joined.
    stack.register_user("bob").await.unwrap();
    let (mut bob, bob_id) = JsClient::start(&homeserver, "bob").await;
    alice.run(&format!("invite {room} {bob_id}")).await;
    bob.run(&format!("join {room}")).await;
    alice
        .run(&format!("send {room} !parvis search nouveaumembre"))
        .await;
    let reply = bob
        .run(&format!("wait-reply {room} {bot} nouveaumembre"))
        .await;
    assert_eq!(reply["encrypted"], true, "{reply}");
    bob.run("quit").await;

    // A client that withholds its keys from devices its user did not verify: Parvis says it
    // cannot read.
    alice.run("all-devices").await;
    alice.run("share-with-unverified no").await;
    alice
        .run(&format!("send {room} !parvis search jamaislu"))
        .await;
    let told = alice
        .run(&format!("wait-reply {room} {bot} cannot read"))
        .await;
    assert!(
        told["body"].as_str().unwrap().contains("withheld"),
        "{told}"
    );

    alice.run("quit").await;
    stack.stop().await;
}

/// A homeserver that pushes no encryption updates to appservices: the bot, a user of the
/// appservice apart from its sender, reads its room keys and device lists with `/sync`, and the
/// conversation works as it does with transactions, across a restart and a new member.
#[tokio::test]
async fn encryption_updates_are_read_with_sync_when_the_homeserver_does_not_push_them() {
    let options = StackOptions {
        device_updates_by_sync: true,
    };
    let mut stack = Stack::start_with(Database::Sqlite, options).await.unwrap();
    let registration =
        std::fs::read_to_string(stack.parvis_dir().join("registration.yaml")).unwrap();
    assert!(
        registration.contains("sender_localpart: parvis-appservice"),
        "{registration}"
    );
    let synapse_config: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(stack.dir.join("synapse/homeserver.yaml")).unwrap(),
    )
    .unwrap();
    let experimental = &synapse_config["experimental_features"];
    assert_eq!(experimental["msc2409_to_device_messages_enabled"], false);
    assert_eq!(experimental["msc3202_transaction_extensions"], false);
    let homeserver = stack.synapse.base_url();
    stack.register_user("alice").await.unwrap();
    let bot = stack.bot_user_id();
    let (mut alice, _) = JsClient::start(&homeserver, "alice").await;

    let dm = alice.run(&format!("dm {bot}")).await;
    let room = dm["room"].as_str().unwrap().to_owned();
    alice
        .run(&format!("send {room} !parvis search parsynchro"))
        .await;
    let reply = alice
        .run(&format!("wait-reply {room} {bot} parsynchro"))
        .await;
    assert_eq!(reply["sender"], bot.as_str());
    assert_eq!(reply["encrypted"], true, "{reply}");

    // Restarted, Parvis goes on from its sync token: the next room key is read.
    stack.parvis.stop().await;
    stack.parvis.start().await.unwrap();
    alice
        .run(&format!("send {room} !parvis search apresreprise"))
        .await;
    let reply = alice
        .run(&format!("wait-reply {room} {bot} apresreprise"))
        .await;
    assert_eq!(reply["encrypted"], true);
    let log = std::fs::read_to_string(stack.parvis.log_path()).unwrap();
    assert!(
        log.contains("reading the device's encryption updates with /sync"),
        "{log}"
    );

    // A member who joins later reads what Parvis posts after that.
    stack.register_user("bob").await.unwrap();
    let (mut bob, bob_id) = JsClient::start(&homeserver, "bob").await;
    alice.run(&format!("invite {room} {bob_id}")).await;
    bob.run(&format!("join {room}")).await;
    alice
        .run(&format!("send {room} !parvis search membresynchro"))
        .await;
    let reply = bob
        .run(&format!("wait-reply {room} {bot} membresynchro"))
        .await;
    assert_eq!(reply["encrypted"], true, "{reply}");
    bob.run("quit").await;
    alice.run("quit").await;
    stack.stop().await;
}

/// The room of `purpose` in the community `space`, from Parvis's administrative list.
async fn community_room(stack: &Stack, space: &str, purpose: &str) -> String {
    let list: Value = http_client()
        .get(format!("{}/api/v1/communities", stack.parvis.url()))
        .bearer_auth(&stack.parvis.tokens().admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let community = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["space_id"] == space)
        .unwrap_or_else(|| panic!("{space} not in {list}"));
    community["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|room| room[1] == purpose)
        .unwrap()[0]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn encrypted_state_in_an_encrypted_community() {
    let mut stack = Stack::start(Database::Sqlite).await.unwrap();
    let homeserver = stack.synapse.base_url();
    let alice_rest = stack.register_user("alice").await.unwrap();
    let bot = stack.bot_user_id();
    let (mut alice, _) = JsClient::start(&homeserver, "alice").await;
    let dm = alice.run(&format!("dm {bot}")).await;
    let dm = dm["room"].as_str().unwrap().to_owned();

    // An encrypted community, asked for in an encrypted chat.
    alice
        .run(&format!(
            r#"send {dm} !parvis community create "Coffre" --encrypted --tools wiki"#
        ))
        .await;
    let reply = alice.run(&format!("wait-reply {dm} {bot} Coffre")).await;
    let body = reply["body"].as_str().unwrap();
    let space = body
        .split_whitespace()
        .find(|word| word.starts_with('!'))
        .unwrap_or_else(|| panic!("no space in {body}"))
        .trim_end_matches('.')
        .to_owned();
    let wiki = community_room(&stack, &space, "wiki").await;
    alice.run(&format!("join {space}")).await;
    alice.run(&format!("join {wiki}")).await;
    let encryption = alice_rest
        .state_event(&wiki, "m.room.encryption", "")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(encryption["io.element.msc4362.encrypt_state_events"], true);

    // Alice's own client writes a wiki page as encrypted state; Parvis decrypts and indexes it.
    alice
        .run(&format!(
            r#"state {wiki} org.parvis.wiki.page page1 {{"title": "Plan marqueurtitre", "slug": "plan", "body": "Corps marqueurcorps"}}"#
        ))
        .await;
    let page_url = format!(
        "{}/api/v1/communities/{}/wiki/page1",
        stack.parvis.url(),
        parvis_tests::path_segment(&space)
    );
    let page = parvis_tests::wait_for(
        "the encrypted page indexed",
        Duration::from_secs(60),
        || {
            let (url, token) = (page_url.clone(), alice_rest.access_token().to_owned());
            async move {
                let (_, page) = parvis_tests::get_json(&url, &token).await.ok()?;
                (page["title"] == "Plan marqueurtitre").then_some(page)
            }
        },
    )
    .await
    .unwrap();
    assert!(page["html"].as_str().unwrap().contains("marqueurcorps"));
    let state = alice_rest.room_state(&wiki).await.unwrap();
    assert!(
        state.iter().any(|event| event["type"] == "m.room.encrypted"
            && event["state_key"] == "org.parvis.wiki.page:page1"),
        "the page is encrypted state in the room"
    );

    // Alice likes it from her client: the reaction is encrypted, Parvis decrypts it and counts.
    let likes_url = format!("{page_url}/likes");
    let reaction = alice
        .run(&format!(
            "react {wiki} {} 👍",
            page["event_id"].as_str().unwrap()
        ))
        .await;
    let liked = |expected: i64| {
        let (url, token) = (likes_url.clone(), alice_rest.access_token().to_owned());
        move || {
            let (url, token) = (url.clone(), token.clone());
            async move {
                let (_, likes) = parvis_tests::get_json(&url, &token).await.ok()?;
                (likes["likes"] == expected).then_some(likes)
            }
        }
    };
    let likes = parvis_tests::wait_for(
        "the encrypted 👍 counted",
        Duration::from_secs(60),
        liked(1),
    )
    .await
    .unwrap();
    assert_eq!(likes["mine"]["like"], reaction["eventId"], "{likes}");

    // The bot writes encrypted state too, for `!parvis wiki new` in the encrypted wiki room.
    alice
        .run(&format!(
            r#"send {wiki} !parvis wiki new "Note marqueurbot" Contenu chiffre"#
        ))
        .await;
    alice
        .run(&format!("wait-reply {wiki} {bot} marqueurbot"))
        .await;
    let state = alice_rest.room_state(&wiki).await.unwrap();
    let written: Vec<&Value> = state
        .iter()
        .filter(|event| {
            event["sender"] == bot.as_str()
                && event["type"] == "m.room.encrypted"
                && event["state_key"]
                    .as_str()
                    .is_some_and(|key| key.starts_with("org.parvis.wiki.page:"))
        })
        .collect();
    assert_eq!(written.len(), 1, "the bot's page is encrypted state");

    // A page over the event size limit: its body an encrypted attachment, read back whole.
    let big = alice
        .run(&format!("big-page {wiki} gros1 marqueurgros"))
        .await;
    let big_url = format!(
        "{}/api/v1/communities/{}/wiki/gros1",
        stack.parvis.url(),
        parvis_tests::path_segment(&space)
    );
    let size = big["size"].as_u64().unwrap() as usize;
    let page = parvis_tests::wait_for(
        "the big encrypted page read",
        Duration::from_secs(60),
        || {
            let (url, token) = (big_url.clone(), alice_rest.access_token().to_owned());
            async move {
                let (_, page) = parvis_tests::get_json(&url, &token).await.ok()?;
                (page["body"].as_str()?.len() == size).then_some(page)
            }
        },
    )
    .await
    .unwrap();
    assert!(
        page["body"]
            .as_str()
            .unwrap()
            .ends_with("Fin du document.\n")
    );

    // Writing through the REST API, which cannot encrypt as the user, is refused.
    let refused = http_client()
        .put(&page_url)
        .bearer_auth(alice_rest.access_token())
        .json(&json!({"title": "En clair", "body": "non"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let refusal: Value = refused.json().await.unwrap();
    assert_eq!(refusal["errcode"], "ORG.PARVIS_ENCRYPTED_ROOM");

    // Restarted after the index was dropped and rebuilt from the rooms, Parvis reads the
    // encrypted pages again with the keys its device kept.
    stack.parvis.stop().await;
    stack.parvis.rebuild_index(None).await.unwrap();
    stack.parvis.start().await.unwrap();
    let (_, page) = parvis_tests::get_json(&page_url, alice_rest.access_token())
        .await
        .unwrap();
    assert_eq!(page["title"], "Plan marqueurtitre", "{page}");
    let likes = parvis_tests::wait_for("the 👍 counted again", Duration::from_secs(60), liked(1))
        .await
        .unwrap();
    assert_eq!(likes["mine"]["like"], reaction["eventId"], "{likes}");

    // Synapse holds none of it in clear, in its database or its media store.
    let database = stack.synapse.database_path();
    for marker in [
        "marqueurtitre",
        "marqueurcorps",
        "marqueurbot",
        "marqueurgros",
    ] {
        let leaks = synapse_rows_containing(&database, marker);
        assert!(
            leaks.is_empty(),
            "{marker} in Synapse's database: {leaks:?}"
        );
    }
    alice.run("quit").await;
    stack.stop().await;
}

/// Tasks in an encrypted community: Alice's own client writes a board and a card as encrypted
/// state, Parvis reads them through its device and says so in the room (an encrypted notice);
/// the bot moves the card for her command, as encrypted state her client reads back; the REST
/// API, which cannot encrypt as her, refuses to write; Synapse holds no title in clear.
#[tokio::test]
async fn encrypted_tasks() {
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let homeserver = stack.synapse.base_url();
    let alice_rest = stack.register_user("alice").await.unwrap();
    let bot = stack.bot_user_id();
    let (mut alice, _) = JsClient::start(&homeserver, "alice").await;
    let dm = alice.run(&format!("dm {bot}")).await;
    let dm = dm["room"].as_str().unwrap().to_owned();
    alice
        .run(&format!(
            r#"send {dm} !parvis community create "Chantier" --encrypted --tools tasks"#
        ))
        .await;
    let reply = alice.run(&format!("wait-reply {dm} {bot} Chantier")).await;
    let body = reply["body"].as_str().unwrap();
    let space = body
        .split_whitespace()
        .find(|word| word.starts_with('!'))
        .unwrap_or_else(|| panic!("no space in {body}"))
        .trim_end_matches('.')
        .to_owned();
    let tasks = community_room(&stack, &space, "tasks").await;
    alice.run(&format!("join {space}")).await;
    alice.run(&format!("join {tasks}")).await;

    alice
        .run(&format!(
            r#"state {tasks} org.parvis.kanban.board b1 {{"name": "Plan marqueurtableau", "columns": [{{"id": "todo", "name": "A faire"}}, {{"id": "done", "name": "Fait", "done": true}}]}}"#
        ))
        .await;
    alice
        .run(&format!(
            r#"state {tasks} org.parvis.kanban.card c1 {{"title": "Carte marqueurcarte", "board": "b1", "column": "todo", "position": "a0"}}"#
        ))
        .await;
    let board_url = format!(
        "{}/api/v1/communities/{}/tasks/boards/b1",
        stack.parvis.url(),
        parvis_tests::path_segment(&space)
    );
    let board = parvis_tests::wait_for(
        "the encrypted card indexed",
        Duration::from_secs(60),
        || {
            let (url, token) = (board_url.clone(), alice_rest.access_token().to_owned());
            async move {
                let (_, board) = parvis_tests::get_json(&url, &token).await.ok()?;
                (board["columns"][0]["cards"][0]["title"] == "Carte marqueurcarte").then_some(board)
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(board["name"], "Plan marqueurtableau");
    let state = alice_rest.room_state(&tasks).await.unwrap();
    assert!(
        state.iter().any(|event| event["type"] == "m.room.encrypted"
            && event["state_key"] == "org.parvis.kanban.card:c1"),
        "the card is encrypted state in the room"
    );
    // The room is told, in an encrypted notice.
    let notice = alice
        .run(&format!(
            "wait-reply {tasks} {bot} added “Carte marqueurcarte”"
        ))
        .await;
    assert_eq!(notice["encrypted"], true, "{notice}");

    // The bot moves it for Alice's command: encrypted state, which her client reads back.
    alice
        .run(&format!("send {tasks} !parvis task move c1 Fait"))
        .await;
    let answer = alice
        .run(&format!("wait-reply {tasks} {bot} is in “Fait”"))
        .await;
    assert_eq!(answer["encrypted"], true, "{answer}");
    let card = alice
        .run(&format!(
            r#"wait-state {tasks} org.parvis.kanban.card c1 "column":"done""#
        ))
        .await;
    assert_eq!(card["sender"], bot.as_str(), "{card}");
    assert_eq!(card["encrypted"], true, "{card}");
    assert_eq!(
        card["content"]["requested_by"],
        alice_rest.user_id(),
        "{card}"
    );
    parvis_tests::wait_for("the move indexed", Duration::from_secs(60), || {
        let (url, token) = (board_url.clone(), alice_rest.access_token().to_owned());
        async move {
            let (_, board) = parvis_tests::get_json(&url, &token).await.ok()?;
            (board["columns"][1]["cards"][0]["id"] == "c1").then_some(())
        }
    })
    .await
    .unwrap();

    // The REST API cannot encrypt as Alice: it refuses to write.
    let refused = http_client()
        .post(format!("{board_url}/cards"))
        .bearer_auth(alice_rest.access_token())
        .json(&json!({"title": "En clair"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let refusal: Value = refused.json().await.unwrap();
    assert_eq!(refusal["errcode"], "ORG.PARVIS_ENCRYPTED_ROOM");

    let database = stack.synapse.database_path();
    for marker in ["marqueurtableau", "marqueurcarte"] {
        let leaks = synapse_rows_containing(&database, marker);
        assert!(
            leaks.is_empty(),
            "{marker} in Synapse's database: {leaks:?}"
        );
    }
    alice.run("quit").await;
    stack.stop().await;
}

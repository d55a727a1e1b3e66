//! The Publishing issue's checks, against a real Synapse and the real `parvis` binary.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use parvis_tests::{
    Database, Stack, TestUser,
    api::{api, create_community, room_of, settled_digest, wait_api},
    http_client, wait_for,
};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

/// A community with a wiki, a blog and a FAQ, owned by `alice`, who has joined every room.
/// Returns (space, wiki room, all rooms).
async fn community(stack: &Stack, alice: &TestUser) -> (String, String, Vec<String>) {
    let created = create_community(stack, alice, &["wiki", "blog", "faq"]).await;
    let space = created["space_id"].as_str().unwrap().to_owned();
    let wiki = room_of(&created, "wiki");
    alice.join(&space).await.unwrap();
    let rooms: Vec<String> = created["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|room| room[1].as_str().unwrap().to_owned())
        .collect();
    for room in &rooms {
        alice.join(room).await.unwrap();
    }
    (space, wiki, rooms)
}

/// Invites `user` to the space and its rooms, and joins them.
async fn add_member(alice: &TestUser, user: &TestUser, space: &str, rooms: &[String]) {
    for room in std::iter::once(space).chain(rooms.iter().map(String::as_str)) {
        alice.invite(room, user.user_id()).await.unwrap();
        user.join(room).await.unwrap();
    }
}

#[tokio::test]
async fn wiki_on_sqlite() {
    wiki_pages_revisions_permissions_search_and_rebuild(Database::Sqlite).await;
}

#[tokio::test]
async fn wiki_on_postgres() {
    if parvis_tests::skip_without_postgres() {
        return;
    }
    wiki_pages_revisions_permissions_search_and_rebuild(Database::Postgres).await;
}

async fn wiki_pages_revisions_permissions_search_and_rebuild(database: Database) {
    let mut stack = Stack::start(database).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let bob = stack.register_user("bob").await.unwrap();
    let carol = stack.register_user("carol").await.unwrap();
    let (space, wiki, rooms) = community(&stack, &alice).await;
    add_member(&alice, &bob, &space, &rooms).await;
    add_member(&alice, &carol, &space, &rooms).await;
    // Carol is a reader in the wiki.
    let mut levels = alice
        .state_event(&wiki, "m.room.power_levels", "")
        .await
        .unwrap()
        .unwrap();
    levels["users"][carol.user_id()] = json!(-1);
    alice
        .send_state(&wiki, "m.room.power_levels", "", levels)
        .await
        .unwrap();

    let pages = format!("/api/v1/communities/{space}/wiki");
    wait_api(&stack, &alice, &pages, |_| true).await;

    // Alice writes a page; Bob reads it through the API and through the room state.
    let (status, created) = api(&stack, &alice, "POST", &pages, Some(json!({
        "title": "Événement annuel", "body": "Premier texte.\n\nVoir [[Accueil]].", "tags": ["rh"],
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let page_path = format!("{pages}/{id}");
    let page = wait_api(&stack, &bob, &page_path, |_| true).await;
    assert_eq!(page["title"], "Événement annuel");
    assert_eq!(page["slug"], "evenement-annuel");
    assert_eq!(page["author"], alice.user_id());
    assert!(
        page["html"]
            .as_str()
            .unwrap()
            .contains("<p>Premier texte.</p>")
    );
    let state = bob
        .state_event(&wiki, "org.parvis.wiki.page", &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state["title"], "Événement annuel");

    // Two more revisions, a diff of the third against the first, and a restore of the first.
    for body in [
        "Deuxième texte.\n\nVoir [[Accueil]].",
        "Troisième texte.\n\nVoir [[Accueil]].",
    ] {
        let (status, answer) = api(
            &stack,
            &alice,
            "PUT",
            &page_path,
            Some(json!({"title": "Événement annuel", "body": body})),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    let revisions = wait_api(&stack, &bob, &format!("{page_path}/revisions"), |list| {
        list.as_array().is_some_and(|l| l.len() == 3)
    })
    .await;
    let first = revisions[0]["event_id"].as_str().unwrap().to_owned();
    let third = revisions[2]["event_id"].as_str().unwrap().to_owned();
    let (status, diff) = api(
        &stack,
        &bob,
        "GET",
        &format!(
            "{page_path}/diff?from={}&to={}",
            urlencode(&first),
            urlencode(&third)
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{diff}");
    assert!(
        diff.as_array()
            .unwrap()
            .contains(&json!({"op": "removed", "text": "Premier texte."})),
        "{diff}"
    );
    assert!(
        diff.as_array()
            .unwrap()
            .contains(&json!({"op": "added", "text": "Troisième texte."})),
        "{diff}"
    );
    let (status, answer) = api(
        &stack,
        &bob,
        "POST",
        &format!("{page_path}/restore"),
        Some(json!({"event_id": first})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let restored = wait_api(&stack, &alice, &page_path, |page| {
        page["html"]
            .as_str()
            .is_some_and(|h| h.contains("Premier texte."))
    })
    .await;
    assert_eq!(restored["event_id"], answer["event_id"]);
    let revisions = wait_api(&stack, &alice, &format!("{page_path}/revisions"), |list| {
        list.as_array().is_some_and(|l| l.len() == 4)
    })
    .await;
    assert_eq!(
        revisions[3]["sender"],
        bob.user_id(),
        "the restore is Bob's own revision"
    );

    // Comments are thread messages on the page's current revision, readable by any client.
    let (status, comment) = api(
        &stack,
        &bob,
        "POST",
        &format!("{page_path}/comments"),
        Some(json!({"body": "Merci pour ce texte !"})),
    )
    .await;
    assert_eq!(status, 201, "{comment}");
    let comments = wait_api(&stack, &alice, &format!("{page_path}/comments"), |list| {
        list.as_array().is_some_and(|l| l.len() == 1)
    })
    .await;
    assert_eq!(
        (comments[0]["sender"].as_str(), comments[0]["body"].as_str()),
        (Some(bob.user_id()), Some("Merci pour ce texte !"))
    );
    let message = alice
        .wait_for_event(&wiki, TIMEOUT, |event| {
            event["event_id"] == comment["event_id"]
        })
        .await
        .unwrap();
    assert_eq!(message["content"]["m.relates_to"]["rel_type"], "m.thread");
    assert_eq!(
        message["content"]["m.relates_to"]["event_id"],
        restored["event_id"]
    );

    // Carol, a reader, cannot write: Parvis says why, and the homeserver refuses too.
    let (status, refused) = api(
        &stack,
        &carol,
        "POST",
        &pages,
        Some(json!({"title": "Intrus", "body": "x"})),
    )
    .await;
    assert_eq!(
        (status, refused["errcode"].as_str()),
        (403, Some("M_FORBIDDEN"))
    );
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("readers only read"),
        "{refused}"
    );
    let direct = carol
        .send_state(
            &wiki,
            "org.parvis.wiki.page",
            "intrus",
            json!({"title": "Intrus", "slug": "intrus", "body": "x"}),
        )
        .await;
    assert!(direct.unwrap_err().to_string().contains("403"));

    // Hostile markdown is rendered harmless.
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "<svg onload=alert(1)>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
        "<iframe src=https://evil.example>",
        "<style>body{}</style>",
        "<scr<script>ipt>alert(1)</script>",
        "[[<script>alert(1)</script>]]",
    ];
    let (status, hostile) = api(
        &stack,
        &alice,
        "POST",
        &pages,
        Some(json!({"title": "Hostile", "body": payloads.join("\n\n")})),
    )
    .await;
    assert_eq!(status, 201, "{hostile}");
    let hostile = wait_api(
        &stack,
        &bob,
        &format!("{pages}/{}", hostile["id"].as_str().unwrap()),
        |_| true,
    )
    .await;
    let html = hostile["html"].as_str().unwrap().to_lowercase();
    for forbidden in [
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "data:",
        "<svg",
        "<iframe",
        "<style",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} survived in {html}");
    }

    // Backlinks: a page named "Accueil" lists the page that links to it.
    let (_, home) = api(
        &stack,
        &alice,
        "POST",
        &pages,
        Some(json!({"title": "Accueil", "body": "Bienvenue. Un événement arrive."})),
    )
    .await;
    let home = wait_api(
        &stack,
        &bob,
        &format!("{pages}/{}", home["id"].as_str().unwrap()),
        |_| true,
    )
    .await;
    assert!(
        home["backlinks"]
            .as_array()
            .unwrap()
            .contains(&json!(["wiki_page", id])),
        "{home}"
    );

    // A guide orders pages into a reading path.
    let guides = format!("/api/v1/communities/{space}/guides");
    let (status, guide) = api(&stack, &alice, "POST", &guides, Some(json!({
        "title": "Bien démarrer", "description": "Par où commencer.", "pages": [home["object_id"], id],
    })))
    .await;
    assert_eq!(status, 201, "{guide}");
    let guide = wait_api(
        &stack,
        &bob,
        &format!("{guides}/{}", guide["id"].as_str().unwrap()),
        |_| true,
    )
    .await;
    assert_eq!(guide["pages"], json!([home["object_id"], id]));
    assert_eq!(guide["slug"], "bien-demarrer");

    // A 500 KiB page goes through the media repository and comes back intact.
    let big: String = (0..14_000)
        .map(|line| format!("Ligne {line:05} du très long compte rendu.\n"))
        .collect();
    assert!(big.len() > 500 * 1024);
    let (status, created_big) = api(
        &stack,
        &alice,
        "POST",
        &pages,
        Some(json!({"title": "Compte rendu intégral", "body": big})),
    )
    .await;
    assert_eq!(status, 201, "{created_big}");
    let big_page = wait_api(
        &stack,
        &bob,
        &format!("{pages}/{}", created_big["id"].as_str().unwrap()),
        |page| page["body"].as_str().is_some_and(|body| !body.is_empty()),
    )
    .await;
    assert_eq!(big_page["body"].as_str().unwrap(), big);
    assert!(
        big_page["body_media"]
            .as_str()
            .unwrap()
            .starts_with("mxc://")
    );
    let event = bob
        .state_event(
            &wiki,
            "org.parvis.wiki.page",
            created_big["id"].as_str().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event["body"], "", "the event itself stays small");
    // Its diff compares the bodies in the media repository, not the events' empty ones.
    let big_path = format!("{pages}/{}", created_big["id"].as_str().unwrap());
    let edited = big.replace("Ligne 07000 du", "Ligne 07000 corrigée du");
    let (status, answer) = api(
        &stack,
        &alice,
        "PUT",
        &big_path,
        Some(json!({"title": "Compte rendu intégral", "body": edited})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let big_revisions = wait_api(&stack, &bob, &format!("{big_path}/revisions"), |list| {
        list.as_array().is_some_and(|l| l.len() == 2)
    })
    .await;
    let (status, big_diff) = api(
        &stack,
        &bob,
        "GET",
        &format!(
            "{big_path}/diff?from={}&to={}",
            urlencode(big_revisions[0]["event_id"].as_str().unwrap()),
            urlencode(big_revisions[1]["event_id"].as_str().unwrap())
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{big_diff}");
    let changed: Vec<&Value> = big_diff
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["op"] != "same")
        .collect();
    assert_eq!(
        changed,
        [
            &json!({"op": "removed", "text": "Ligne 07000 du très long compte rendu."}),
            &json!({"op": "added", "text": "Ligne 07000 corrigée du très long compte rendu."}),
        ],
        "{big_diff}"
    );

    // Search folds accents both ways and ranks a title hit above a body hit.
    let search = |user: &TestUser, words: &str| {
        let path = format!(
            "/api/v1/search?q={}&community={}",
            urlencode(words),
            urlencode(&space)
        );
        let user = user.clone();
        let stack = &stack;
        async move { api(stack, &user, "GET", &path, None).await }
    };
    for words in ["evenement", "événement", "EVENEMENT"] {
        let (status, hits) = search(&bob, words).await;
        assert_eq!(status, 200, "{hits}");
        let ids: Vec<&str> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["object_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids.first(),
            Some(&id.as_str()),
            "title hit first for {words}: {hits}"
        );
        assert!(ids.len() >= 2, "the body hit is found too: {hits}");
        assert!(hits[0]["snippet"].is_string());
    }

    // FAQ entries are for moderators and above; blog drafts are seen by their author only.
    let faq = format!("/api/v1/communities/{space}/faq");
    let (status, _) = api(&stack, &alice, "POST", &faq, Some(json!({"question": "Où trouver le planning ?", "answer": "Dans le *calendrier*.", "category": "Organisation"}))).await;
    assert_eq!(status, 201);
    let (status, refused) = api(
        &stack,
        &bob,
        "POST",
        &faq,
        Some(json!({"question": "Q ?", "answer": "R"})),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    let entries = wait_api(&stack, &bob, &faq, |list| {
        list.as_array().is_some_and(|l| l.len() == 1)
    })
    .await;
    assert_eq!(entries[0]["category"], "Organisation");
    let blog = format!("/api/v1/communities/{space}/blog");
    let (status, draft) = api(
        &stack,
        &alice,
        "POST",
        &blog,
        Some(json!({"title": "Lancement", "body": "Bientôt.", "status": "draft"})),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    let post = format!("{blog}/{}", draft["id"].as_str().unwrap());
    wait_api(&stack, &alice, &post, |_| true).await;
    let (_, posts) = api(&stack, &bob, "GET", &blog, None).await;
    assert_eq!(posts, json!([]), "Bob does not see Alice's draft");
    let (status, _) = api(&stack, &alice, "PUT", &post, Some(json!({"title": "Lancement", "body": "C'est parti.", "status": "published", "published_at": 1}))).await;
    assert_eq!(status, 200);
    wait_api(&stack, &bob, &post, |post| post["status"] == "published").await;

    // The API describes itself.
    let openapi: Value = http_client()
        .get(format!("{}/api/v1/openapi.json", stack.parvis.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["paths"]["/api/v1/search"].is_object());

    // Clients without widgets: notices tell the room, and bot commands do the basic actions.
    let bot = stack.bot_user_id();
    let notice = bob
        .wait_for_event(&wiki, TIMEOUT, |event| {
            event["sender"] == bot.as_str()
                && event["content"]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("created the wiki page “Événement annuel”"))
        })
        .await
        .unwrap();
    assert_eq!(notice["content"]["msgtype"], "m.notice");
    let reply_to = |user: &TestUser, room: &str, text: &'static str| {
        let (user, room, bot) = (user.clone(), room.to_owned(), bot.clone());
        async move {
            let command = user.send_text(&room, text).await.unwrap();
            let reply = user
                .wait_for_event(&room, TIMEOUT, |event| {
                    event["sender"] == bot.as_str()
                        && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
                            == command.as_str()
                })
                .await
                .unwrap();
            reply["content"]["body"].as_str().unwrap().to_owned()
        }
    };
    // Carol, a reader of the wiki, can talk in the space, but the bot will not write for her.
    let refused = reply_to(&carol, &space, r#"!parvis wiki new "Intrus" texte"#).await;
    assert!(
        refused.starts_with("❌") && refused.contains("readers only read"),
        "{refused}"
    );
    let written = reply_to(
        &bob,
        &wiki,
        r#"!parvis wiki new "Ordre du jour" Points à traiter"#,
    )
    .await;
    assert!(written.starts_with("✅"), "{written}");
    let listed = wait_api(&stack, &alice, &pages, |list| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|p| p["title"] == "Ordre du jour")
    })
    .await;
    let agenda = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "Ordre du jour")
        .unwrap();
    assert_eq!(
        agenda["author"],
        bob.user_id(),
        "the bot wrote it for Bob, and says so"
    );
    let found = reply_to(&bob, &wiki, "!parvis search evenement").await;
    assert!(found.contains("Événement annuel"), "{found}");

    // Bob leaves the wiki: his searches no longer return its pages.
    bob.leave(&wiki).await.unwrap();
    wait_for("Bob's search to forget the wiki", TIMEOUT, || async {
        let (_, hits) = search(&bob, "evenement").await;
        hits.as_array()?.is_empty().then_some(())
    })
    .await
    .unwrap();
    let (status, _) = api(&stack, &bob, "GET", &page_path, None).await;
    assert_eq!(status, 403);

    // A rebuild from the homeserver reproduces pages, revisions, links and memberships exactly.
    let live = settled_digest(&stack).await;
    stack.parvis.stop().await;
    let fresh = stack.scratch_sqlite_url("rebuilt");
    stack.parvis.rebuild_index(Some(&fresh)).await.unwrap();
    assert_eq!(stack.parvis.digest(Some(&fresh)).await.unwrap(), live);
    stack.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

//! The Publishing issue's checks, against a real Synapse and the real `parvis` binary.
//!
//! One scenario, in named steps run in order (`parvis_tests::step!`): the captured output of a
//! failing run ends with `── step: …` and `── failed in step: …`, the step that broke.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use parvis_tests::{
    Database, Stack, TestUser,
    api::{api, create_community, room_of, settled_digest, wait_api},
    http_client, step, wait_for,
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

/// The scenario, step by step, in the order the requests must reach Synapse and Parvis.
async fn wiki_pages_revisions_permissions_search_and_rebuild(database: Database) {
    let mut s = step(
        "a_community_where_carol_only_reads",
        Scenario::start(database),
    )
    .await;
    let page = step!(s.alice_writes_a_page_bob_reads_it());
    let restored = step!(s.revisions_diff_and_restore(&page));
    step!(s.comments_are_thread_messages_on_the_current_revision(&page, &restored));
    step!(s.a_reader_may_not_write());
    step!(s.hostile_markdown_is_rendered_harmless());
    let home = step!(s.backlinks_list_the_pages_that_link_here(&page));
    step!(s.a_guide_orders_pages_into_a_reading_path(&page, &home));
    let (big_page, big) = step!(s.a_500_kib_page_goes_through_the_media_repository());
    step!(s.a_big_page_diff_compares_the_bodies_in_the_media_repository(&big_page, &big));
    step!(s.search_folds_accents_and_ranks_a_title_hit_first(&page));
    step!(s.faq_entries_are_for_moderators_and_above());
    step!(s.blog_drafts_are_seen_by_their_author_only());
    step!(s.the_api_describes_itself());
    step!(s.notices_tell_the_room());
    step!(s.the_bot_will_not_write_for_a_reader());
    step!(s.the_bot_writes_and_searches_for_a_member());
    step!(s.the_bot_writes_in_each_publishing_tool_as_its_roles_allow());
    step!(s.a_member_who_leaves_no_longer_reads_the_wiki(&page));
    step!(s.rebuild_gives_the_same_index());
    s.stack.stop().await;
}

/// What every step shares: the stack, the community and its three members.
struct Scenario {
    stack: Stack,
    /// The owner of the community.
    alice: TestUser,
    /// A member.
    bob: TestUser,
    /// A member who is a reader (power level -1) in the wiki.
    carol: TestUser,
    space: String,
    /// The wiki room.
    wiki: String,
    /// `/api/v1/communities/{space}/wiki`.
    pages: String,
}

/// A wiki page created by a step, for the steps after it.
struct Page {
    /// Its object ID (the state key of its events).
    id: String,
    /// `/api/v1/communities/{space}/wiki/{id}`.
    path: String,
}

impl Scenario {
    /// Alice's community with Bob and Carol as members, Carol a reader in the wiki, and the
    /// wiki's page list answering.
    async fn start(database: Database) -> Self {
        let stack = Stack::start(database).await.unwrap();
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
        Self {
            stack,
            alice,
            bob,
            carol,
            space,
            wiki,
            pages,
        }
    }

    /// Alice writes a page; Bob reads it through the API and through the room state.
    async fn alice_writes_a_page_bob_reads_it(&self) -> Page {
        let pages = &self.pages;
        let (status, created) = api(&self.stack, &self.alice, "POST", pages, Some(json!({
            "title": "Événement annuel", "body": "Premier texte.\n\nVoir [[Accueil]].", "tags": ["rh"],
        })))
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let page_path = format!("{pages}/{id}");
        let page = wait_api(&self.stack, &self.bob, &page_path, |_| true).await;
        assert_eq!(page["title"], "Événement annuel");
        assert_eq!(page["slug"], "evenement-annuel");
        assert_eq!(page["author"], self.alice.user_id());
        assert!(
            page["html"]
                .as_str()
                .unwrap()
                .contains("<p>Premier texte.</p>")
        );
        let state = self
            .bob
            .state_event(&self.wiki, "org.parvis.wiki.page", &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(state["title"], "Événement annuel");
        Page {
            id,
            path: page_path,
        }
    }

    /// Two more revisions, a diff of the third against the first, and a restore of the first
    /// (Bob's own revision). Returns the page as restored.
    async fn revisions_diff_and_restore(&self, page: &Page) -> Value {
        let page_path = &page.path;
        for body in [
            "Deuxième texte.\n\nVoir [[Accueil]].",
            "Troisième texte.\n\nVoir [[Accueil]].",
        ] {
            let (status, answer) = api(
                &self.stack,
                &self.alice,
                "PUT",
                page_path,
                Some(json!({"title": "Événement annuel", "body": body})),
            )
            .await;
            assert_eq!(status, 200, "{answer}");
        }
        let revisions = wait_api(
            &self.stack,
            &self.bob,
            &format!("{page_path}/revisions"),
            |list| list.as_array().is_some_and(|l| l.len() == 3),
        )
        .await;
        let first = revisions[0]["event_id"].as_str().unwrap().to_owned();
        let third = revisions[2]["event_id"].as_str().unwrap().to_owned();
        let (status, diff) = api(
            &self.stack,
            &self.bob,
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
            &self.stack,
            &self.bob,
            "POST",
            &format!("{page_path}/restore"),
            Some(json!({"event_id": first})),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let restored = wait_api(&self.stack, &self.alice, page_path, |page| {
            page["html"]
                .as_str()
                .is_some_and(|h| h.contains("Premier texte."))
        })
        .await;
        assert_eq!(restored["event_id"], answer["event_id"]);
        let revisions = wait_api(
            &self.stack,
            &self.alice,
            &format!("{page_path}/revisions"),
            |list| list.as_array().is_some_and(|l| l.len() == 4),
        )
        .await;
        assert_eq!(
            revisions[3]["sender"],
            self.bob.user_id(),
            "the restore is Bob's own revision"
        );
        restored
    }

    /// Comments are thread messages on the page's current revision, readable by any client.
    async fn comments_are_thread_messages_on_the_current_revision(
        &self,
        page: &Page,
        restored: &Value,
    ) {
        let page_path = &page.path;
        let (status, comment) = api(
            &self.stack,
            &self.bob,
            "POST",
            &format!("{page_path}/comments"),
            Some(json!({"body": "Merci pour ce texte !"})),
        )
        .await;
        assert_eq!(status, 201, "{comment}");
        let comments = wait_api(
            &self.stack,
            &self.alice,
            &format!("{page_path}/comments"),
            |list| list.as_array().is_some_and(|l| l.len() == 1),
        )
        .await;
        assert_eq!(
            (comments[0]["sender"].as_str(), comments[0]["body"].as_str()),
            (Some(self.bob.user_id()), Some("Merci pour ce texte !"))
        );
        let message = self
            .alice
            .wait_for_event(&self.wiki, TIMEOUT, |event| {
                event["event_id"] == comment["event_id"]
            })
            .await
            .unwrap();
        assert_eq!(message["content"]["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(
            message["content"]["m.relates_to"]["event_id"],
            restored["event_id"]
        );
    }

    /// Carol, a reader, cannot write: Parvis says why, and the homeserver refuses too.
    async fn a_reader_may_not_write(&self) {
        let (status, refused) = api(
            &self.stack,
            &self.carol,
            "POST",
            &self.pages,
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
        let direct = self
            .carol
            .send_state(
                &self.wiki,
                "org.parvis.wiki.page",
                "intrus",
                json!({"title": "Intrus", "slug": "intrus", "body": "x"}),
            )
            .await;
        assert!(direct.unwrap_err().to_string().contains("403"));
    }

    /// Hostile markdown is rendered harmless.
    async fn hostile_markdown_is_rendered_harmless(&self) {
        let pages = &self.pages;
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
            &self.stack,
            &self.alice,
            "POST",
            pages,
            Some(json!({"title": "Hostile", "body": payloads.join("\n\n")})),
        )
        .await;
        assert_eq!(status, 201, "{hostile}");
        let hostile = wait_api(
            &self.stack,
            &self.bob,
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
    }

    /// Backlinks: a page named "Accueil" lists the page that links to it. Returns "Accueil"
    /// as Bob reads it.
    async fn backlinks_list_the_pages_that_link_here(&self, page: &Page) -> Value {
        let (pages, id) = (&self.pages, &page.id);
        let (_, home) = api(
            &self.stack,
            &self.alice,
            "POST",
            pages,
            Some(json!({"title": "Accueil", "body": "Bienvenue. Un événement arrive."})),
        )
        .await;
        let home = wait_api(
            &self.stack,
            &self.bob,
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
        home
    }

    /// A guide orders pages into a reading path.
    async fn a_guide_orders_pages_into_a_reading_path(&self, page: &Page, home: &Value) {
        let id = &page.id;
        let guides = format!("/api/v1/communities/{}/guides", self.space);
        let (status, guide) = api(&self.stack, &self.alice, "POST", &guides, Some(json!({
            "title": "Bien démarrer", "description": "Par où commencer.", "pages": [home["object_id"], id],
        })))
        .await;
        assert_eq!(status, 201, "{guide}");
        let guide = wait_api(
            &self.stack,
            &self.bob,
            &format!("{guides}/{}", guide["id"].as_str().unwrap()),
            |_| true,
        )
        .await;
        assert_eq!(guide["pages"], json!([home["object_id"], id]));
        assert_eq!(guide["slug"], "bien-demarrer");
    }

    /// A 500 KiB page goes through the media repository and comes back intact; its event
    /// stays small. Returns the page and its body.
    async fn a_500_kib_page_goes_through_the_media_repository(&self) -> (Page, String) {
        let pages = &self.pages;
        let big: String = (0..14_000)
            .map(|line| format!("Ligne {line:05} du très long compte rendu.\n"))
            .collect();
        assert!(big.len() > 500 * 1024);
        let (status, created_big) = api(
            &self.stack,
            &self.alice,
            "POST",
            pages,
            Some(json!({"title": "Compte rendu intégral", "body": big})),
        )
        .await;
        assert_eq!(status, 201, "{created_big}");
        let big_page = wait_api(
            &self.stack,
            &self.bob,
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
        let event = self
            .bob
            .state_event(
                &self.wiki,
                "org.parvis.wiki.page",
                created_big["id"].as_str().unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event["body"], "", "the event itself stays small");
        let id = created_big["id"].as_str().unwrap().to_owned();
        let path = format!("{pages}/{id}");
        (Page { id, path }, big)
    }

    /// The big page's diff compares the bodies in the media repository, not the events' empty
    /// ones: an edited line is the only change.
    async fn a_big_page_diff_compares_the_bodies_in_the_media_repository(
        &self,
        big_page: &Page,
        big: &str,
    ) {
        let big_path = &big_page.path;
        let edited = big.replace("Ligne 07000 du", "Ligne 07000 corrigée du");
        let (status, answer) = api(
            &self.stack,
            &self.alice,
            "PUT",
            big_path,
            Some(json!({"title": "Compte rendu intégral", "body": edited})),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let big_revisions = wait_api(
            &self.stack,
            &self.bob,
            &format!("{big_path}/revisions"),
            |list| list.as_array().is_some_and(|l| l.len() == 2),
        )
        .await;
        let (status, big_diff) = api(
            &self.stack,
            &self.bob,
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
    }

    /// Search folds accents both ways and ranks a title hit above a body hit.
    async fn search_folds_accents_and_ranks_a_title_hit_first(&self, page: &Page) {
        let id = &page.id;
        for words in ["evenement", "événement", "EVENEMENT"] {
            let (status, hits) = self.search(&self.bob, words).await;
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
    }

    /// FAQ entries are for moderators and above: Alice writes one, Bob may not, and reads it.
    async fn faq_entries_are_for_moderators_and_above(&self) {
        let faq = format!("/api/v1/communities/{}/faq", self.space);
        let (status, _) = api(&self.stack, &self.alice, "POST", &faq, Some(json!({"question": "Où trouver le planning ?", "answer": "Dans le *calendrier*.", "category": "Organisation"}))).await;
        assert_eq!(status, 201);
        let (status, refused) = api(
            &self.stack,
            &self.bob,
            "POST",
            &faq,
            Some(json!({"question": "Q ?", "answer": "R"})),
        )
        .await;
        assert_eq!(status, 403, "{refused}");
        let entries = wait_api(&self.stack, &self.bob, &faq, |list| {
            list.as_array().is_some_and(|l| l.len() == 1)
        })
        .await;
        assert_eq!(entries[0]["category"], "Organisation");
    }

    /// Blog drafts are seen by their author only, until published.
    async fn blog_drafts_are_seen_by_their_author_only(&self) {
        let blog = format!("/api/v1/communities/{}/blog", self.space);
        let (status, draft) = api(
            &self.stack,
            &self.alice,
            "POST",
            &blog,
            Some(json!({"title": "Lancement", "body": "Bientôt.", "status": "draft"})),
        )
        .await;
        assert_eq!(status, 201, "{draft}");
        let post = format!("{blog}/{}", draft["id"].as_str().unwrap());
        wait_api(&self.stack, &self.alice, &post, |_| true).await;
        let (_, posts) = api(&self.stack, &self.bob, "GET", &blog, None).await;
        assert_eq!(posts, json!([]), "Bob does not see Alice's draft");
        let (status, _) = api(&self.stack, &self.alice, "PUT", &post, Some(json!({"title": "Lancement", "body": "C'est parti.", "status": "published", "published_at": 1}))).await;
        assert_eq!(status, 200);
        wait_api(&self.stack, &self.bob, &post, |post| {
            post["status"] == "published"
        })
        .await;
    }

    /// The API describes itself.
    async fn the_api_describes_itself(&self) {
        let openapi: Value = http_client()
            .get(format!("{}/api/v1/openapi.json", self.stack.parvis.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(openapi["paths"]["/api/v1/search"].is_object());
    }

    /// Clients without widgets: notices tell the room.
    async fn notices_tell_the_room(&self) {
        let bot = self.stack.bot_user_id();
        let notice = self
            .bob
            .wait_for_event(&self.wiki, TIMEOUT, |event| {
                event["sender"] == bot.as_str()
                    && event["content"]["body"]
                        .as_str()
                        .is_some_and(|b| b.contains("created the wiki page “Événement annuel”"))
            })
            .await
            .unwrap();
        assert_eq!(notice["content"]["msgtype"], "m.notice");
    }

    /// Carol, a reader of the wiki, can talk in the space, but the bot will not write for her.
    async fn the_bot_will_not_write_for_a_reader(&self) {
        let refused = self
            .reply_to(
                &self.carol,
                &self.space,
                r#"!parvis wiki new "Intrus" texte"#,
            )
            .await;
        assert!(
            refused.starts_with("❌") && refused.contains("readers only read"),
            "{refused}"
        );
    }

    /// Bot commands do the basic actions: the bot writes a page for Bob, and searches for him.
    async fn the_bot_writes_and_searches_for_a_member(&self) {
        let written = self
            .reply_to(
                &self.bob,
                &self.wiki,
                r#"!parvis wiki new "Ordre du jour" Points à traiter"#,
            )
            .await;
        assert!(written.starts_with("✅"), "{written}");
        let (agenda, _) = self
            .wait_listed(&self.alice, &self.pages, "Ordre du jour")
            .await;
        assert_eq!(
            agenda["author"],
            self.bob.user_id(),
            "the bot wrote it for Bob, and says so"
        );
        let found = self
            .reply_to(&self.bob, &self.wiki, "!parvis search evenement")
            .await;
        assert!(found.contains("Événement annuel"), "{found}");
    }

    /// `!parvis faq new` and `!parvis blog new`, declared by those tools: the bot adds Alice's
    /// question to the FAQ and refuses Bob's (the FAQ is for moderators), and publishes Bob's
    /// post, which Carol reads.
    async fn the_bot_writes_in_each_publishing_tool_as_its_roles_allow(&self) {
        let refused = self
            .reply_to(
                &self.bob,
                &self.space,
                r#"!parvis faq new "Qui appeler ?" Personne"#,
            )
            .await;
        assert!(refused.starts_with("❌"), "{refused}");
        let written = self
            .reply_to(
                &self.alice,
                &self.space,
                r#"!parvis faq new "Qui appeler ?" L'accueil, poste 12"#,
            )
            .await;
        assert!(
            written.starts_with("✅ FAQ entry “Qui appeler ?”"),
            "{written}"
        );
        let faq = format!("/api/v1/communities/{}/faq", self.space);
        let (entry, entries) = self.wait_listed(&self.bob, &faq, "Qui appeler ?").await;
        assert_eq!(entry["author"], self.alice.user_id());
        assert!(
            entries.as_array().unwrap().len() == 2,
            "Bob's question was not written: {entries}"
        );

        let written = self
            .reply_to(
                &self.bob,
                &self.space,
                r#"!parvis blog new "Rentrée" Le programme"#,
            )
            .await;
        assert!(written.starts_with("✅ Blog post “Rentrée”"), "{written}");
        let blog = format!("/api/v1/communities/{}/blog", self.space);
        let (post, _) = self.wait_listed(&self.carol, &blog, "Rentrée").await;
        assert_eq!(
            (post["status"].as_str(), post["author"].as_str()),
            (Some("published"), Some(self.bob.user_id()))
        );
    }

    /// Bob leaves the wiki: his searches no longer return its pages, nor may he read them.
    async fn a_member_who_leaves_no_longer_reads_the_wiki(&self, page: &Page) {
        self.bob.leave(&self.wiki).await.unwrap();
        wait_for("Bob's search to forget the wiki", TIMEOUT, || async move {
            let (_, hits) = self.search(&self.bob, "evenement").await;
            hits.as_array()?.is_empty().then_some(())
        })
        .await
        .unwrap();
        let (status, _) = api(&self.stack, &self.bob, "GET", &page.path, None).await;
        assert_eq!(status, 403);
    }

    /// A rebuild from the homeserver reproduces pages, revisions, links and memberships
    /// exactly: with Parvis stopped, a fresh index has the live index's digest.
    async fn rebuild_gives_the_same_index(&mut self) {
        let live = settled_digest(&self.stack).await;
        self.stack.parvis.stop().await;
        let fresh = self.stack.scratch_sqlite_url("rebuilt");
        self.stack.parvis.rebuild_index(Some(&fresh)).await.unwrap();
        assert_eq!(self.stack.parvis.digest(Some(&fresh)).await.unwrap(), live);
    }

    /// Waits until `user` sees an object titled `title` in the list at `path`; returns that
    /// object and the whole list.
    async fn wait_listed(&self, user: &TestUser, path: &str, title: &str) -> (Value, Value) {
        let list = wait_api(&self.stack, user, path, |list| {
            list.as_array()
                .is_some_and(|l| l.iter().any(|object| object["title"] == title))
        })
        .await;
        let object = list
            .as_array()
            .into_iter()
            .flatten()
            .find(|object| object["title"] == title)
            .cloned()
            .unwrap();
        (object, list)
    }

    /// `GET /api/v1/search` for `words` in the community, as `user`.
    async fn search(&self, user: &TestUser, words: &str) -> (u16, Value) {
        let path = format!(
            "/api/v1/search?q={}&community={}",
            urlencode(words),
            urlencode(&self.space)
        );
        api(&self.stack, user, "GET", &path, None).await
    }

    /// Sends the bot command `text` as `user` in `room`; returns the body of the bot's reply.
    async fn reply_to(&self, user: &TestUser, room: &str, text: &str) -> String {
        let bot = self.stack.bot_user_id();
        let command = user.send_text(room, text).await.unwrap();
        let reply = user
            .wait_for_event(room, TIMEOUT, |event| {
                event["sender"] == bot.as_str()
                    && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
                        == command.as_str()
            })
            .await
            .unwrap();
        reply["content"]["body"].as_str().unwrap().to_owned()
    }
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

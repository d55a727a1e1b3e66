//! Hostile members and malformed input, against a real Synapse and the real `parvis` binary:
//! nothing a member writes may stall delivery, forge a community's rooms, make the bot notify
//! a room, or leak what other members may not read. Each step names the attack.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use parvis_tests::{Database, Stack, TestUser, http_client, path_segment, step, wait_for};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

async fn api(
    stack: &Stack,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let url = format!("{}{path}", stack.parvis.url());
    let client = http_client();
    let mut request = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "PUT" => client.put(url),
        "DELETE" => client.delete(url),
        other => panic!("{other}"),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Creates a community for `owner` with the admin token; returns (space, purpose → room).
async fn community(stack: &Stack, owner: &TestUser, name: &str) -> (String, Vec<(String, String)>) {
    let body =
        json!({"name": name, "owner": owner.user_id(), "tools": ["wiki", "faq"]}).to_string();
    let (status, created) = api(
        stack,
        Some(&stack.parvis.tokens().admin_token),
        "POST",
        "/api/v1/communities",
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let space = created["space_id"].as_str().unwrap().to_owned();
    let rooms = created["rooms"]
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
    (space, rooms)
}

fn room<'a>(rooms: &'a [(String, String)], purpose: &str) -> &'a str {
    &rooms.iter().find(|(p, _)| p == purpose).unwrap().1
}

/// Waits until the wiki page `id` of `space` reads as `user`, and returns it.
async fn wait_page(stack: &Stack, user: &TestUser, space: &str, id: &str) -> Value {
    let path = format!("/api/v1/communities/{}/wiki/{id}", path_segment(space));
    wait_for(&format!("page {id}"), TIMEOUT, || {
        let path = path.clone();
        async move {
            let (status, body) = api(stack, Some(user.access_token()), "GET", &path, None).await;
            (status == 200).then_some(body)
        }
    })
    .await
    .unwrap()
}

/// The bot's reply to `event_id` in `room`.
async fn reply_to(stack: &Stack, user: &TestUser, room: &str, event_id: &str) -> Value {
    let bot = stack.bot_user_id();
    user.wait_for_event(room, TIMEOUT, |event| {
        event["sender"] == bot.as_str()
            && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn hostile_members_on_postgres() {
    if parvis_tests::skip_without_postgres() {
        return;
    }
    let s = step("alice_and_mallory_in_a_community", Scenario::start()).await;
    step!(s.quadratic_markdown_and_nul_characters_stall_nothing());
    step!(s.the_bot_is_no_confused_deputy_for_room_mentions());
    step!(s.search_in_a_room_leaks_nothing_its_members_may_not_read());
    step!(s.a_room_of_another_community_cannot_take_the_wiki());
    step!(s.rest_comments_in_an_encrypted_room_are_refused());
    // Stopped, so its PostgreSQL database is dropped.
    s.stack.stop().await;
}

/// What every step of [`hostile_members_on_postgres`] shares.
struct Scenario {
    stack: Stack,
    /// The owner of "Projet Alpha".
    alice: TestUser,
    /// The hostile member: in the space, the wiki and the discussion, not in the FAQ.
    mallory: TestUser,
    space: String,
    wiki: String,
    faq: String,
    discussion: String,
}

impl Scenario {
    /// Alice's community on PostgreSQL; Mallory is a member of the space, the wiki and the
    /// discussion, not of the FAQ.
    async fn start() -> Self {
        let stack = Stack::start(Database::Postgres).await.unwrap();
        let alice = stack.register_user("alice").await.unwrap();
        let mallory = stack.register_user("mallory").await.unwrap();
        let (space, rooms) = community(&stack, &alice, "Projet Alpha").await;
        let (wiki, faq, discussion) = (
            room(&rooms, "wiki").to_owned(),
            room(&rooms, "faq").to_owned(),
            room(&rooms, "discussion").to_owned(),
        );
        for room in [space.as_str(), &wiki, &faq, &discussion] {
            alice.join(room).await.unwrap();
        }
        // Mallory is a member of the space, the wiki and the discussion, not of the FAQ.
        for room in [space.as_str(), &wiki, &discussion] {
            alice.invite(room, mallory.user_id()).await.unwrap();
            mallory.join(room).await.unwrap();
        }
        Self {
            stack,
            alice,
            mallory,
            space,
            wiki,
            faq,
            discussion,
        }
    }

    /// Quadratic markdown: a page of 30,000 `[[` (60 KB, under the event limit) took seconds
    /// to render at every ingest, read and search; a transaction of them was never acknowledged.
    /// Neither it nor NUL characters stall delivery any more, and the page reads quickly.
    async fn quadratic_markdown_and_nul_characters_stall_nothing(&self) {
        let (stack, alice, mallory) = (&self.stack, &self.alice, &self.mallory);
        let (space, wiki) = (&self.space, &self.wiki);
        mallory
            .send_state(
                wiki,
                "org.parvis.wiki.page",
                "quadratic",
                json!({
                    "title": "Crochets", "slug": "crochets", "body": "[[".repeat(30_000),
                }),
            )
            .await
            .unwrap();
        // NUL characters: every PostgreSQL ingest of the transaction failed, forever.
        mallory
            .send_state(wiki, "org.parvis.wiki.page", "nul", json!({
                "title": "Nul\u{0}le", "slug": "nulle", "body": "Avec\u{0} un NUL", "tags": ["a\u{0}b"],
            }))
            .await
            .unwrap();
        // An event after them is delivered: nothing stalled.
        alice
            .send_state(
                wiki,
                "org.parvis.wiki.page",
                "after",
                json!({
                    "title": "Après", "slug": "apres", "body": "Toujours livré.",
                }),
            )
            .await
            .unwrap();
        wait_page(stack, alice, space, "after").await;
        let nul = wait_page(stack, alice, space, "nul").await;
        assert_eq!(nul["title"], "Nulle");
        assert_eq!(nul["body"], "Avec un NUL");
        let started = Instant::now();
        let quadratic = wait_page(stack, alice, space, "quadratic").await;
        assert!(quadratic["html"].as_str().unwrap().starts_with("<p>[[[["));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "reading the page took {:?}",
            started.elapsed()
        );
    }

    /// The bot as a confused deputy: a member who may not notify the room makes the bot quote
    /// `@room`. Its answers and notices carry an explicit, empty `m.mentions`.
    async fn the_bot_is_no_confused_deputy_for_room_mentions(&self) {
        let (stack, mallory) = (&self.stack, &self.mallory);
        let (wiki, discussion) = (&self.wiki, &self.discussion);
        let asked = mallory
            .send_text(discussion, "!parvis search @room réunion")
            .await
            .unwrap();
        let answer = reply_to(stack, mallory, discussion, &asked).await;
        assert!(
            answer["content"]["body"]
                .as_str()
                .unwrap()
                .contains("@room")
        );
        assert_eq!(answer["content"]["m.mentions"], json!({}), "{answer}");
        mallory
            .send_state(
                wiki,
                "org.parvis.wiki.page",
                "ping",
                json!({
                    "title": "@room venez voir", "slug": "venez-voir", "body": "…",
                }),
            )
            .await
            .unwrap();
        let bot = stack.bot_user_id();
        let notice = mallory
            .wait_for_event(wiki, TIMEOUT, |event| {
                event["sender"] == bot.as_str()
                    && event["content"]["body"]
                        .as_str()
                        .is_some_and(|body| body.contains("@room venez voir"))
            })
            .await
            .unwrap();
        assert_eq!(notice["content"]["m.mentions"], json!({}), "{notice}");
    }

    /// Search answered in a room with results from rooms some of its members cannot read:
    /// Alice's FAQ entry, in a room Mallory has not joined, stays out of the answer there.
    async fn search_in_a_room_leaks_nothing_its_members_may_not_read(&self) {
        let (stack, alice) = (&self.stack, &self.alice);
        let (space, faq, discussion) = (&self.space, &self.faq, &self.discussion);
        alice
            .send_state(
                faq,
                "org.parvis.faq.entry",
                "secret",
                json!({
                    "question": "Budget confidentiel de la réorganisation ?", "answer": "Réservé.",
                }),
            )
            .await
            .unwrap();
        let search = format!(
            "/api/v1/search?q=confidentiel&community={}",
            path_segment(space)
        );
        wait_for("the FAQ entry searchable", TIMEOUT, || {
            let search = search.clone();
            async move {
                let (_, hits) = api(stack, Some(alice.access_token()), "GET", &search, None).await;
                hits.as_array()
                    .is_some_and(|hits| !hits.is_empty())
                    .then_some(())
            }
        })
        .await
        .unwrap();
        let asked = alice
            .send_text(discussion, "!parvis search confidentiel")
            .await
            .unwrap();
        let answer = reply_to(stack, alice, discussion, &asked).await;
        let body = answer["content"]["body"].as_str().unwrap();
        assert!(!body.contains("Budget confidentiel"), "leaked: {body}");
    }

    /// A room of one community attached to another: Mallory, owner of her own community, points
    /// its wiki room at Alice's space. Alice's community keeps its own wiki.
    async fn a_room_of_another_community_cannot_take_the_wiki(&self) {
        let (stack, alice, mallory) = (&self.stack, &self.alice, &self.mallory);
        let (space, wiki) = (&self.space, &self.wiki);
        let (mallory_space, mallory_rooms) = community(stack, mallory, "Projet Mallory").await;
        let mallory_wiki = room(&mallory_rooms, "wiki").to_owned();
        mallory.join(&mallory_space).await.unwrap();
        mallory.join(&mallory_wiki).await.unwrap();
        mallory
            .send_state(
                &mallory_wiki,
                "org.parvis.community.room",
                "",
                json!({
                    "community": space, "purpose": "wiki",
                }),
            )
            .await
            .unwrap();
        alice
            .send_state(
                wiki,
                "org.parvis.wiki.page",
                "marker",
                json!({
                    "title": "Repère", "slug": "repere", "body": "…",
                }),
            )
            .await
            .unwrap();
        wait_page(stack, alice, space, "marker").await;
        let (status, overview) = api(
            stack,
            Some(alice.access_token()),
            "GET",
            &format!("/api/v1/communities/{}", path_segment(space)),
            None,
        )
        .await;
        assert_eq!(status, 200, "{overview}");
        let wikis: Vec<&Value> = overview["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|room| room[1] == "wiki")
            .collect();
        assert_eq!(wikis.len(), 1, "{overview}");
        assert_eq!(wikis[0][0], wiki.as_str(), "hijacked: {overview}");
    }

    /// REST comments in an encrypted room were posted in clear: once the wiki is encrypted,
    /// Parvis refuses them.
    async fn rest_comments_in_an_encrypted_room_are_refused(&self) {
        let (stack, alice) = (&self.stack, &self.alice);
        alice
            .send_state(
                &self.wiki,
                "m.room.encryption",
                "",
                json!({"algorithm": "m.megolm.v1.aes-sha2"}),
            )
            .await
            .unwrap();
        let comments = format!(
            "/api/v1/communities/{}/wiki/after/comments",
            path_segment(&self.space)
        );
        let (status, refused) = wait_for("the room known encrypted", TIMEOUT, || {
            let comments = comments.clone();
            async move {
                let answer = api(
                    stack,
                    Some(alice.access_token()),
                    "POST",
                    &comments,
                    Some(r#"{"body": "en clair ?"}"#),
                )
                .await;
                (answer.0 != 201).then_some(answer)
            }
        })
        .await
        .unwrap();
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (403, Some("ORG.PARVIS_ENCRYPTED_ROOM")),
            "{refused}"
        );
    }
}

#[tokio::test]
async fn malformed_requests_get_matrix_errors_and_the_bot_comes_back() {
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let token = Some(alice.access_token());

    // axum's own plain-text rejections (400/415/422) had no errcode.
    let cases = [
        (
            "malformed JSON",
            token,
            "POST",
            "/api/v1/render",
            Some("{oops"),
            400,
            "M_NOT_JSON",
        ),
        (
            "wrong shape",
            token,
            "POST",
            "/api/v1/render",
            Some(r#"{"markdown": 3}"#),
            400,
            "M_BAD_JSON",
        ),
        (
            "bad query",
            token,
            "GET",
            "/api/v1/search?q=a&limit=lots",
            None,
            400,
            "M_INVALID_PARAM",
        ),
        (
            "missing query",
            token,
            "GET",
            "/api/v1/search",
            None,
            400,
            "M_INVALID_PARAM",
        ),
        // Authentication first: no token and a bad query is 401, not 400.
        (
            "no token, bad query",
            None,
            "GET",
            "/api/v1/search?limit=lots",
            None,
            401,
            "M_MISSING_TOKEN",
        ),
        (
            "wrong token",
            Some("nope"),
            "GET",
            "/api/v1/communities/mine",
            None,
            401,
            "M_UNKNOWN_TOKEN",
        ),
        (
            "unknown path",
            token,
            "GET",
            "/api/v1/nothing",
            None,
            404,
            "M_UNRECOGNIZED",
        ),
        (
            "wrong method",
            token,
            "DELETE",
            "/api/v1/render",
            None,
            405,
            "M_UNRECOGNIZED",
        ),
        (
            "too large",
            token,
            "POST",
            "/api/v1/render",
            Some(&*Box::leak(
                format!(r#"{{"markdown": "{}"}}"#, "a".repeat(1_200_000)).into_boxed_str(),
            )),
            413,
            "M_TOO_LARGE",
        ),
    ];
    for (attack, token, method, path, body, status, errcode) in cases {
        let (got, answer) = api(&stack, token, method, path, body).await;
        assert_eq!(
            (got, answer["errcode"].as_str()),
            (status, Some(errcode)),
            "{attack}: {answer}"
        );
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{attack}"
        );
    }
    // Internal texts stay inside: a failing homeserver call says "try again", not where.
    let (_, metrics) = api(&stack, None, "GET", "/metrics", None).await;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("parvis_transactions_acknowledged_total"),
        "{metrics}"
    );

    // Kicked and invited back, the bot rejoins without a restart (it used to believe it was
    // still joined until it restarted).
    let bot = stack.bot_user_id();
    let dm = alice.create_private_room(&bot).await.unwrap();
    alice.wait_for_member(&dm, &bot, TIMEOUT).await.unwrap();
    alice.kick(&dm, &bot).await.unwrap();
    alice.invite(&dm, &bot).await.unwrap();
    alice.wait_for_member(&dm, &bot, TIMEOUT).await.unwrap();
    let asked = alice.send_text(&dm, "!parvis help").await.unwrap();
    reply_to(&stack, &alice, &dm, &asked).await;
}

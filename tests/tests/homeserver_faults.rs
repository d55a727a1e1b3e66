//! A homeserver that fails part of the time, against the real `parvis` binary: a rebuild that
//! cannot read one room keeps the old index, the periodic reconcile goes on past a room the
//! homeserver cannot serve, a community creation retried after a lost answer makes one space,
//! and invitations from other servers are declined unless configured. Synapse does everything;
//! a proxy in front of it ([`FaultyHomeserver`]) only makes chosen requests fail.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use parvis_tests::{
    Database, Fault, FaultyHomeserver, Stack, TestUser,
    api::{api, create_community, jobs_done, room_of, settled_digest, wait_api},
    http_client, wait_for,
};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(60);

/// A community of `owner` with a wiki and a blog, a page in one and a post in the other.
struct Community {
    space: String,
    wiki: String,
    blog: String,
    page: String,
    post: String,
}

async fn community_with_a_page_and_a_post(stack: &Stack, owner: &TestUser) -> Community {
    let created = create_community(stack, owner, &["wiki", "blog"]).await;
    let room = |purpose: &str| room_of(&created, purpose);
    let space = created["space_id"].as_str().unwrap().to_owned();
    owner.join(&space).await.unwrap();
    for purpose in ["home", "discussion", "wiki", "blog"] {
        owner.join(&room(purpose)).await.unwrap();
    }
    let pages = format!("/api/v1/communities/{space}/wiki");
    wait_api(stack, owner, &pages, |_| true).await;
    let (status, page) = api(
        stack,
        owner,
        "POST",
        &pages,
        Some(json!({"title": "Accueil", "body": "Bienvenue."})),
    )
    .await;
    assert_eq!(status, 201, "{page}");
    let (status, post) = api(
        stack,
        owner,
        "POST",
        &format!("/api/v1/communities/{space}/blog"),
        Some(json!({"title": "Lancement", "body": "C'est parti.", "status": "published", "published_at": 1})),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    Community {
        wiki: room("wiki"),
        blog: room("blog"),
        space,
        page: page["id"].as_str().unwrap().to_owned(),
        post: post["id"].as_str().unwrap().to_owned(),
    }
}

/// A proxy in front of the stack's Synapse that cannot serve the state of `room`.
async fn homeserver_failing_state_of(stack: &Stack, room: &str) -> FaultyHomeserver {
    let homeserver = FaultyHomeserver::start(&stack.synapse.base_url())
        .await
        .unwrap();
    homeserver.inject(Fault::on("GET", &format!("/rooms/{room}/state")));
    homeserver
}

/// The IDs of the objects `GET path` lists, as `user`; empty when it does not answer 200.
async fn listed(stack: &Stack, user: &TestUser, path: &str) -> Vec<String> {
    let (status, body) = api(stack, user, "GET", path, None).await;
    if status != 200 {
        return Vec::new();
    }
    body.as_array()
        .map(|objects| {
            objects
                .iter()
                .filter_map(|object| object["object_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_rebuild_failing_half_way_keeps_the_old_index_on_sqlite() {
    a_rebuild_failing_half_way_keeps_the_old_index(Database::Sqlite).await;
}

#[tokio::test]
async fn a_rebuild_failing_half_way_keeps_the_old_index_on_postgres() {
    if parvis_tests::skip_without_postgres() {
        return;
    }
    a_rebuild_failing_half_way_keeps_the_old_index(Database::Postgres).await;
}

async fn a_rebuild_failing_half_way_keeps_the_old_index(database: Database) {
    let mut stack = Stack::start(database).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let community = community_with_a_page_and_a_post(&stack, &alice).await;
    let live = settled_digest(&stack).await;
    stack.parvis.stop().await;

    // The homeserver cannot serve the blog room's state during the rebuild.
    let homeserver = homeserver_failing_state_of(&stack, &community.blog).await;
    stack
        .parvis
        .set_env("PARVIS__HOMESERVER__URL", homeserver.url());
    let error = stack.parvis.rebuild_index(None).await.unwrap_err();
    assert!(
        error.to_string().contains("could not be read"),
        "the rebuild says which rooms failed: {error}"
    );
    assert!(
        homeserver
            .requests()
            .iter()
            .any(|request| request.contains(&format!("/rooms/{}/state", community.wiki))),
        "the rebuild read the other rooms"
    );
    assert_eq!(
        stack.parvis.digest(None).await.unwrap(),
        live,
        "the old index is left as it was"
    );

    // Once the homeserver serves every room, the rebuild completes and is the same index.
    homeserver.heal();
    stack.parvis.rebuild_index(None).await.unwrap();
    assert_eq!(stack.parvis.digest(None).await.unwrap(), live);
    stack.stop().await;
}

#[tokio::test]
async fn reconcile_goes_on_past_a_room_the_homeserver_cannot_serve() {
    let mut stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let community = community_with_a_page_and_a_post(&stack, &alice).await;
    let (pages, posts) = (
        format!("/api/v1/communities/{}/wiki", community.space),
        format!("/api/v1/communities/{}/blog", community.space),
    );
    settled_digest(&stack).await;
    stack.parvis.stop().await;

    // Parvis starts on an empty index, which its first reconcile fills from the homeserver,
    // while the homeserver cannot serve the blog room.
    let homeserver = homeserver_failing_state_of(&stack, &community.blog).await;
    let fresh = stack.scratch_sqlite_url("fresh");
    for (name, value) in [
        ("PARVIS__HOMESERVER__URL", homeserver.url()),
        ("PARVIS__DATABASE__URL", fresh.as_str()),
        ("PARVIS__INDEX__RECONCILE_INTERVAL_SECS", "2"),
    ] {
        stack.parvis.set_env(name, value);
    }
    stack.parvis.start().await.unwrap();
    wait_api(&stack, &alice, &pages, |body| {
        body.as_array()
            .is_some_and(|pages| pages.iter().any(|page| page["object_id"] == community.page))
    })
    .await;
    assert!(
        !listed(&stack, &alice, &posts)
            .await
            .contains(&community.post),
        "the blog room was not read"
    );

    // The next pass reads the room the homeserver serves again.
    homeserver.heal();
    wait_api(&stack, &alice, &posts, |body| {
        body.as_array()
            .is_some_and(|posts| posts.iter().any(|post| post["object_id"] == community.post))
    })
    .await;

    stack.stop().await;
}

#[tokio::test]
async fn a_community_creation_retried_after_a_lost_answer_makes_one_space() {
    let mut stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    stack.parvis.stop().await;
    let homeserver = FaultyHomeserver::start(&stack.synapse.base_url())
        .await
        .unwrap();
    // The second room is created, but its answer never reaches Parvis; the job fails there
    // and runs again.
    homeserver.inject(
        Fault::on("POST", "/createRoom")
            .after(1)
            .times(1)
            .answer_lost(),
    );
    stack
        .parvis
        .set_env("PARVIS__HOMESERVER__URL", homeserver.url());
    stack.parvis.start().await.unwrap();

    let bot = stack.bot_user_id();
    let dm = alice.create_dm(&bot).await.unwrap();
    alice.wait_for_member(&dm, &bot, TIMEOUT).await.unwrap();
    alice
        .send_text(
            &dm,
            r#"!parvis community create "Projet Alpha" --tools wiki"#,
        )
        .await
        .unwrap();
    let reply = alice
        .wait_for_event(&dm, TIMEOUT, |event| {
            event["sender"] == bot.as_str()
                && event["content"]["body"]
                    .as_str()
                    .is_some_and(|body| body.starts_with('✅'))
        })
        .await
        .unwrap();
    assert!(
        homeserver
            .requests()
            .iter()
            .filter(|request| request.contains("/createRoom"))
            .count()
            >= 5,
        "the job ran again after the lost answer"
    );
    wait_for("the job queue to empty", TIMEOUT, || async {
        jobs_done(&stack).await.then_some(())
    })
    .await
    .unwrap();
    // One space and its three rooms (home, discussion, wiki): Alice is invited to each once.
    let invites = wait_for("four invitations", TIMEOUT, || async {
        let invites = alice.invited_rooms().await.ok()?;
        (invites.len() >= 4).then_some(invites)
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        alice.invited_rooms().await.unwrap().len(),
        4,
        "one community, not two: {invites:?} ({})",
        reply["content"]["body"]
    );
    for room in &invites {
        alice.join(room).await.unwrap();
    }
    let mine = wait_api(&stack, &alice, "/api/v1/communities/mine", |mine| {
        mine.as_array().is_some_and(|mine| !mine.is_empty())
    })
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    stack.stop().await;
}

/// Pushes, as the homeserver would, an invitation of the bot into `room` by `inviter`.
async fn push_invitation(stack: &Stack, txn: &str, room: &str, inviter: &str) {
    let event = json!({
        "type": "m.room.member",
        "state_key": stack.bot_user_id(),
        "sender": inviter,
        "room_id": room,
        "event_id": format!("${txn}"),
        "origin_server_ts": 1_700_000_000_000_u64,
        "content": {"membership": "invite"},
    });
    let response = http_client()
        .put(format!(
            "{}/_matrix/app/v1/transactions/{txn}",
            stack.parvis.url()
        ))
        .bearer_auth(&stack.parvis.tokens().hs_token)
        .json(&json!({"events": [event]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Whether the homeserver was asked to make the bot join `room`.
fn asked_to_join(homeserver: &FaultyHomeserver, room: &str) -> bool {
    homeserver
        .requests()
        .iter()
        .any(|request| request.contains(room) && request.ends_with("/join"))
}

#[tokio::test]
async fn invitations_from_other_servers_are_declined_unless_allowed() {
    let mut stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    stack.parvis.stop().await;
    let homeserver = FaultyHomeserver::start(&stack.synapse.base_url())
        .await
        .unwrap();
    stack
        .parvis
        .set_env("PARVIS__HOMESERVER__URL", homeserver.url());
    stack.parvis.start().await.unwrap();

    // Another server's user invites the bot (a federated invitation, as Synapse would pass it
    // on): declined, the bot leaves instead of joining.
    let remote_room = "!forged1:elsewhere.example";
    push_invitation(&stack, "invite1", remote_room, "@mallory:elsewhere.example").await;
    wait_for("the invitation to be declined", TIMEOUT, || async {
        homeserver
            .requests()
            .iter()
            .any(|request| request.contains(remote_room) && request.ends_with("/leave"))
            .then_some(())
    })
    .await
    .unwrap();
    assert!(!asked_to_join(&homeserver, remote_room));

    // A local user's invitation is accepted.
    let room = alice
        .create_private_room(&stack.bot_user_id())
        .await
        .unwrap();
    alice
        .wait_for_member(&room, &stack.bot_user_id(), TIMEOUT)
        .await
        .unwrap();

    // With that server allowed, its users' invitations are accepted.
    stack.parvis.stop().await;
    stack
        .parvis
        .add_config_section("[bot]\ninvite_servers = [\"elsewhere.example\"]\n")
        .unwrap();
    stack.parvis.start().await.unwrap();
    let allowed_room = "!forged2:elsewhere.example";
    push_invitation(&stack, "invite2", allowed_room, "@amelie:elsewhere.example").await;
    wait_for("the bot to try to join", TIMEOUT, || async {
        asked_to_join(&homeserver, allowed_room).then_some(())
    })
    .await
    .unwrap();
    stack.stop().await;
}

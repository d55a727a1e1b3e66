//! Likes and recommendations, against a real Synapse and the real `parvis` binary: one person
//! reacts as Element does (an `m.reaction` on the bot's notice, from their own client), the
//! other through the web app's API; the counts follow, survive `rebuild-index`, and a redacted
//! reaction uncounts.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use parvis_tests::{
    Database, Stack, TestUser,
    api::{api, create_community, room_of, settled_digest, wait_api},
};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The bot's notice about the revision `event_id`, as Element users see it.
async fn notice_about(stack: &Stack, user: &TestUser, room: &str, event_id: &str) -> String {
    let bot = stack.bot_user_id();
    let notice = user
        .wait_for_event(room, TIMEOUT, |event| {
            event["sender"] == bot.as_str()
                && event["content"]["m.relates_to"]["rel_type"] == "m.reference"
                && event["content"]["m.relates_to"]["event_id"] == event_id
        })
        .await
        .unwrap();
    assert_eq!(notice["content"]["msgtype"], "m.notice");
    notice["event_id"].as_str().unwrap().to_owned()
}

fn likes_are(likes: i64, recommendations: i64) -> impl Fn(&Value) -> bool {
    move |summary| summary["likes"] == likes && summary["recommendations"] == recommendations
}

#[tokio::test]
async fn likes_on_sqlite() {
    likes_from_element_and_the_web_app(Database::Sqlite).await;
}

#[tokio::test]
async fn likes_on_postgres() {
    if parvis_tests::skip_without_postgres() {
        return;
    }
    likes_from_element_and_the_web_app(Database::Postgres).await;
}

async fn likes_from_element_and_the_web_app(database: Database) {
    let mut stack = Stack::start(database).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let bob = stack.register_user("bob").await.unwrap();
    let created = create_community(&stack, &alice, &["wiki", "blog"]).await;
    let space = created["space_id"].as_str().unwrap().to_owned();
    let (wiki, blog) = (room_of(&created, "wiki"), room_of(&created, "blog"));
    alice.join(&space).await.unwrap();
    for room in [
        &wiki,
        &blog,
        &room_of(&created, "home"),
        &room_of(&created, "discussion"),
    ] {
        alice.join(room).await.unwrap();
    }
    for room in [&space, &wiki, &blog] {
        alice.invite(room, bob.user_id()).await.unwrap();
        bob.join(room).await.unwrap();
    }

    // Alice writes a wiki page and a blog post.
    let pages = format!("/api/v1/communities/{space}/wiki");
    let posts = format!("/api/v1/communities/{space}/blog");
    wait_api(&stack, &alice, &pages, |_| true).await;
    let (status, page) = api(
        &stack,
        &alice,
        "POST",
        &pages,
        Some(json!({"title": "Accueil", "body": "Bienvenue."})),
    )
    .await;
    assert_eq!(status, 201, "{page}");
    let (status, post) = api(&stack, &alice, "POST", &posts, Some(json!({"title": "Lancement", "body": "C'est parti.", "status": "published", "published_at": 1}))).await;
    assert_eq!(status, 201, "{post}");
    let page_likes = format!("{pages}/{}/likes", page["id"].as_str().unwrap());
    let post_likes = format!("{posts}/{}/likes", post["id"].as_str().unwrap());
    wait_api(&stack, &bob, &page_likes, likes_are(0, 0)).await;
    wait_api(&stack, &bob, &post_likes, likes_are(0, 0)).await;

    // Bob, in Element: 👍 on the notice about the page, ⭐ on the one about the post.
    let page_notice = notice_about(&stack, &bob, &wiki, page["event_id"].as_str().unwrap()).await;
    let post_notice = notice_about(&stack, &bob, &blog, post["event_id"].as_str().unwrap()).await;
    let annotation = |target: &str, key: &str| json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}});
    let bob_like = bob
        .send_event(&wiki, "m.reaction", annotation(&page_notice, "👍️"))
        .await
        .unwrap();
    bob.send_event(&blog, "m.reaction", annotation(&post_notice, "⭐"))
        .await
        .unwrap();
    // A reaction that is neither 👍 nor ⭐ counts for nothing.
    bob.send_event(&wiki, "m.reaction", annotation(&page_notice, "🎉"))
        .await
        .unwrap();

    // Alice, in the web app: likes the page, recommends the post; asking twice changes nothing.
    let (status, liked) = api(&stack, &alice, "PUT", &format!("{page_likes}/like"), None).await;
    assert_eq!(status, 200, "{liked}");
    let (status, recommended) = api(
        &stack,
        &alice,
        "PUT",
        &format!("{post_likes}/recommend"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{recommended}");
    let summary = wait_api(&stack, &alice, &page_likes, likes_are(2, 0)).await;
    assert_eq!(summary["mine"]["like"], liked["event_id"], "{summary}");
    assert_eq!(summary["mine"]["recommend"], Value::Null, "{summary}");
    let (status, again) = api(&stack, &alice, "PUT", &format!("{page_likes}/like"), None).await;
    assert_eq!((status, &again["event_id"]), (200, &liked["event_id"]));
    wait_api(&stack, &bob, &post_likes, likes_are(0, 2)).await;
    let (status, unknown) = api(&stack, &alice, "PUT", &format!("{page_likes}/love"), None).await;
    assert_eq!(
        (status, unknown["errcode"].as_str()),
        (404, Some("M_NOT_FOUND"))
    );

    // The community's home shows the most recommended first.
    let home = wait_api(
        &stack,
        &bob,
        &format!("/api/v1/communities/{space}/recommended"),
        |list| {
            list["objects"]
                .as_array()
                .is_some_and(|objects| objects.len() == 2)
        },
    )
    .await;
    let titles: Vec<(&str, &str, i64, i64)> = home["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|object| {
            (
                object["tool"].as_str().unwrap(),
                object["title"].as_str().unwrap(),
                object["recommendations"].as_i64().unwrap(),
                object["likes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        titles,
        [("blog", "Lancement", 2, 0), ("wiki", "Accueil", 0, 2)]
    );

    // Taken back: Bob redacts his 👍 in Element, Alice her ⭐ in the web app.
    bob.redact(&wiki, &bob_like).await.unwrap();
    wait_api(&stack, &bob, &page_likes, likes_are(1, 0)).await;
    let (status, taken_back) = api(
        &stack,
        &alice,
        "DELETE",
        &format!("{post_likes}/recommend"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{taken_back}");
    assert_eq!(taken_back["redacted"], json!([recommended["event_id"]]));
    let summary = wait_api(&stack, &alice, &post_likes, likes_are(0, 1)).await;
    assert_eq!(summary["mine"]["recommend"], Value::Null);

    // A rebuild from the homeserver counts the same.
    let live = settled_digest(&stack).await;
    stack.parvis.stop().await;
    let fresh = stack.scratch_sqlite_url("rebuilt");
    stack.parvis.rebuild_index(Some(&fresh)).await.unwrap();
    assert_eq!(stack.parvis.digest(Some(&fresh)).await.unwrap(), live);
    stack.stop().await;
}

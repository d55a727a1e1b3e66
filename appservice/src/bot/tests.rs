//! The bot's jobs on their own, over a SQLite index and the fake homeserver
//! (`crate::fake_homeserver`): what they do when the homeserver fails in ways a real one cannot
//! be made to on cue. What they send is proven against Synapse in `tests/`.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use parvis_homeserver_bridge::HomeserverClient;
use ruma::{owned_event_id, owned_room_id, owned_server_name, owned_user_id, room_id};
use serde_json::{Value, json};
use sha2::Digest;

use super::*;
use crate::{
    fake_homeserver::{FakeHomeserver, internal_error},
    projection::RoomEvent,
    store::tests::{community_space, event, identity, open_sqlite, wiki_room},
};

const SPACE: &str = "!space:hs";
const WIKI: &str = "!wiki:hs";

/// A bot over a fresh index holding a community whose wiki the bot created, with `pages`.
struct Fixture {
    bot: Bot,
    index: Index,
    homeserver: FakeHomeserver,
    _dir: tempfile::TempDir,
}

async fn fixture(pages: Vec<RoomEvent>) -> Fixture {
    let homeserver = FakeHomeserver::start().await;
    let (sqlite, dir) = open_sqlite().await.unwrap();
    let index = Index::Sqlite(sqlite);
    let mut events = community_space(SPACE);
    events.extend(wiki_room(WIKI, SPACE));
    events.extend(pages);
    index.ingest(&identity(), &events).await.unwrap();
    // The jobs the ingest queued are run by hand below, one at a time.
    while let Some(queued) = index.next_job(i64::MAX - 1).await.unwrap() {
        index.complete_job(queued.id).await.unwrap();
    }
    Fixture {
        bot: bot_over(&homeserver, index.clone()),
        index,
        homeserver,
        _dir: dir,
    }
}

/// Parvis's bot (`@parvis:hs`, token `as-token`, no encryption) over `index`, talking to
/// `homeserver`: for the tests of its jobs and of the API handlers.
pub(crate) fn bot_over(homeserver: &FakeHomeserver, index: Index) -> Bot {
    let client = HomeserverClient::new(&homeserver.url, "as-token").unwrap();
    let intents = Intents::new(client, owned_user_id!("@parvis:hs"), true);
    Bot::new(
        intents,
        index,
        identity(),
        owned_server_name!("hs"),
        Arc::new(Notify::new()),
        "http://parvis.test".to_owned(),
        None,
    )
}

fn page(event_id: &str, key: &str, content: Value) -> RoomEvent {
    event(
        event_id,
        WIKI,
        "@alice:hs",
        "org.parvis.wiki.page",
        Some(key),
        content,
    )
}

fn announce() -> Job {
    Job::Announce {
        room_id: owned_room_id!("!wiki:hs"),
        event_id: owned_event_id!("$v1"),
    }
}

/// A notice the homeserver failed to take is sent again under the same transaction ID, so a
/// homeserver that did post it the first time (and only lost its answer) posts it once.
#[tokio::test]
async fn an_announcement_is_retried_under_one_transaction_id() {
    let fixture = fixture(vec![page(
        "$v1",
        "p1",
        json!({"title": "Budget 2027", "body": "Lignes."}),
    )])
    .await;
    fixture.homeserver.fail_next(internal_error());
    let error = fixture.bot.run(&announce(), 0).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(fixture.homeserver.sent().is_empty());

    fixture.bot.run(&announce(), 1).await.unwrap();
    fixture.bot.run(&announce(), 2).await.unwrap();
    let sent = fixture.homeserver.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].token, "as-token");
    assert_eq!(sent[0].request, "send !wiki:hs m.room.message");
    assert_eq!(
        sent[0].txn_id, sent[1].txn_id,
        "a job run twice sends under one transaction ID"
    );
    assert_eq!(
        sent[0].txn_id,
        derived_txn_id(&owned_event_id!("$v1"), "announce").as_str()
    );
    let notice = &sent[0].body;
    assert_eq!(notice["msgtype"], "m.notice");
    assert_eq!(
        notice["body"],
        "📄 @alice:hs created the wiki page “Budget 2027” — https://matrix.to/#/!wiki:hs/$v1"
    );
    assert_eq!(
        notice["m.relates_to"],
        json!({"rel_type": "m.reference", "event_id": "$v1"})
    );
    assert_eq!(notice["m.mentions"], json!({}), "the bot mentions no one");

    // The notice is indexed as soon as it is sent, not when the homeserver delivers it back
    // (after its backoff, if Parvis was unreachable): a like on it counts for the revision.
    let noticed = fixture
        .index
        .tool_rows(
            "SELECT revision_event_id FROM like_notices WHERE event_id = $1",
            vec!["$sent1".into()],
        )
        .await
        .unwrap();
    assert_eq!(noticed, [vec![crate::tools::SqlValue::from("$v1")]]);
}

/// The queue backs a job off when the homeserver may recover (a 500), and parks it when it
/// refused for good (a 403): it is neither lost nor retried forever.
#[tokio::test]
async fn a_failed_job_is_backed_off_or_parked() {
    let fixture = fixture(vec![page(
        "$v1",
        "p1",
        json!({"title": "Budget", "body": "Lignes."}),
    )])
    .await;
    fixture.index.enqueue(&announce()).await.unwrap();
    fixture.homeserver.fail_next(internal_error());
    let before = now_ms();
    assert!(fixture.bot.run_next_job().await.unwrap());
    let due = fixture.index.next_job_due().await.unwrap().unwrap();
    assert!(
        due >= before + 2_000,
        "retried in 2 s at the earliest: {}",
        due - before
    );
    // Not due yet: nothing runs.
    assert!(!fixture.bot.run_next_job().await.unwrap());
    let queued = fixture.index.next_job(due).await.unwrap().unwrap();
    assert_eq!((queued.job, queued.attempts), (announce(), 1));

    let fixture = self::fixture(vec![page(
        "$v1",
        "p1",
        json!({"title": "Budget", "body": "Lignes."}),
    )])
    .await;
    fixture.index.enqueue(&announce()).await.unwrap();
    fixture.homeserver.fail_next((
        StatusCode::FORBIDDEN,
        json!({"errcode": "M_FORBIDDEN", "error": "not in the room"}),
    ));
    assert!(fixture.bot.run_next_job().await.unwrap());
    assert_eq!(
        fixture.index.next_job_due().await.unwrap(),
        None,
        "parked, not due again"
    );
    assert_eq!(fixture.index.pending_jobs(&announce()).await.unwrap(), 0);
    assert!(fixture.homeserver.sent().is_empty());
}

/// A body kept in the media repository is read into the index once the repository answers,
/// and only if it is the body its event describes.
#[tokio::test]
async fn a_body_in_the_media_repository_is_read_when_it_can_be_and_checked() {
    let body = format!("{} Annexe budgétaire.", "Texte long. ".repeat(5_000));
    let media = |url: &str, bytes: &[u8]| json!({"url": url, "size": bytes.len(), "sha256": hex::encode(sha2::Sha256::digest(bytes))});
    let fixture = fixture(vec![
        page(
            "$large",
            "large",
            json!({"title": "Grand", "body": "", "body_media": media("mxc://hs/large", body.as_bytes())}),
        ),
        page(
            "$forged",
            "forged",
            json!({"title": "Autre", "body": "", "body_media": media("mxc://hs/forged", b"what the event says")}),
        ),
    ])
    .await;
    let fetch = |key: &str, event_id: &str, url: &str| Job::FetchBody {
        room_id: owned_room_id!("!wiki:hs"),
        kind: PublicationKind::of(&crate::tools::wiki::PUBLICATION),
        object_id: key.to_owned(),
        event_id: OwnedEventId::try_from(event_id).unwrap(),
        url: url.to_owned(),
    };
    let stored_body = |key: &'static str| {
        let index = fixture.index.clone();
        async move {
            index
                .publication(
                    room_id!("!wiki:hs"),
                    PublicationKind::of(&crate::tools::wiki::PUBLICATION),
                    key,
                )
                .await
                .unwrap()
                .unwrap()
                .body
        }
    };
    let large = fetch("large", "$large", "mxc://hs/large");

    // The repository is down: the job fails so that it is retried, the body stays unread.
    fixture.homeserver.fail_all(Some(internal_error()));
    let error = fixture.bot.run(&large, 0).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(stored_body("large").await, "");

    fixture.homeserver.fail_all(None);
    fixture
        .homeserver
        .put_media("hs", "large", body.clone().into_bytes());
    fixture.bot.run(&large, 1).await.unwrap();
    assert_eq!(stored_body("large").await, body);

    // Bytes that are not what the event's size and SHA-256 say are left out, for good.
    fixture
        .homeserver
        .put_media("hs", "forged", b"something else entirely".to_vec());
    fixture
        .bot
        .run(&fetch("forged", "$forged", "mxc://hs/forged"), 0)
        .await
        .unwrap();
    assert_eq!(stored_body("forged").await, "");
}

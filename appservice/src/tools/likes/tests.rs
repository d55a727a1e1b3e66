//! Likes counted by the index, on both backends: reactions on revisions and on the bot's
//! notices, each person once, uncounted when redacted, forgotten with their room.

#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::{MOST_RECOMMENDED, object_counts_query, own_reactions_query};
use crate::{
    indexer::Indexer,
    projection::RoomEvent,
    store::{
        IndexStore,
        tests::{community_space, event, identity, open_postgres, open_sqlite, wiki_room},
    },
    tools::SqlValue,
};

const SPACE: &str = "!space:hs";
const WIKI: &str = "!wiki:hs";

/// A community with a wiki room holding page `p1` (revision `$v1`), and the bot's notice
/// `$n1` about that revision.
pub(super) fn community() -> Vec<RoomEvent> {
    let mut events = community_space(SPACE);
    let bot = "@parvis:hs";
    events.extend(wiki_room(WIKI, SPACE));
    events.extend([
        event(
            "$v1",
            WIKI,
            "@alice:hs",
            "org.parvis.wiki.page",
            Some("p1"),
            json!({"title": "Accueil", "slug": "accueil", "body": "Bienvenue"}),
        ),
        event(
            "$n1",
            WIKI,
            bot,
            "m.room.message",
            None,
            json!({
                "msgtype": "m.notice",
                "body": "📄 @alice:hs created the wiki page “Accueil”",
                "m.mentions": {},
                "m.relates_to": {"rel_type": "m.reference", "event_id": "$v1"},
            }),
        ),
    ]);
    events
}

fn reaction(id: &str, sender: &str, target: &str, key: &str) -> RoomEvent {
    event(
        id,
        WIKI,
        sender,
        "m.reaction",
        None,
        json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}),
    )
}

fn redaction(id: &str, redacted: &str) -> RoomEvent {
    event(
        id,
        WIKI,
        "@carol:hs",
        "m.room.redaction",
        None,
        json!({"redacts": redacted}),
    )
}

fn object() -> Vec<SqlValue> {
    vec![WIKI.into(), "wiki_page".into(), "p1".into()]
}

async fn counts<S: IndexStore>(store: &S) -> (i64, i64) {
    let rows = store
        .tool_rows(&object_counts_query(), object())
        .await
        .unwrap();
    let count = |name: &str| {
        rows.iter()
            .find(|row| row[0].as_text() == Some(name))
            .and_then(|row| row[1].as_integer())
            .unwrap_or(0)
    };
    (count("like"), count("recommend"))
}

async fn likes_are_counted_per_person_and_uncounted_when_redacted<S: IndexStore>(store: S) {
    store.ingest(&identity(), &community()).await.unwrap();
    assert_eq!(counts(&store).await, (0, 0));
    store
        .ingest(
            &identity(),
            &[
                // Alice likes the revision in the web app and the notice in Element: once.
                reaction("$r1", "@alice:hs", "$v1", "👍"),
                reaction("$r2", "@alice:hs", "$n1", "👍️"),
                reaction("$r3", "@bob:hs", "$v1", "⭐"),
                reaction("$r4", "@carol:hs", "$n1", "👍🏽"),
                // Not about the object, not a like.
                reaction("$r5", "@dave:hs", "$elsewhere", "👍"),
                reaction("$r6", "@dave:hs", "$v1", "🎉"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(counts(&store).await, (2, 1));

    let mut mine = object();
    mine.push("@alice:hs".into());
    let own = store.tool_rows(&own_reactions_query(), mine).await.unwrap();
    let own: Vec<(&str, &str)> = own
        .iter()
        .map(|row| (row[0].as_text().unwrap(), row[1].as_text().unwrap()))
        .collect();
    assert_eq!(own, [("like", "$r1"), ("like", "$r2")]);

    let recommended = store
        .tool_rows(MOST_RECOMMENDED, vec![SPACE.into(), 10.into()])
        .await
        .unwrap();
    assert_eq!(
        recommended,
        [vec![
            SqlValue::from(WIKI),
            "wiki_page".into(),
            "p1".into(),
            "Accueil".into(),
            SqlValue::Integer(1),
            SqlValue::Integer(2),
        ]]
    );

    let before = store.digest().await.unwrap();
    store
        .ingest(&identity(), &[redaction("$x1", "$r4")])
        .await
        .unwrap();
    assert_eq!(counts(&store).await, (1, 1), "Carol's like is redacted");
    assert_ne!(
        store.digest().await.unwrap(),
        before,
        "the digest covers likes"
    );

    // Re-reading the room's state keeps its history, likes with it; leaving forgets them.
    store
        .apply_snapshot(&identity(), &WIKI.try_into().unwrap(), &community()[4..])
        .await
        .unwrap();
    assert_eq!(counts(&store).await, (1, 1));
    store.forget_room(&WIKI.try_into().unwrap()).await.unwrap();
    assert!(
        store
            .tool_rows("SELECT event_id FROM likes ORDER BY event_id", Vec::new())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn sqlite_counts_likes() {
    let (store, _guard) = open_sqlite().await.unwrap();
    likes_are_counted_per_person_and_uncounted_when_redacted(store).await;
}

#[tokio::test]
async fn postgres_counts_likes() {
    let Some((store, _guard)) = open_postgres().await else {
        return;
    };
    likes_are_counted_per_person_and_uncounted_when_redacted(store).await;
}

//! The conformance suite of [`IndexStore`], run against every backend.
//!
//! PostgreSQL tests use a fresh database per test on the server named by
//! `PARVIS_TEST_POSTGRES_URL` (`scripts/test` sets it); without it they are skipped, so
//! `cargo test` runs on a machine without PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::str::FromStr;

use ruma::{OwnedRoomId, owned_room_id, owned_user_id};
use serde_json::{Value, json};

use super::*;
use crate::{
    indexer::{Indexer, IngestReport},
    projection::{Identity, Job, RoomEvent},
    publishing::{index::PublicationIndex, kind::PublicationKind},
};

pub(crate) fn identity() -> Identity {
    Identity {
        bot: owned_user_id!("@parvis:hs"),
        user_prefix: "parvis_".to_owned(),
    }
}

pub(crate) fn event(
    id: &str,
    room: &str,
    sender: &str,
    event_type: &str,
    state_key: Option<&str>,
    content: Value,
) -> RoomEvent {
    let mut json = json!({
        "event_id": id, "room_id": room, "sender": sender, "type": event_type,
        "origin_server_ts": 1_700_000_000_000u64, "content": content,
    });
    if let Some(key) = state_key {
        json["state_key"] = json!(key);
    }
    serde_json::from_value(json).unwrap()
}

fn replacing(mut event: RoomEvent, replaced: &str) -> RoomEvent {
    event.unsigned.replaces_state = Some(replaced.try_into().unwrap());
    event
}

/// A space the bot created for Alice, with its community state.
pub(crate) fn community_space(room: &str) -> Vec<RoomEvent> {
    vec![
        event(
            &format!("$create{room}"),
            room,
            "@parvis:hs",
            "m.room.create",
            Some(""),
            json!({"room_version": "12", "type": "m.space"}),
        ),
        event(
            &format!("$join{room}"),
            room,
            "@parvis:hs",
            "m.room.member",
            Some("@parvis:hs"),
            json!({"membership": "join"}),
        ),
        event(
            &format!("$community{room}"),
            room,
            "@parvis:hs",
            "org.parvis.community",
            Some(""),
            json!({"name": "Projet Alpha", "tools": ["wiki"], "requested_by": "@alice:hs"}),
        ),
        event(
            &format!("$invite{room}"),
            room,
            "@parvis:hs",
            "m.room.member",
            Some("@alice:hs"),
            json!({"membership": "invite"}),
        ),
    ]
}

/// The wiki room `room` of the community `space`, as the bot creates it (created, joined,
/// marked as the community's wiki).
pub(crate) fn wiki_room(room: &str, space: &str) -> Vec<RoomEvent> {
    let bot = "@parvis:hs";
    vec![
        event(
            "$wcreate",
            room,
            bot,
            "m.room.create",
            Some(""),
            json!({"room_version": "12"}),
        ),
        event(
            "$wjoin",
            room,
            bot,
            "m.room.member",
            Some(bot),
            json!({"membership": "join"}),
        ),
        event(
            "$wroom",
            room,
            bot,
            "org.parvis.community.room",
            Some(""),
            json!({"community": space, "purpose": "wiki"}),
        ),
    ]
}

async fn all_jobs<S: IndexStore>(store: &S) -> Vec<Job> {
    let mut jobs = Vec::new();
    while let Some(queued) = store.next_job(i64::MAX - 1).await.unwrap() {
        store.complete_job(queued.id).await.unwrap();
        jobs.push(queued.job);
    }
    jobs
}

async fn ingest_is_idempotent_per_event<S: IndexStore>(store: S) {
    let events = community_space("!space:hs");
    let first = store.ingest(&identity(), &events).await.unwrap();
    assert_eq!(first.new_events, 4);
    let digest = store.digest().await.unwrap();
    for _ in 0..2 {
        assert_eq!(
            store.ingest(&identity(), &events).await.unwrap(),
            IngestReport::default()
        );
        assert_eq!(store.digest().await.unwrap(), digest);
    }
    let communities = store.communities().await.unwrap();
    assert_eq!(communities.len(), 1);
    assert_eq!(communities[0].name, "Projet Alpha");
    assert_eq!(communities[0].tools, vec!["wiki".to_owned()]);
    assert_eq!(
        store.tracked_rooms().await.unwrap(),
        vec![owned_room_id!("!space:hs")]
    );
}

async fn community_rooms_are_listed_under_their_space<S: IndexStore>(store: S) {
    let mut events = community_space("!space:hs");
    events.push(event(
        "$c2",
        "!wiki:hs",
        "@parvis:hs",
        "m.room.create",
        Some(""),
        json!({"room_version": "12"}),
    ));
    events.push(event(
        "$r2",
        "!wiki:hs",
        "@parvis:hs",
        "org.parvis.community.room",
        Some(""),
        json!({"community": "!space:hs", "purpose": "wiki"}),
    ));
    store.ingest(&identity(), &events).await.unwrap();
    let communities = store.communities().await.unwrap();
    assert_eq!(
        communities[0].rooms,
        vec![(owned_room_id!("!wiki:hs"), "wiki".to_owned())]
    );
}

async fn late_older_state_does_not_win<S: IndexStore>(store: S) {
    store
        .ingest(&identity(), &community_space("!space:hs"))
        .await
        .unwrap();
    let renamed = |id: &str, name: &str| {
        event(
            id,
            "!space:hs",
            "@alice:hs",
            "org.parvis.community",
            Some(""),
            json!({"name": name, "requested_by": "@alice:hs"}),
        )
    };
    // Delivered newest first: B replaced A, then A arrives late.
    store
        .ingest(&identity(), &[replacing(renamed("$B", "Beta"), "$A")])
        .await
        .unwrap();
    store
        .ingest(
            &identity(),
            &[replacing(renamed("$A", "Alpha 2"), "$community!space:hs")],
        )
        .await
        .unwrap();
    assert_eq!(store.communities().await.unwrap()[0].name, "Beta");
}

/// Two members renamed the community at once, each replacing the name they saw: delivered in
/// two transactions, the second is seen to fork the room, which is queued for a reconcile (state
/// resolution, not delivery order, says which name won).
async fn a_forked_key_queues_a_reconcile<S: IndexStore>(store: S) {
    store
        .ingest(&identity(), &community_space("!space:hs"))
        .await
        .unwrap();
    let renamed = |id: &str, name: &str| {
        replacing(
            event(
                id,
                "!space:hs",
                "@alice:hs",
                "org.parvis.community",
                Some(""),
                json!({"name": name, "requested_by": "@alice:hs"}),
            ),
            "$community!space:hs",
        )
    };
    let reconciles = |jobs: Vec<Job>| {
        jobs.iter()
            .filter(|job| matches!(job, Job::ReconcileRoom { .. }))
            .count()
    };
    store
        .ingest(&identity(), &[renamed("$A", "Alpha")])
        .await
        .unwrap();
    assert_eq!(reconciles(all_jobs(&store).await), 0, "a rename in turn");
    store
        .ingest(&identity(), &[renamed("$B", "Beta")])
        .await
        .unwrap();
    assert_eq!(reconciles(all_jobs(&store).await), 1, "a forked rename");
}

async fn redacted_community_state_is_dropped<S: IndexStore>(store: S) {
    store
        .ingest(&identity(), &community_space("!space:hs"))
        .await
        .unwrap();
    let redaction = event(
        "$red",
        "!space:hs",
        "@alice:hs",
        "m.room.redaction",
        None,
        json!({"redacts": "$community!space:hs"}),
    );
    store.ingest(&identity(), &[redaction]).await.unwrap();
    assert!(store.communities().await.unwrap().is_empty());
    assert_eq!(store.tracked_rooms().await.unwrap().len(), 1);
}

async fn rooms_of_others_are_not_communities<S: IndexStore>(store: S) {
    // Mallory makes a room that claims to be a community and invites the bot, which joins.
    let room = "!fake:hs";
    let events = vec![
        event(
            "$m1",
            room,
            "@mallory:hs",
            "m.room.create",
            Some(""),
            json!({"room_version": "12"}),
        ),
        event(
            "$m2",
            room,
            "@mallory:hs",
            "org.parvis.community",
            Some(""),
            json!({"name": "Fake", "requested_by": "@mallory:hs"}),
        ),
        event(
            "$m3",
            room,
            "@mallory:hs",
            "m.room.member",
            Some("@parvis:hs"),
            json!({"membership": "invite"}),
        ),
        event(
            "$m4",
            room,
            "@parvis:hs",
            "m.room.member",
            Some("@parvis:hs"),
            json!({"membership": "join"}),
        ),
    ];
    store.ingest(&identity(), &events).await.unwrap();
    assert_eq!(
        all_jobs(&store).await,
        vec![
            Job::JoinRoom {
                room_id: room.try_into().unwrap(),
                inviter: owned_user_id!("@mallory:hs")
            },
            Job::ReconcileRoom {
                room_id: room.try_into().unwrap()
            },
        ]
    );
    let room_id: OwnedRoomId = room.try_into().unwrap();
    store
        .apply_snapshot(&identity(), &room_id, &events)
        .await
        .unwrap();
    assert!(store.communities().await.unwrap().is_empty());
    assert_eq!(store.tracked_rooms().await.unwrap(), vec![room_id]);
}

async fn snapshot_replaces_state_and_wins_over_late_events<S: IndexStore>(store: S) {
    let space: OwnedRoomId = owned_room_id!("!space:hs");
    let mut events = community_space(space.as_str());
    store.ingest(&identity(), &events[..2]).await.unwrap();
    // The homeserver's current state already has a renamed community.
    events[2] = replacing(
        event(
            "$new",
            space.as_str(),
            "@alice:hs",
            "org.parvis.community",
            Some(""),
            json!({"name": "Gamma", "requested_by": "@alice:hs"}),
        ),
        "$community!space:hs",
    );
    store
        .apply_snapshot(&identity(), &space, &events)
        .await
        .unwrap();
    let old = community_space(space.as_str()).remove(2);
    store.ingest(&identity(), &[old]).await.unwrap();
    assert_eq!(store.communities().await.unwrap()[0].name, "Gamma");
}

async fn backlog_after_a_snapshot_ends_on_the_current_state<S: IndexStore>(store: S) {
    let space: OwnedRoomId = owned_room_id!("!space:hs");
    let renamed = |id: &str, name: &str, replaced: &str| {
        replacing(
            event(
                id,
                space.as_str(),
                "@alice:hs",
                "org.parvis.community",
                Some(""),
                json!({"name": name, "requested_by": "@alice:hs"}),
            ),
            replaced,
        )
    };
    let (s1, s2, s3) = (
        renamed("$S1", "One", "$community!space:hs"),
        renamed("$S2", "Two", "$S1"),
        renamed("$S3", "Three", "$S2"),
    );
    // Parvis was down: the reconcile at start-up sees S3 as current…
    let mut state = community_space(space.as_str());
    state[2] = s3.clone();
    store
        .apply_snapshot(&identity(), &space, &state)
        .await
        .unwrap();
    // …then the homeserver delivers its backlog in order.
    for event in [s1, s2, s3] {
        store.ingest(&identity(), &[event]).await.unwrap();
    }
    assert_eq!(store.communities().await.unwrap()[0].name, "Three");
}

async fn leaving_forgets_the_room<S: IndexStore>(store: S) {
    store
        .ingest(&identity(), &community_space("!space:hs"))
        .await
        .unwrap();
    let leave = event(
        "$leave",
        "!space:hs",
        "@alice:hs",
        "m.room.member",
        Some("@parvis:hs"),
        json!({"membership": "leave"}),
    );
    store.ingest(&identity(), &[leave]).await.unwrap();
    assert!(store.tracked_rooms().await.unwrap().is_empty());
    assert!(store.communities().await.unwrap().is_empty());
    let empty = store.digest().await.unwrap();
    store.clear().await.unwrap();
    assert_eq!(store.digest().await.unwrap(), empty);
}

async fn commands_are_queued_but_not_the_bots_own<S: IndexStore>(store: S) {
    let room = "!dm:hs";
    let text = |id: &str, sender: &str, body: &str| {
        event(
            id,
            room,
            sender,
            "m.room.message",
            None,
            json!({"msgtype": "m.text", "body": body}),
        )
    };
    store
        .ingest(
            &identity(),
            &[
                text("$1", "@alice:hs", "!parvis help"),
                text("$2", "@parvis:hs", "!parvis help"),
                text("$3", "@parvis_ghost:hs", "!parvis help"),
                text("$4", "@alice:hs", "hello"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        all_jobs(&store).await,
        vec![Job::Command {
            room_id: room.try_into().unwrap(),
            event_id: "$1".try_into().unwrap(),
            sender: owned_user_id!("@alice:hs"),
            body: "!parvis help".to_owned(),
        }]
    );
}

/// The jobs waiting in a room are counted across transactions: past the bound, a command is
/// skipped with its reason, while other rooms' commands are still queued.
async fn a_room_cannot_queue_jobs_without_bound<S: IndexStore>(store: S) {
    use crate::projection::{MAX_WAITING_JOBS_PER_ROOM, SkipCause};
    let command = |room: &str, n: u64| {
        event(
            &format!("${}{n}", &room[1..2]),
            room,
            "@mallory:hs",
            "m.room.message",
            None,
            json!({"msgtype": "m.text", "body": "!parvis help"}),
        )
    };
    let first: Vec<RoomEvent> = (0..MAX_WAITING_JOBS_PER_ROOM - 2)
        .map(|n| command("!a:hs", n))
        .collect();
    let report = store.ingest(&identity(), &first).await.unwrap();
    assert!(report.skipped.is_empty());
    let report = store
        .ingest(
            &identity(),
            &[
                command("!a:hs", 1000),
                command("!a:hs", 1001),
                command("!a:hs", 1002),
                command("!b:hs", 1),
            ],
        )
        .await
        .unwrap();
    assert_eq!(report.jobs, 3, "two in !a, one in !b");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].cause, SkipCause::QueueFull);
    assert_eq!(report.skipped[0].event_id.as_deref(), Some("$a1002"));
    let jobs = all_jobs(&store).await;
    let in_room = |room: &str| {
        jobs.iter()
            .filter(|job| job.room_id().is_some_and(|id| id.as_str() == room))
            .count()
    };
    assert_eq!(in_room("!a:hs") as u64, MAX_WAITING_JOBS_PER_ROOM);
    assert_eq!(in_room("!b:hs"), 1);
}

/// The state the index holds of a room compares equal to the events it came from, pages
/// included (their content is kept with their revision): a reconcile of an unchanged room
/// finds nothing to write.
async fn indexed_state_is_the_rooms_state<S: IndexStore>(store: S) {
    use crate::projection::StateChanges;
    let mut events = community_space("!wiki:hs");
    events.push(event(
        "$p",
        "!wiki:hs",
        "@alice:hs",
        "org.parvis.wiki.page",
        Some("p"),
        json!({"title": "Procédure", "body": "Étapes.", "tags": ["rh"]}),
    ));
    store.ingest(&identity(), &events).await.unwrap();
    let room = owned_room_id!("!wiki:hs");
    let indexed = store.room_state(&room).await.unwrap();
    assert_eq!(indexed.len(), events.len());
    let changes = StateChanges::between(&indexed, &room, &events);
    assert!(changes.is_empty(), "{changes:?}");
}

/// A room's access is read in one go (membership, powers, encryption), and its change stamp
/// moves with every write that changes what is indexed from it — and only then.
async fn room_access_and_stamps_follow_the_room<S: IndexStore>(store: S) {
    let room = owned_room_id!("!space:hs");
    let alice = owned_user_id!("@alice:hs");
    let unknown = store
        .room_access(&owned_room_id!("!unknown:hs"), &alice)
        .await
        .unwrap();
    assert_eq!(unknown, RoomAccessState::default());

    let mut events = community_space("!space:hs");
    events.push(event(
        "$levels",
        "!space:hs",
        "@parvis:hs",
        "m.room.power_levels",
        Some(""),
        json!({"users": {"@parvis:hs": 100}, "users_default": 0}),
    ));
    store.ingest(&identity(), &events).await.unwrap();
    let access = store.room_access(&room, &alice).await.unwrap();
    let first = access.stamp.expect("a followed room has a stamp");
    assert_eq!(access.membership, Some(MembershipState::Invite));
    assert_eq!(access.power_levels.unwrap()["users_default"], 0);
    assert_eq!(access.create.unwrap().0, "@parvis:hs");
    assert!(!access.encrypted);
    assert_eq!(
        store.community_rooms(&room).await.unwrap(),
        Some(Vec::new()),
        "a community with no room yet"
    );
    assert_eq!(
        store
            .community_rooms(&owned_room_id!("!unknown:hs"))
            .await
            .unwrap(),
        None
    );

    // Delivered again: nothing changes, the stamp stays.
    store.ingest(&identity(), &events).await.unwrap();
    let again = store.room_access(&room, &alice).await.unwrap();
    assert_eq!(again.stamp, Some(first));

    // Alice joins, the room is encrypted: both show, and the stamp moves.
    let changed = [
        event(
            "$alice",
            "!space:hs",
            "@alice:hs",
            "m.room.member",
            Some("@alice:hs"),
            json!({"membership": "join"}),
        ),
        event(
            "$encryption",
            "!space:hs",
            "@parvis:hs",
            "m.room.encryption",
            Some(""),
            json!({"algorithm": "m.megolm.v1.aes-sha2"}),
        ),
    ];
    store.ingest(&identity(), &changed).await.unwrap();
    let joined = store.room_access(&room, &alice).await.unwrap();
    assert_eq!(joined.membership, Some(MembershipState::Join));
    assert!(joined.encrypted);
    let second = joined.stamp.unwrap();
    assert_ne!(second, first);

    // A tool's writes from outside a transaction (a decrypted event) move it too.
    store.apply_tool_writes(&room, Vec::new()).await.unwrap();
    let third = store
        .room_access(&room, &alice)
        .await
        .unwrap()
        .stamp
        .unwrap();
    assert_ne!(third, second);
    // Another room's write does not.
    store
        .ingest(&identity(), &community_space("!other:hs"))
        .await
        .unwrap();
    assert_eq!(
        store.room_access(&room, &alice).await.unwrap().stamp,
        Some(third)
    );
}

async fn failed_jobs_are_retried_later_then_parked<S: IndexStore>(store: S) {
    let job = Job::ReconcileRoom {
        room_id: owned_room_id!("!r:hs"),
    };
    store.enqueue(&job).await.unwrap();
    let queued = store.next_job(now_ms()).await.unwrap().unwrap();
    assert_eq!((queued.job.clone(), queued.attempts), (job.clone(), 0));
    store
        .retry_job(queued.id, now_ms() + 60_000, "homeserver down")
        .await
        .unwrap();
    assert_eq!(store.next_job(now_ms()).await.unwrap(), None);
    let due = store.next_job_due().await.unwrap().unwrap();
    assert!(due > now_ms());
    for _ in 1..20 {
        store.retry_job(queued.id, 0, "still down").await.unwrap();
    }
    assert_eq!(
        store.next_job(now_ms()).await.unwrap(),
        None,
        "parked after too many attempts"
    );
    assert_eq!(store.next_job_due().await.unwrap(), None);
}

async fn prune_forgets_old_processed_events<S: IndexStore>(store: S) {
    store
        .ingest(&identity(), &community_space("!space:hs"))
        .await
        .unwrap();
    assert_eq!(store.prune_processed(now_ms() + 1000).await.unwrap(), 4);
}

async fn state_events_list_the_current_state_of_a_type<S: IndexStore>(store: S) {
    let mut events = community_space("!space:hs");
    events.push(replacing(
        event(
            "$accept",
            "!space:hs",
            "@alice:hs",
            "m.room.member",
            Some("@alice:hs"),
            json!({"membership": "join", "displayname": "Alice"}),
        ),
        "$invite!space:hs",
    ));
    store.ingest(&identity(), &events).await.unwrap();
    let members = store
        .state_events(ruma::room_id!("!space:hs"), &StateEventType::RoomMember)
        .await
        .unwrap();
    let summary: Vec<(&str, &str, Option<&str>)> = members
        .iter()
        .map(|(key, sender, content)| {
            (
                key.as_str(),
                sender.as_str(),
                content.get("membership").and_then(Value::as_str),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("@alice:hs", "@alice:hs", Some("join")),
            ("@parvis:hs", "@parvis:hs", Some("join")),
        ]
    );
    assert_eq!(members[0].2["displayname"], json!("Alice"));
    assert!(
        store
            .state_events(ruma::room_id!("!other:hs"), &StateEventType::RoomMember)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A page's links follow its current body: an edit drops the links it no longer has.
async fn links_follow_the_current_body<S: IndexStore>(store: S) {
    let page = |id: &str, body: &str| {
        event(
            id,
            "!wiki:hs",
            "@alice:hs",
            "org.parvis.wiki.page",
            Some("p1"),
            json!({"title": "Procédure", "slug": "procedure", "body": body}),
        )
    };
    let mut events = community_space("!wiki:hs");
    events.push(page("$v1", "Voir [[Budget]] et [[Calendrier]]."));
    store.ingest(&identity(), &events).await.unwrap();
    let sources = |links: Vec<(String, String)>| -> Vec<String> {
        links
            .into_iter()
            .map(|(kind, id)| format!("{kind}/{id}"))
            .collect()
    };
    assert_eq!(
        sources(
            store
                .backlinks(ruma::room_id!("!wiki:hs"), "budget")
                .await
                .unwrap()
        ),
        ["wiki_page/p1"]
    );
    store
        .ingest(
            &identity(),
            &[replacing(
                page("$v2", "Voir [[Calendrier]] seulement."),
                "$v1",
            )],
        )
        .await
        .unwrap();
    assert!(
        store
            .backlinks(ruma::room_id!("!wiki:hs"), "budget")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sources(
            store
                .backlinks(ruma::room_id!("!wiki:hs"), "calendrier")
                .await
                .unwrap()
        ),
        ["wiki_page/p1"]
    );
}

/// What search and reads return follows each object's current version: the words of a
/// replaced body no longer find it, its body is read from the current revision, and a body
/// read from the media repository is searched and returned like one in the event.
async fn search_and_reads_follow_the_current_version<S: IndexStore>(store: S) {
    let room = "!wiki:hs";
    let page = |id: &str, key: &str, title: &str, body: Value| {
        let mut content = json!({"title": title});
        content
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        event(
            id,
            room,
            "@alice:hs",
            "org.parvis.wiki.page",
            Some(key),
            content,
        )
    };
    let search = |text: &str| SearchQuery {
        text: text.to_owned(),
        user_id: "@alice:hs".to_owned(),
        limit: 10,
        ..Default::default()
    };
    let found = |hits: Vec<SearchHit>| -> Vec<String> {
        hits.into_iter().map(|hit| hit.object_id).collect()
    };
    let mut events = community_space(room);
    events.push(event(
        "$alicejoins",
        room,
        "@alice:hs",
        "m.room.member",
        Some("@alice:hs"),
        json!({"membership": "join"}),
    ));
    events.push(page(
        "$budget",
        "budget",
        "Budget annuel",
        json!({"body": "Le **budget** de l'événement."}),
    ));
    events.push(page(
        "$notes",
        "notes",
        "Notes",
        json!({"body": "Réunion sur le budget."}),
    ));
    store.ingest(&identity(), &events).await.unwrap();

    // A title hit ranks above a body hit; accents are folded both ways.
    assert_eq!(
        found(store.search(&search("budget")).await.unwrap()),
        ["budget", "notes"]
    );
    let hits = store.search(&search("evenement")).await.unwrap();
    assert_eq!(found(hits.clone()), ["budget"]);
    assert_eq!(hits[0].snippet, "Le budget de <mark>l'événement.</mark>");
    assert_eq!(
        found(store.search(&search("réunion")).await.unwrap()),
        ["notes"]
    );

    // Version 2 of "notes" no longer says "réunion".
    let v2 = replacing(
        page(
            "$notes2",
            "notes",
            "Notes",
            json!({"body": "Séminaire de rentrée."}),
        ),
        "$notes",
    );
    store.ingest(&identity(), &[v2]).await.unwrap();
    assert!(store.search(&search("reunion")).await.unwrap().is_empty());
    let hits = store.search(&search("seminaire")).await.unwrap();
    assert_eq!(
        (found(hits.clone()), hits[0].snippet.as_str()),
        (
            vec!["notes".to_owned()],
            "<mark>Séminaire</mark> de rentrée."
        )
    );
    let notes = store
        .publication(
            ruma::room_id!("!wiki:hs"),
            PublicationKind::of(&crate::tools::wiki::PUBLICATION),
            "notes",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (notes.event_id.as_str(), notes.body.as_str()),
        ("$notes2", "Séminaire de rentrée.")
    );
    // Listings leave bodies out.
    let listed = store
        .publications(
            ruma::room_id!("!wiki:hs"),
            PublicationKind::of(&crate::tools::wiki::PUBLICATION),
        )
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|page| (page.object_id.as_str(), page.body.as_str()))
            .collect::<Vec<_>>(),
        [("budget", ""), ("notes", "")]
    );

    // A body in the media repository: not searchable until read, then like any other.
    let large = page(
        "$large",
        "large",
        "Grand document",
        json!({"body": "", "body_media": {"url": "mxc://hs/large", "size": 600_000, "sha256": "00"}}),
    );
    store.ingest(&identity(), &[large]).await.unwrap();
    assert!(store.search(&search("annexe")).await.unwrap().is_empty());
    let text = format!("{} Annexe budgétaire.", "Texte long. ".repeat(20_000));
    store
        .set_publication_body(
            ruma::room_id!("!wiki:hs"),
            PublicationKind::of(&crate::tools::wiki::PUBLICATION),
            "large",
            ruma::event_id!("$large"),
            &text,
        )
        .await
        .unwrap();
    let large = store
        .publication(
            ruma::room_id!("!wiki:hs"),
            PublicationKind::of(&crate::tools::wiki::PUBLICATION),
            "large",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(large.body, text);
    assert_eq!(
        found(store.search(&search("annexe")).await.unwrap()),
        ["large"]
    );

    // Alice leaves: nothing of the room is found for her any more.
    let leaves = event(
        "$alice-leaves",
        room,
        "@alice:hs",
        "m.room.member",
        Some("@alice:hs"),
        json!({"membership": "leave"}),
    );
    store.ingest(&identity(), &[leaves]).await.unwrap();
    assert!(store.search(&search("budget")).await.unwrap().is_empty());
}

/// The homeserver's pushes and the reconciliation of the same room, at the same time, lock the
/// room's state rows in different orders; every write must still land (a deadlock is run again,
/// never returned as a failed transaction that the homeserver would only retry after its backoff).
async fn concurrent_writes_to_a_room_all_land<S: IndexStore>(store: S) {
    let room = "!wiki:hs";
    let page = |round: usize, key: usize| {
        event(
            &format!("$r{round}p{key}"),
            room,
            "@alice:hs",
            "org.parvis.wiki.page",
            Some(&format!("p{key}")),
            json!({"title": format!("Page {key}, version {round}"), "body": "Texte"}),
        )
    };
    let mut state = community_space(room);
    state.extend((0..40).map(|key| page(0, key)));
    store.ingest(&identity(), &state).await.unwrap();
    for round in 1..=3 {
        // The homeserver's pushes rewrite the pages one at a time…
        let pushes = async {
            for key in 0..40 {
                store
                    .ingest(&identity(), &[page(round, key)])
                    .await
                    .unwrap();
            }
        };
        // …while the reconciliation replaces the room's whole state, listed the other way.
        let mut snapshot = community_space(room);
        snapshot.extend((0..40).rev().map(|key| page(round, key)));
        let (identity, room_id) = (identity(), owned_room_id!("!wiki:hs"));
        let reconcile = store.apply_snapshot(&identity, &room_id, &snapshot);
        let ((), reconciled) = tokio::join!(pushes, reconcile);
        reconciled.unwrap();
    }
    let pages = store
        .state_events(
            <&RoomId>::try_from(room).unwrap(),
            &"org.parvis.wiki.page".into(),
        )
        .await
        .unwrap();
    assert_eq!(pages.len(), 40);
    for (key, _, _) in &pages {
        let revisions = store
            .revisions(
                ruma::room_id!("!wiki:hs"),
                PublicationKind::of(&crate::tools::wiki::PUBLICATION),
                key,
            )
            .await
            .unwrap();
        assert_eq!(revisions.len(), 4, "{key}: {revisions:?}");
    }
}

/// A NUL character in any text made every PostgreSQL ingest of its transaction fail, so the
/// homeserver resent it forever. Events are read without them (the ingest boundary), on both
/// backends: title, body, tags, a comment, a state key, a community's name.
async fn nul_characters_in_every_text_field_are_indexed<S: IndexStore>(store: S) {
    let raw: Vec<ruma::serde::Raw<ruma::events::AnyTimelineEvent>> = community_space("!wiki:hs")
        .into_iter()
        .map(|event| serde_json::from_value(serde_json::to_value(event).unwrap()).unwrap())
        .chain(
            [
                json!({"event_id": "$page", "room_id": "!wiki:hs", "sender": "@alice:hs",
                    "type": "org.parvis.wiki.page", "state_key": "p\u{0}1", "origin_server_ts": 1,
                    "content": {"title": "Ti\u{0}tre", "slug": "titre", "body": "Cor\u{0}ps [[Au\u{0}tre]]",
                        "tags": ["é\u{0}t\u{0}é"], "k\u{0}ey": {"n\u{0}ested": ["\u{0}"]}}}),
                json!({"event_id": "$comment", "room_id": "!wiki:hs", "sender": "@alice:hs",
                    "type": "m.room.message", "origin_server_ts": 2,
                    "content": {"msgtype": "m.text", "body": "com\u{0}ment",
                        "m.relates_to": {"rel_type": "m.thread", "event_id": "$page"}}}),
                json!({"event_id": "$name", "room_id": "!wiki:hs", "sender": "@parvis:hs",
                    "type": "org.parvis.community", "state_key": "", "origin_server_ts": 3,
                    "content": {"name": "Pro\u{0}jet", "tools": ["wiki"], "requested_by": "@alice:hs"}}),
            ]
            .into_iter()
            .map(|event| serde_json::from_value(event).unwrap()),
        )
        .collect();
    let admitted = crate::ingest::admit_events(&raw);
    assert!(admitted.skipped.is_empty(), "{:?}", admitted.skipped);
    store.ingest(&identity(), &admitted.events).await.unwrap();
    let page = store
        .publication(
            ruma::room_id!("!wiki:hs"),
            PublicationKind::of(&crate::tools::wiki::PUBLICATION),
            "p1",
        )
        .await
        .unwrap()
        .expect("the page is indexed");
    assert_eq!(page.title, "Titre");
    assert_eq!(page.body, "Corps [[Autre]]");
    assert_eq!(page.fields.tags, ["été"]);
    let comments = store
        .comments(
            ruma::room_id!("!wiki:hs"),
            PublicationKind::of(&crate::tools::wiki::PUBLICATION),
            "p1",
        )
        .await
        .unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "comment");
    assert_eq!(store.communities().await.unwrap()[0].name, "Projet");
    assert_eq!(
        store
            .backlinks(ruma::room_id!("!wiki:hs"), "autre")
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A reconcile waiting is seen, so the upkeep does not queue a second one; parked jobs are
/// pruned down to the newest.
async fn waiting_jobs_are_counted_and_parked_ones_pruned<S: IndexStore>(store: S) {
    assert_eq!(store.pending_jobs(&Job::ReconcileAll).await.unwrap(), 0);
    store.enqueue(&Job::ReconcileAll).await.unwrap();
    assert_eq!(store.pending_jobs(&Job::ReconcileAll).await.unwrap(), 1);
    let queued = store.next_job(i64::MAX - 1).await.unwrap().unwrap();
    store
        .retry_job(queued.id, i64::MAX, "parked")
        .await
        .unwrap();
    assert_eq!(store.pending_jobs(&Job::ReconcileAll).await.unwrap(), 0);
}

/// What was skipped is kept with its reason, for the operator, newest first.
async fn skipped_events_are_recorded_with_their_reasons<S: IndexStore>(store: S) {
    use crate::projection::{SkipCause, SkippedEvent};
    let skipped = |id: &str, cause| SkippedEvent {
        event_id: Some(id.to_owned()),
        room_id: Some("!r:hs".to_owned()),
        cause,
        reason: format!("reason of {id} \0 with a NUL"),
    };
    store
        .record_skipped(&[
            skipped("$a", SkipCause::TooLarge),
            skipped("$b", SkipCause::Malformed),
        ])
        .await
        .unwrap();
    let recorded = store.skipped_events(10).await.unwrap();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].event_id.as_deref(), Some("$b"));
    assert_eq!(recorded[0].cause, SkipCause::Malformed);
    assert_eq!(recorded[1].reason, "reason of $a  with a NUL");
}

/// Search finds a draft for its author only, whatever its kind: the rule is the status the kind
/// reads from its content, not the kind's name.
async fn a_draft_is_found_by_its_author_only<S: IndexStore>(store: S) {
    let room = "!blog:hs";
    let mut events = community_space(room);
    for user in ["@alice:hs", "@bob:hs"] {
        events.push(event(
            &format!("$join{user}"),
            room,
            user,
            "m.room.member",
            Some(user),
            json!({"membership": "join"}),
        ));
    }
    events.push(event(
        "$draft",
        room,
        "@alice:hs",
        "org.parvis.blog.post",
        Some("draft"),
        json!({"title": "Lancement du chantier", "body": "Bientôt.", "status": "draft"}),
    ));
    events.push(event(
        "$out",
        room,
        "@alice:hs",
        "org.parvis.blog.post",
        Some("out"),
        json!({"title": "Chantier ouvert", "body": "Voilà.", "status": "published"}),
    ));
    store.ingest(&identity(), &events).await.unwrap();
    let found = |user: &str| {
        let query = SearchQuery {
            text: "chantier".to_owned(),
            user_id: user.to_owned(),
            limit: 10,
            ..Default::default()
        };
        let store = &store;
        async move {
            let mut ids: Vec<String> = store
                .search(&query)
                .await
                .unwrap()
                .into_iter()
                .map(|hit| hit.object_id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(found("@alice:hs").await, ["draft", "out"]);
    assert_eq!(found("@bob:hs").await, ["out"]);
}

macro_rules! conformance {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;
            conformance!(@tests $open;
                ingest_is_idempotent_per_event,
                community_rooms_are_listed_under_their_space,
                late_older_state_does_not_win,
                a_forked_key_queues_a_reconcile,
                redacted_community_state_is_dropped,
                rooms_of_others_are_not_communities,
                snapshot_replaces_state_and_wins_over_late_events,
                backlog_after_a_snapshot_ends_on_the_current_state,
                leaving_forgets_the_room,
                commands_are_queued_but_not_the_bots_own,
                a_room_cannot_queue_jobs_without_bound,
                indexed_state_is_the_rooms_state,
                room_access_and_stamps_follow_the_room,
                failed_jobs_are_retried_later_then_parked,
                prune_forgets_old_processed_events,
                state_events_list_the_current_state_of_a_type,
                links_follow_the_current_body,
                search_and_reads_follow_the_current_version,
                a_draft_is_found_by_its_author_only,
                concurrent_writes_to_a_room_all_land,
                nul_characters_in_every_text_field_are_indexed,
                skipped_events_are_recorded_with_their_reasons,
                waiting_jobs_are_counted_and_parked_ones_pruned,
            );
        }
    };
    (@tests $open:expr; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let Some((store, _guard)) = $open.await else { return };
                super::$test(store).await;
            }
        )*
    };
}

/// Two pages as the index held them before bodies were stored once (migration 5): one with
/// its body in the event, one with a body read from the media repository.
const INDEXED_BEFORE_BODY_ONCE: &str = r#"
INSERT INTO rooms (room_id, creator, room_version) VALUES ('!wiki:hs', '@parvis:hs', '12');
INSERT INTO room_members (room_id, user_id, membership) VALUES ('!wiki:hs', '@alice:hs', 'join');
INSERT INTO publications (room_id, kind, object_id, event_id, author, title, slug, body, body_media, parent,
    tags, pages, category, position, status, updated_at, plain_body, search_title, search_body) VALUES
    ('!wiki:hs', 'wiki_page', 'p1', '$p1', '@alice:hs', 'Budget', 'budget', 'Le **budget** de l''événement.', NULL, NULL,
     '', '', '', 0, 'published', 1, 'Le budget de l''événement.', 'budget', 'le budget de l''evenement.'),
    ('!wiki:hs', 'wiki_page', 'p2', '$p2', '@alice:hs', 'Grand document', 'grand-document', 'Annexe budgétaire.',
     'mxc://hs/large', NULL, '', '', '', 0, 'published', 1, 'Annexe budgétaire.', 'grand document', 'annexe budgetaire.');
INSERT INTO publication_revisions (event_id, room_id, kind, object_id, sender, origin_server_ts, replaces, content) VALUES
    ('$p1', '!wiki:hs', 'wiki_page', 'p1', '@alice:hs', 1, NULL,
     '{"title":"Budget","slug":"budget","body":"Le **budget** de l''événement."}'),
    ('$p2', '!wiki:hs', 'wiki_page', 'p2', '@alice:hs', 1, NULL,
     '{"title":"Grand document","body":"","body_media":{"url":"mxc://hs/large","size":18,"sha256":"00"}}');
"#;

/// After the migration, both pages read and search as before, and a new version of one
/// replaces its words.
async fn index_from_before_body_once_is_migrated<S: IndexStore>(store: S) {
    let search = |text: &str| SearchQuery {
        text: text.to_owned(),
        user_id: "@alice:hs".to_owned(),
        limit: 10,
        ..Default::default()
    };
    let store = &store;
    let read = |id: &'static str| async move {
        store
            .publication(
                ruma::room_id!("!wiki:hs"),
                PublicationKind::of(&crate::tools::wiki::PUBLICATION),
                id,
            )
            .await
            .unwrap()
            .unwrap()
            .body
    };
    assert_eq!(read("p1").await, "Le **budget** de l'événement.");
    assert_eq!(read("p2").await, "Annexe budgétaire.");
    let hits = store.search(&search("evenement")).await.unwrap();
    assert_eq!(
        hits.iter()
            .map(|hit| hit.object_id.as_str())
            .collect::<Vec<_>>(),
        ["p1"]
    );
    assert_eq!(hits[0].snippet, "Le budget de <mark>l'événement.</mark>");
    let hits = store.search(&search("budgetaire annexe")).await.unwrap();
    assert_eq!(
        hits.iter()
            .map(|hit| hit.object_id.as_str())
            .collect::<Vec<_>>(),
        ["p2"]
    );

    let v2 = event(
        "$p1v2",
        "!wiki:hs",
        "@alice:hs",
        "org.parvis.wiki.page",
        Some("p1"),
        json!({"title": "Budget", "body": "Rien d'autre."}),
    );
    store
        .ingest(&identity(), &[replacing(v2, "$p1")])
        .await
        .unwrap();
    assert!(store.search(&search("evenement")).await.unwrap().is_empty());
    assert_eq!(read("p1").await, "Rien d'autre.");
}

/// Makes the SQLite file at `url` an index at schema `version` (migrations up to it) holding
/// `rows`, as an older Parvis left it.
async fn sqlite_index_at(url: &str, version: i64, rows: &'static str) {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .unwrap()
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate!("./migrations/sqlite")
        .run_to(version, &pool)
        .await
        .unwrap();
    sqlx::raw_sql(rows).execute(&pool).await.unwrap();
    pool.close().await;
}

/// [`sqlite_index_at`] for the (empty) PostgreSQL database at `url`.
async fn postgres_index_at(url: &str, version: i64, rows: &'static str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::migrate!("./migrations/postgres")
        .run_to(version, &pool)
        .await
        .unwrap();
    sqlx::raw_sql(rows).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn sqlite_index_from_before_body_once_is_migrated() {
    let (_dir, url) = {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("index.db").display());
        (dir, url)
    };
    sqlite_index_at(&url, 5, INDEXED_BEFORE_BODY_ONCE).await;
    index_from_before_body_once_is_migrated(SqliteIndex::connect(&url, 2).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_index_from_before_body_once_is_migrated() {
    let Some((url, _guard)) = fresh_postgres().await else {
        return;
    };
    postgres_index_at(&url, 5, INDEXED_BEFORE_BODY_ONCE).await;
    index_from_before_body_once_is_migrated(PostgresIndex::connect(&url, 2).await.unwrap()).await;
}

/// SQLite's search file is an index of the index: deleted, it is rebuilt on the next start.
#[tokio::test]
async fn sqlite_search_file_deleted_is_rebuilt() {
    let (store, dir) = open_sqlite().await.unwrap();
    let mut events = community_space("!wiki:hs");
    events.push(event(
        "$join",
        "!wiki:hs",
        "@alice:hs",
        "m.room.member",
        Some("@alice:hs"),
        json!({"membership": "join"}),
    ));
    events.push(event(
        "$p",
        "!wiki:hs",
        "@alice:hs",
        "org.parvis.wiki.page",
        Some("p"),
        json!({"title": "Procédure", "body": "Étapes du télétravail."}),
    ));
    store.ingest(&identity(), &events).await.unwrap();
    let search = SearchQuery {
        text: "teletravail".to_owned(),
        user_id: "@alice:hs".to_owned(),
        limit: 5,
        ..Default::default()
    };
    assert_eq!(store.search(&search).await.unwrap().len(), 1);
    drop(store);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for suffix in ["-search", "-search-wal", "-search-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("index.db{suffix}")));
    }
    let url = format!("sqlite://{}", dir.path().join("index.db").display());
    let store = SqliteIndex::connect(&url, 2).await.unwrap();
    let hits = store.search(&search).await.unwrap();
    assert_eq!(
        hits.iter()
            .map(|hit| hit.object_id.as_str())
            .collect::<Vec<_>>(),
        ["p"]
    );
    assert_eq!(store.search_backlog().await.unwrap(), 0);
}

pub(crate) async fn open_sqlite() -> Option<(SqliteIndex, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("index.db").display());
    Some((SqliteIndex::connect(&url, 4).await.unwrap(), dir))
}

/// A fresh PostgreSQL database, dropped when the guard is.
pub(crate) struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Best effort, on a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&admin_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&pool)
                .await
                .ok()
            })
        })
        .join();
    }
}

/// A fresh database on the server of `PARVIS_TEST_POSTGRES_URL`, or `None` (test skipped)
/// when it is not set.
pub(crate) async fn fresh_postgres() -> Option<(String, PostgresDatabase)> {
    let Ok(admin_url) = std::env::var("PARVIS_TEST_POSTGRES_URL") else {
        eprintln!("skipped: PARVIS_TEST_POSTGRES_URL is not set (scripts/test sets it)");
        return None;
    };
    let name = format!("parvis_test_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for these tests: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(&admin_url);
    Some((
        format!("{base}/{name}"),
        PostgresDatabase { admin_url, name },
    ))
}

pub(crate) async fn open_postgres() -> Option<(PostgresIndex, PostgresDatabase)> {
    let (url, guard) = fresh_postgres().await?;
    Some((PostgresIndex::connect(&url, 4).await.unwrap(), guard))
}

conformance!(sqlite, open_sqlite());
conformance!(postgres, open_postgres());

/// The corpus of the migration test, in the batches the homeserver delivered: a community
/// with a wiki (a page in two revisions, a comment on it, a guide), a blog post and an FAQ
/// entry, each in its room.
fn corpus() -> Vec<Vec<RoomEvent>> {
    let mut first = community_space("!space:hs");
    for (room, purpose) in [
        ("!wiki:hs", "wiki"),
        ("!blog:hs", "blog"),
        ("!faq:hs", "faq"),
    ] {
        first.extend([
            event(
                &format!("$create{room}"),
                room,
                "@parvis:hs",
                "m.room.create",
                Some(""),
                json!({"room_version": "12"}),
            ),
            event(
                &format!("$join{room}"),
                room,
                "@parvis:hs",
                "m.room.member",
                Some("@parvis:hs"),
                json!({"membership": "join"}),
            ),
        ]);
        first.push(event(
            &format!("$purpose{room}"),
            room,
            "@parvis:hs",
            "org.parvis.community.room",
            Some(""),
            json!({"community": "!space:hs", "purpose": purpose}),
        ));
        first.push(event(
            &format!("$alice{room}"),
            room,
            "@alice:hs",
            "m.room.member",
            Some("@alice:hs"),
            json!({"membership": "join"}),
        ));
    }
    first.extend([
        event(
            "$page1",
            "!wiki:hs",
            "@alice:hs",
            "org.parvis.wiki.page",
            Some("budget"),
            json!({"title": "Budget", "slug": "budget", "body": "Voir [[Calendrier]].", "tags": ["finances"]}),
        ),
        event(
            "$guide",
            "!wiki:hs",
            "@alice:hs",
            "org.parvis.guide",
            Some("arrivee"),
            json!({"title": "Arrivée", "slug": "arrivee", "description": "Premiers pas", "pages": ["budget"]}),
        ),
        event(
            "$post",
            "!blog:hs",
            "@alice:hs",
            "org.parvis.blog.post",
            Some("lancement"),
            json!({"title": "Lancement", "slug": "lancement", "body": "C'est parti.", "status": "published", "published_at": 1, "tags": ["annonce"]}),
        ),
        event(
            "$entry",
            "!faq:hs",
            "@alice:hs",
            "org.parvis.faq.entry",
            Some("conges"),
            json!({"question": "Comment poser un congé ?", "answer": "Dans l'outil RH.", "category": "RH", "order": 2}),
        ),
    ]);
    let second = vec![
        replacing(
            event(
                "$page2",
                "!wiki:hs",
                "@alice:hs",
                "org.parvis.wiki.page",
                Some("budget"),
                json!({"title": "Budget 2027", "slug": "budget", "body": "Voir [[Calendrier]] et [[Achats]]."}),
            ),
            "$page1",
        ),
        event(
            "$comment",
            "!wiki:hs",
            "@alice:hs",
            "m.room.message",
            None,
            json!({"msgtype": "m.text", "body": "Validé en comité.",
                "m.relates_to": {"rel_type": "m.thread", "event_id": "$page2"}}),
        ),
    ];
    vec![first, second]
}

/// What a schema-7 index held of [`corpus`] (before the likes table and the rooms of jobs), as
/// Parvis wrote it then: every row of every table but the migrations' own, on each backend.
const SQLITE_AT_SCHEMA_7: &str = include_str!("fixtures/schema_7_corpus.sqlite.sql");
const POSTGRES_AT_SCHEMA_7: &str = include_str!("fixtures/schema_7_corpus.postgres.sql");

async fn projected_digest<S: IndexStore>(store: S) -> String {
    for batch in corpus() {
        store.ingest(&identity(), &batch).await.unwrap();
    }
    store.digest().await.unwrap()
}

/// An index written at schema 7, migrated, is the index a fresh projection of the same events
/// makes: no row lost or changed by the migrations since.
#[tokio::test]
async fn sqlite_index_at_schema_7_migrates_to_a_fresh_projection() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let fresh = projected_digest(SqliteIndex::connect(&fresh, 2).await.unwrap()).await;
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    sqlite_index_at(&url, 7, SQLITE_AT_SCHEMA_7).await;
    let migrated = SqliteIndex::connect(&url, 2).await.unwrap();
    assert_eq!(migrated.digest().await.unwrap(), fresh);
}

#[tokio::test]
async fn postgres_index_at_schema_7_migrates_to_a_fresh_projection() {
    let Some((fresh_url, _fresh)) = fresh_postgres().await else {
        return;
    };
    let fresh = projected_digest(PostgresIndex::connect(&fresh_url, 2).await.unwrap()).await;
    let Some((url, _old)) = fresh_postgres().await else {
        return;
    };
    postgres_index_at(&url, 7, POSTGRES_AT_SCHEMA_7).await;
    let migrated = PostgresIndex::connect(&url, 2).await.unwrap();
    assert_eq!(migrated.digest().await.unwrap(), fresh);
}

/// What `parvis doctor` reads of an index, without changing it: nothing before the first
/// start, then every migration of this binary once connected, on both backends.
#[tokio::test]
async fn migration_state_is_read_without_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("index.db").display());
    let state = MigrationState::read(&url).await.unwrap();
    assert_eq!(state.applied, None);
    assert!(
        !dir.path().join("index.db").exists(),
        "reading created the file"
    );
    let known: Vec<i64> = state.known.iter().map(|(version, _)| *version).collect();
    SqliteIndex::connect(&url, 1).await.unwrap().close().await;
    assert_eq!(
        MigrationState::read(&url).await.unwrap().applied,
        Some(known)
    );

    let Some((url, _guard)) = fresh_postgres().await else {
        return;
    };
    let state = MigrationState::read(&url).await.unwrap();
    assert_eq!(state.applied, Some(Vec::new()));
    let known: Vec<i64> = state.known.iter().map(|(version, _)| *version).collect();
    PostgresIndex::connect(&url, 1).await.unwrap().close().await;
    assert_eq!(
        MigrationState::read(&url).await.unwrap().applied,
        Some(known)
    );
}

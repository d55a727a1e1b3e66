//! Table tests of the planner on its own: events and what the index knows in, the shape of the
//! changes out. No database.

#![allow(clippy::unwrap_used)]

use ruma::{owned_event_id, owned_room_id, owned_user_id};
use serde_json::{Value, json};

use super::*;

const BOT: &str = "@parvis:hs";
const ROOM: &str = "!wiki:hs";

fn identity() -> Identity {
    Identity {
        bot: owned_user_id!("@parvis:hs"),
        user_prefix: "parvis_".to_owned(),
    }
}

/// An event of [`ROOM`].
fn event(
    id: &str,
    sender: &str,
    event_type: &str,
    state_key: Option<&str>,
    content: Value,
) -> RoomEvent {
    let mut json = json!({
        "event_id": id, "room_id": ROOM, "sender": sender, "type": event_type,
        "origin_server_ts": 1_700_000_000_000u64, "content": content,
    });
    if let Some(key) = state_key {
        json["state_key"] = json!(key);
    }
    serde_json::from_value(json).unwrap()
}

fn message(id: &str, sender: &str, body: &str) -> RoomEvent {
    event(
        id,
        sender,
        "m.room.message",
        None,
        json!({"msgtype": "m.text", "body": body}),
    )
}

fn page(id: &str, sender: &str) -> RoomEvent {
    event(
        id,
        sender,
        "org.parvis.wiki.page",
        Some("p1"),
        json!({"title": "Accueil", "slug": "accueil", "body": "Voir [[Budget]]."}),
    )
}

/// Page `p1`, written by Parvis for someone, replacing `replaced`.
fn page_replacing(id: &str, replaced: &str) -> RoomEvent {
    let mut event = page(id, "@parvis_alice:hs");
    event.unsigned.replaces_state = Some(OwnedEventId::try_from(replaced).unwrap());
    event
}

/// The index holds `$v0` as page `p1`.
fn hold_v0(context: &mut ProjectionContext) {
    context.current_state.insert(
        (
            owned_room_id!("!wiki:hs"),
            "org.parvis.wiki.page".to_owned(),
            "p1".to_owned(),
        ),
        HeldState {
            event_id: owned_event_id!("$v0"),
            content: JsonObject::new(),
        },
    );
}

/// The bot joining [`ROOM`].
fn bot_joins() -> RoomEvent {
    event(
        "$j",
        BOT,
        "m.room.member",
        Some(BOT),
        json!({"membership": "join"}),
    )
}

/// What the bot joining a room someone else made plans: its state is fetched.
const JOINING_SOMEONE_ELSES_ROOM: &[&str] = &[
    "job reconcile",
    "track",
    "member @parvis:hs join",
    "state m.room.member",
];

/// What the index knows before the batch.
#[derive(Clone, Copy)]
enum Known {
    /// Nothing of the room.
    Nothing,
    /// The room, created by the bot.
    ParvisRoom,
    /// The room, created by someone else (the bot was invited).
    OthersRoom,
}

fn context(known: Known) -> ProjectionContext {
    let mut context = ProjectionContext::default();
    let creator = match known {
        Known::Nothing => return context,
        Known::ParvisRoom => owned_user_id!("@parvis:hs"),
        Known::OthersRoom => owned_user_id!("@mallory:hs"),
    };
    context.tracked.insert(
        owned_room_id!("!wiki:hs"),
        TrackedRoom {
            creator: Some(creator),
            room_version: Some(RoomVersionId::V12),
        },
    );
    context
}

/// A change in a word or two, enough to tell one case from another.
fn shape(change: &IndexChange) -> String {
    match change {
        IndexChange::TrackRoom { .. } => "track".to_owned(),
        IndexChange::ForgetRoom { keep_history, .. } => {
            format!("forget(history kept: {keep_history})")
        }
        IndexChange::PutState(row) => format!("state {}", row.event_type),
        IndexChange::Superseded(id) => format!("superseded {id}"),
        IndexChange::PutCommunity(_) => "community".to_owned(),
        IndexChange::RemoveCommunity(_) => "community removed".to_owned(),
        IndexChange::PutCommunityRoom(row) => format!("community room {}", row.purpose.as_str()),
        IndexChange::RemoveCommunityRoom(_) => "community room removed".to_owned(),
        IndexChange::PutMembership {
            user_id,
            membership,
            ..
        } => format!("member {user_id} {membership}"),
        IndexChange::PutPublication(row) => format!("publication {}", row.object_id),
        IndexChange::RemovePublication { object_id, .. } => {
            format!("publication removed {object_id}")
        }
        IndexChange::PutRevision(row) => format!("revision {}", row.event_id),
        IndexChange::PutComment(row) => format!("comment {}", row.event_id),
        IndexChange::RemoveComment(id) => format!("comment removed {id}"),
        IndexChange::RedactRevision(id) => format!("revision redacted {id}"),
        IndexChange::Enqueue(job) => match job {
            Job::Command { body, .. } => format!("job command {body}"),
            Job::Decrypt { .. } => "job decrypt".to_owned(),
            Job::JoinRoom { inviter, .. } => format!("job join (invited by {inviter})"),
            Job::ReconcileRoom { .. } => "job reconcile".to_owned(),
            Job::Announce { event_id, .. } => format!("job announce {event_id}"),
            Job::FetchBody { .. } => "job fetch body".to_owned(),
            Job::Notice { event_id, .. } => format!("job notice {event_id}"),
            Job::ReconcileAll => "job reconcile all".to_owned(),
        },
        IndexChange::Skip(skipped) => format!("skipped {}", skipped.cause.as_str()),
        IndexChange::Tool(write) => {
            let words: Vec<&str> = write.statement.split_whitespace().take(3).collect();
            format!("tool {}", words.join(" "))
        }
    }
}

struct Case {
    name: &'static str,
    known: Known,
    prepare: fn(&mut ProjectionContext),
    events: Vec<RoomEvent>,
    expected: &'static [&'static str],
}

fn nothing(_: &mut ProjectionContext) {}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "the bot creating a room starts following it",
            known: Known::Nothing,
            prepare: nothing,
            events: vec![event(
                "$c",
                BOT,
                "m.room.create",
                Some(""),
                json!({"room_version": "12"}),
            )],
            expected: &["track", "track", "state m.room.create"],
        },
        Case {
            name: "an invitation of the bot is a job to join, in a room not followed",
            known: Known::Nothing,
            prepare: nothing,
            events: vec![event(
                "$i",
                "@alice:hs",
                "m.room.member",
                Some(BOT),
                json!({"membership": "invite"}),
            )],
            expected: &["job join (invited by @alice:hs)"],
        },
        Case {
            name: "joining someone else's room fetches its state",
            known: Known::Nothing,
            prepare: nothing,
            events: vec![bot_joins()],
            expected: JOINING_SOMEONE_ELSES_ROOM,
        },
        Case {
            name: "the bot's own reconcile of a room it joins is queued, however full the queue",
            known: Known::Nothing,
            prepare: |context| {
                context
                    .waiting_jobs
                    .insert(owned_room_id!("!wiki:hs"), MAX_WAITING_JOBS_PER_ROOM);
            },
            events: vec![bot_joins()],
            expected: JOINING_SOMEONE_ELSES_ROOM,
        },
        Case {
            name: "a command in a direct chat is a job",
            known: Known::Nothing,
            prepare: nothing,
            events: vec![message("$m", "@alice:hs", "!parvis help")],
            expected: &["job command !parvis help"],
        },
        Case {
            name: "commands past the room's bound of waiting jobs are skipped, not queued",
            known: Known::Nothing,
            prepare: |context| {
                context
                    .waiting_jobs
                    .insert(owned_room_id!("!wiki:hs"), MAX_WAITING_JOBS_PER_ROOM - 1);
            },
            events: vec![
                message("$m1", "@alice:hs", "!parvis help"),
                message("$m2", "@alice:hs", "!parvis search budget"),
                message("$m3", "@alice:hs", "!parvis help"),
            ],
            expected: &[
                "job command !parvis help",
                "skipped queue_full",
                "skipped queue_full",
            ],
        },
        Case {
            name: "a full queue keeps what a page changes in the index",
            known: Known::ParvisRoom,
            prepare: |context| {
                context
                    .waiting_jobs
                    .insert(owned_room_id!("!wiki:hs"), MAX_WAITING_JOBS_PER_ROOM);
            },
            events: vec![page("$p", "@alice:hs")],
            expected: &[
                "revision $p",
                "publication p1",
                "state org.parvis.wiki.page",
                "skipped queue_full",
            ],
        },
        Case {
            name: "the bot's own words, an edit of a command and other messages are not commands",
            known: Known::Nothing,
            prepare: nothing,
            events: vec![
                message("$m1", BOT, "!parvis help"),
                message("$m2", "@parvis_alice:hs", "!parvis help"),
                event(
                    "$m3",
                    "@alice:hs",
                    "m.room.message",
                    None,
                    json!({"msgtype": "m.text", "body": "!parvis help", "m.relates_to": {"rel_type": "m.replace", "event_id": "$m"}}),
                ),
                message("$m4", "@alice:hs", "bonjour !parvis"),
                event(
                    "$m5",
                    "@alice:hs",
                    "m.room.message",
                    None,
                    json!({"msgtype": "m.notice", "body": "!parvis help"}),
                ),
            ],
            expected: &[],
        },
        Case {
            name: "an encrypted message is a job to decrypt",
            known: Known::Nothing,
            prepare: nothing,
            events: vec![event(
                "$e",
                "@alice:hs",
                "m.room.encrypted",
                None,
                json!({"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "…"}),
            )],
            expected: &["job decrypt"],
        },
        Case {
            name: "a page written by a person is indexed, kept as a revision and announced",
            known: Known::ParvisRoom,
            prepare: nothing,
            events: vec![page("$v1", "@alice:hs")],
            expected: &[
                "job announce $v1",
                "revision $v1",
                "publication p1",
                "state org.parvis.wiki.page",
            ],
        },
        Case {
            name: "a page written by Parvis for someone is not announced again",
            known: Known::ParvisRoom,
            prepare: nothing,
            events: vec![page("$v1", "@parvis_alice:hs")],
            expected: &[
                "revision $v1",
                "publication p1",
                "state org.parvis.wiki.page",
            ],
        },
        Case {
            name: "a newer revision supersedes the one it replaces",
            known: Known::ParvisRoom,
            prepare: nothing,
            events: vec![{
                let mut event = page("$v2", "@parvis_alice:hs");
                event.unsigned.replaces_state = Some(owned_event_id!("$v1"));
                event
            }],
            expected: &[
                "revision $v2",
                "superseded $v1",
                "publication p1",
                "state org.parvis.wiki.page",
            ],
        },
        Case {
            name: "two members writing one key at once fork the room: it is reconciled, once",
            known: Known::ParvisRoom,
            prepare: hold_v0,
            events: vec![
                page_replacing("$v1", "$v0"),
                page_replacing("$v2", "$v0"),
                page_replacing("$v3", "$v0"),
            ],
            expected: &[
                "revision $v1",
                "superseded $v0",
                "publication p1",
                "state org.parvis.wiki.page",
                "revision $v2",
                "job reconcile",
                "superseded $v0",
                "publication p1",
                "state org.parvis.wiki.page",
                "revision $v3",
                "superseded $v0",
                "publication p1",
                "state org.parvis.wiki.page",
            ],
        },
        Case {
            name: "a key written in turn needs no reconcile, nor an event delivered again",
            known: Known::ParvisRoom,
            prepare: hold_v0,
            events: vec![
                page_replacing("$v1", "$v0"),
                page_replacing("$v2", "$v1"),
                page_replacing("$v2", "$v1"),
            ],
            expected: &[
                "revision $v1",
                "superseded $v0",
                "publication p1",
                "state org.parvis.wiki.page",
                "revision $v2",
                "superseded $v1",
                "publication p1",
                "state org.parvis.wiki.page",
                "revision $v2",
                "superseded $v1",
                "publication p1",
                "state org.parvis.wiki.page",
            ],
        },
        Case {
            name: "late older state is history, not the current version",
            known: Known::ParvisRoom,
            prepare: |context| {
                context.superseded.insert(owned_event_id!("$v1"));
            },
            events: vec![page("$v1", "@alice:hs")],
            expected: &["revision $v1"],
        },
        Case {
            name: "in a room someone else created, a page is only state",
            known: Known::OthersRoom,
            prepare: nothing,
            events: vec![page("$v1", "@mallory:hs")],
            expected: &["state org.parvis.wiki.page"],
        },
        Case {
            name: "only the bot says which community a room belongs to",
            known: Known::ParvisRoom,
            prepare: nothing,
            events: vec![
                event(
                    "$r1",
                    "@alice:hs",
                    "org.parvis.community.room",
                    Some(""),
                    json!({"community": "!other:hs", "purpose": "wiki"}),
                ),
                {
                    let mut event = event(
                        "$r2",
                        BOT,
                        "org.parvis.community.room",
                        Some(""),
                        json!({"community": "!space:hs", "purpose": "wiki"}),
                    );
                    event.unsigned.replaces_state = Some(owned_event_id!("$r1"));
                    event
                },
            ],
            expected: &[
                "state org.parvis.community.room",
                "superseded $r1",
                "community room wiki",
                "state org.parvis.community.room",
            ],
        },
        Case {
            name: "a comment is a thread message on a known revision",
            known: Known::ParvisRoom,
            prepare: |context| {
                context.revision_roots.insert(owned_event_id!("$v1"));
            },
            events: vec![
                event(
                    "$t1",
                    "@bob:hs",
                    "m.room.message",
                    None,
                    json!({"msgtype": "m.text", "body": "Merci", "m.relates_to": {"rel_type": "m.thread", "event_id": "$v1"}}),
                ),
                event(
                    "$t2",
                    "@bob:hs",
                    "m.room.message",
                    None,
                    json!({"msgtype": "m.text", "body": "Ailleurs", "m.relates_to": {"rel_type": "m.thread", "event_id": "$other"}}),
                ),
            ],
            expected: &["comment $t1"],
        },
        Case {
            name: "a redaction strips the current state and uncounts what tools count",
            known: Known::ParvisRoom,
            prepare: |context| {
                let row = StateRow::from_event(&page("$v1", "@alice:hs")).unwrap();
                context
                    .redaction_targets
                    .insert(owned_event_id!("$v1"), row);
            },
            events: vec![event(
                "$x",
                "@alice:hs",
                "m.room.redaction",
                None,
                json!({"redacts": "$v1"}),
            )],
            expected: &[
                "tool DELETE FROM likes",
                "tool DELETE FROM like_notices",
                "revision redacted $v1",
                "comment removed $v1",
                "publication removed p1",
                "state org.parvis.wiki.page",
            ],
        },
        Case {
            name: "a 👍 on a revision is the likes tool's",
            known: Known::ParvisRoom,
            prepare: nothing,
            events: vec![event(
                "$l",
                "@bob:hs",
                "m.reaction",
                None,
                json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$v1", "key": "👍"}}),
            )],
            expected: &["tool INSERT INTO likes"],
        },
        Case {
            name: "tools see nothing of rooms Parvis did not create",
            known: Known::OthersRoom,
            prepare: nothing,
            events: vec![event(
                "$l",
                "@bob:hs",
                "m.reaction",
                None,
                json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$v1", "key": "👍"}}),
            )],
            expected: &[],
        },
        Case {
            name: "the bot leaving forgets the room",
            known: Known::ParvisRoom,
            prepare: nothing,
            events: vec![event(
                "$leave",
                BOT,
                "m.room.member",
                Some(BOT),
                json!({"membership": "leave"}),
            )],
            expected: &["forget(history kept: false)"],
        },
    ]
}

#[test]
fn the_planner_case_by_case() {
    let mut failures = Vec::new();
    for case in cases() {
        let mut context = context(case.known);
        (case.prepare)(&mut context);
        let changes = plan_transaction(&identity(), context, &case.events);
        let shapes: Vec<String> = changes.iter().map(shape).collect();
        if shapes != case.expected {
            failures.push(format!(
                "{}:\n    expected {:?}\n    planned  {:?}",
                case.name, case.expected, shapes
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_snapshot_replaces_the_state_and_keeps_history() {
    let events = vec![
        event(
            "$c",
            BOT,
            "m.room.create",
            Some(""),
            json!({"room_version": "12"}),
        ),
        page("$v2", "@alice:hs"),
    ];
    let changes = plan_snapshot(&identity(), &owned_room_id!("!wiki:hs"), &events);
    let shapes: Vec<String> = changes.iter().map(shape).collect();
    assert_eq!(
        shapes,
        [
            "forget(history kept: true)",
            "track",
            "state m.room.create",
            "publication p1",
            "revision $v2",
            "state org.parvis.wiki.page",
        ]
    );
}

/// The rows the index would hold after these events.
fn held(events: &[RoomEvent]) -> Vec<StateRow> {
    events.iter().filter_map(StateRow::from_event).collect()
}

#[test]
fn a_reconcile_sees_what_the_current_state_changes() {
    let room = owned_room_id!("!wiki:hs");
    let name = event(
        "$n",
        "@alice:hs",
        "m.room.name",
        Some(""),
        json!({"name": "Wiki"}),
    );
    let state = vec![page("$p", "@alice:hs"), name.clone()];
    let unchanged = StateChanges::between(&held(&state), &room, &state);
    assert!(unchanged.is_empty(), "{unchanged:?}");

    // A newer revision, and a redaction the index missed (same event, stripped content).
    let newer = page("$p2", "@alice:hs");
    let mut redacted = name.clone();
    redacted.content = serde_json::Map::new();
    let changes = StateChanges::between(&held(&state), &room, &[newer, redacted]);
    assert_eq!(
        changes.changed,
        HashSet::from([owned_event_id!("$p2"), owned_event_id!("$n")])
    );
    assert!(!changes.removed);

    // State the room no longer has; events of another room are not this room's state.
    let mut elsewhere = page("$other", "@alice:hs");
    elsewhere.room_id = owned_room_id!("!blog:hs");
    let changes = StateChanges::between(&held(&state), &room, &[name, elsewhere]);
    assert!(changes.changed.is_empty());
    assert!(changes.removed);

    // Nothing indexed yet (a rebuild): everything is new.
    let fresh = StateChanges::between(&[], &room, &state);
    assert_eq!(fresh.changed.len(), 2);
}

/// Queued jobs are JSON in the index: a job queued before its fields were typed (kind and event
/// ID as strings) still reads, and is written the same way.
#[test]
fn a_queued_fetch_body_job_reads_as_it_was_written() {
    let stored = json!({"job": "fetch_body", "room_id": "!wiki:hs", "kind": "wiki_page",
        "object_id": "large", "event_id": "$large", "url": "mxc://hs/large"});
    let job: Job = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(
        job,
        Job::FetchBody {
            room_id: owned_room_id!("!wiki:hs"),
            kind: PublicationKind::of(&crate::tools::wiki::PUBLICATION),
            object_id: "large".to_owned(),
            event_id: owned_event_id!("$large"),
            url: "mxc://hs/large".to_owned(),
        }
    );
    assert_eq!(serde_json::to_value(&job).unwrap(), stored);
    let unknown = json!({"job": "fetch_body", "room_id": "!wiki:hs", "kind": "poll",
        "object_id": "x", "event_id": "$x", "url": "mxc://hs/x"});
    assert!(serde_json::from_value::<Job>(unknown).is_err());
}

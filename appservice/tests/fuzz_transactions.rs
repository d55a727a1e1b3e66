//! Fuzzing of appservice transaction bodies, from the bytes Synapse sends to the index changes
//! planned: `parse_transaction_lenient` → `changes_for` (the bot's device) → `admit_events` →
//! `plan_transaction`, with an empty projection context and with one that follows every room
//! as created by the bot (so community, publication and redaction rules run).
//!
//! Properties: nothing panics; the planner records no `Skip` with cause `ProjectionFailed`
//! (it catches a panic per event and records it so: a bug); each input takes under a second.
//!
//! Inputs are the seeds of `tests/fuzz-corpus/transactions/` (realistic Synapse transactions),
//! mutated as bytes or as JSON trees, and arbitrary bytes. See `fuzz/mod.rs` for the knobs.

#![allow(clippy::unwrap_used)]

mod fuzz;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use parvis::{
    ingest::admit_events,
    projection::{IndexChange, ProjectionContext, SkipCause, TrackedRoom, plan_transaction},
};
use parvis_homeserver_bridge::transaction::parse_transaction_lenient;
use rand::{Rng, rngs::StdRng};
use ruma::{RoomVersionId, device_id, user_id};
use serde_json::{Value, json};

const BOT: &str = "@parvis:localhost";

/// Fragments of Matrix JSON and adversarial strings inserted into inputs.
const DICTIONARY: &[&str] = &[
    "\"events\":[]",
    "\"type\":\"m.room.redaction\"",
    "\"type\":\"org.parvis.wiki.page\"",
    "\"type\":\"m.room.create\"",
    "\"type\":\"m.room.member\"",
    "\"type\":\"m.room.encrypted\"",
    "\"state_key\":\"\"",
    "\"state_key\":\"@parvis:localhost\"",
    "\"sender\":\"@parvis:localhost\"",
    "\"redacts\":\"$x\"",
    "\"unsigned\":{\"replaces_state\":\"$a\"}",
    "\"content\":{}",
    "\"membership\":\"join\"",
    "\"room_version\":\"11\"",
    "\"org.matrix.msc3202.device_lists\":{\"changed\":[\"@a:b\"],\"left\":[]}",
    "\"org.matrix.msc3202.device_one_time_key_counts\":{}",
    "\"org.matrix.msc3202.device_unused_fallback_key_types\":{}",
    "\"de.sorunome.msc2409.to_device\":[]",
    "\"to_device\":[]",
    "\"ephemeral\":[]",
    "\\u0000",
    "\\ud800",
    "\\udfff\\ud800",
    "1e999",
    "-0",
    "18446744073709551616",
    "9007199254740993",
    "null",
    "true",
    "[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":",
    "[[",
    "[a",
    "xhttp://",
    "http://a)))))",
    "!parvis ",
    "!parvis wiki new \"x\" y",
    "\u{202e}",
    "é",
    "\u{fffd}",
];

/// JSON values put in place of a node of a seed.
fn replacement(rng: &mut StdRng) -> Value {
    let long = |c: &str, n: usize| Value::String(c.repeat(n));
    match rng.random_range(0..24) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(u64::MAX),
        5 => json!(i64::MIN),
        6 => json!(1.5e300),
        7 => json!(""),
        8 => json!("\u{0}"),
        9 => json!(BOT),
        10 => json!("@parvis_virtual:localhost"),
        11 => json!("!room:localhost"),
        12 => json!("$event:localhost"),
        13 => json!("not an id"),
        14 => long("a", rng.random_range(1..70_000)),
        15 => long("[[", rng.random_range(1..5_000)),
        16 => json!([]),
        17 => json!({}),
        18 => json!({"membership": "join"}),
        19 => {
            let version = ["1", "11", "12", "org.x.custom", ""][rng.random_range(0..5)];
            json!({ "room_version": version })
        }
        20 => json!({"title": "T", "slug": "t", "body": "# B"}),
        21 => json!({"rel_type": "m.thread", "event_id": "$root"}),
        22 => {
            // Deep nesting, beyond serde_json's recursion limit at times.
            let mut value = json!("deep");
            for _ in 0..rng.random_range(1..200) {
                value = json!([value]);
            }
            value
        }
        _ => json!(["@a:localhost", "@b:b", "bad"]),
    }
}

/// Field names put into objects of a seed.
const KEYS: &[&str] = &[
    "type",
    "state_key",
    "content",
    "sender",
    "room_id",
    "event_id",
    "redacts",
    "unsigned",
    "replaces_state",
    "origin_server_ts",
    "membership",
    "title",
    "slug",
    "body",
    "parent",
    "m.relates_to",
    "room_version",
    "creator",
    "algorithm",
    "ciphertext",
    "to_user_id",
    "to_device_id",
    "changed",
    "left",
    "signed_curve25519",
];

/// Counts the nodes of a JSON tree.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// A random node of a tree, depth first.
fn pick<'a>(rng: &mut StdRng, value: &'a mut Value) -> &'a mut Value {
    let mut index = rng.random_range(0..count(value));
    walk(value, &mut index)
}

fn walk<'a>(value: &'a mut Value, index: &mut usize) -> &'a mut Value {
    if *index == 0 {
        return value;
    }
    *index -= 1;
    let mut children: Vec<&'a mut Value> = match value {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => return value,
    };
    let mut chosen = None;
    for (i, child) in children.iter().enumerate() {
        let size = count(child);
        if *index < size {
            chosen = Some(i);
            break;
        }
        *index -= size;
    }
    match chosen {
        Some(i) => walk(children.swap_remove(i), index),
        None => children.swap_remove(0),
    }
}

/// A structural mutation of a seed transaction: a node replaced, removed, duplicated or taken
/// from another seed; a field added; an event copied into another place.
fn mutate_json(rng: &mut StdRng, mut value: Value, corpus: &[Value]) -> Value {
    for _ in 0..rng.random_range(1..=3) {
        let other = &corpus[rng.random_range(0..corpus.len())];
        let donor = {
            let mut copy = other.clone();
            pick(rng, &mut copy).clone()
        };
        let action = rng.random_range(0..7);
        let node = pick(rng, &mut value);
        match (action, node) {
            (0, node) => *node = replacement(rng),
            (1, node) => *node = donor,
            (2, Value::Object(map)) if !map.is_empty() => {
                let key = map.keys().nth(rng.random_range(0..map.len())).cloned();
                if let Some(key) = key {
                    map.remove(&key);
                }
            }
            (3, Value::Object(map)) => {
                map.insert(
                    KEYS[rng.random_range(0..KEYS.len())].to_owned(),
                    replacement(rng),
                );
            }
            (4, Value::Array(items)) if !items.is_empty() => {
                let item = items[rng.random_range(0..items.len())].clone();
                let times = rng.random_range(1..50);
                items.extend(std::iter::repeat_n(item, times));
            }
            (5, Value::Array(items)) => items.push(donor),
            (6, Value::String(text)) => {
                let at = rng.random_range(0..=text.len());
                if text.is_char_boundary(at) {
                    text.insert_str(at, DICTIONARY[rng.random_range(0..DICTIONARY.len())]);
                }
            }
            (_, node) => *node = replacement(rng),
        }
    }
    value
}

fn generator() -> Box<fuzz::Generator> {
    let mut parsed: Option<Vec<Value>> = None;
    Box::new(move |rng, corpus| {
        let trees = parsed.get_or_insert_with(|| {
            corpus
                .iter()
                .filter_map(|input| serde_json::from_slice(input).ok())
                .collect()
        });
        match rng.random_range(0..10) {
            // Arbitrary bytes.
            0 => (0..rng.random_range(0..256))
                .map(|_| rng.random())
                .collect(),
            1..=3 => {
                let seed = &corpus[rng.random_range(0..corpus.len())];
                fuzz::mutate_bytes(rng, seed, corpus, DICTIONARY, 1 << 20)
            }
            _ => {
                let seed = trees[rng.random_range(0..trees.len())].clone();
                serde_json::to_vec(&mutate_json(rng, seed, trees)).unwrap()
            }
        }
    })
}

/// Transaction IDs tried beside the usual one: the ID is a path segment of the request ruma reads.
const TXN_IDS: &[&str] = &["1234", "", "a/b", "%zz", "é", " ", "?x=1", "#"];

/// How far inputs went: parsed as transactions, events admitted, index changes planned.
static PARSED: AtomicU64 = AtomicU64::new(0);
static ADMITTED: AtomicU64 = AtomicU64::new(0);
static PLANNED: AtomicU64 = AtomicU64::new(0);

/// One input through the whole pipeline; `Err` names the property broken.
fn check(input: &[u8]) -> Result<(), String> {
    // The transaction ID is taken from the input's length, so a saved input replays the same.
    let txn_id = TXN_IDS[input.len() % TXN_IDS.len()];
    let Ok(parsed) = parse_transaction_lenient(txn_id, input) else {
        return Ok(());
    };
    PARSED.fetch_add(1, Relaxed);
    let transaction = parsed.transaction;
    let _ = parvis_e2ee::changes::changes_for(
        &transaction,
        user_id!("@parvis:localhost"),
        device_id!("PARVISBOT"),
    );
    let admitted = admit_events(&transaction.events);
    let identity = parvis::projection::Identity {
        bot: BOT.try_into().unwrap(),
        user_prefix: "parvis_".to_owned(),
    };
    ADMITTED.fetch_add(admitted.events.len() as u64, Relaxed);
    let mut failures = Vec::new();
    let mut record = |changes: Vec<IndexChange>, context: &str| {
        PLANNED.fetch_add(changes.len() as u64, Relaxed);
        for change in changes {
            if let IndexChange::Skip(skipped) = change
                && skipped.cause == SkipCause::ProjectionFailed
            {
                failures.push(format!(
                    "ProjectionFailed ({context}) on {:?} in {:?}: {}",
                    skipped.event_id, skipped.room_id, skipped.reason
                ));
            }
        }
    };
    record(
        plan_transaction(&identity, ProjectionContext::default(), &admitted.events),
        "empty context",
    );
    // Every room followed, created by the bot, in a room version taken from the input.
    let versions = [
        None,
        Some(RoomVersionId::V1),
        Some(RoomVersionId::V10),
        Some(RoomVersionId::V11),
        Some(RoomVersionId::V12),
    ];
    let mut context = ProjectionContext::default();
    for event in &admitted.events {
        context.tracked.insert(
            event.room_id.clone(),
            TrackedRoom {
                creator: Some(identity.bot.clone()),
                room_version: versions[(u64::from(event.origin_server_ts.get()) % 5) as usize]
                    .clone(),
            },
        );
        context.revision_roots.insert(event.event_id.clone());
    }
    record(
        plan_transaction(&identity, context, &admitted.events),
        "rooms created by the bot",
    );
    match failures.is_empty() {
        true => Ok(()),
        false => Err(failures.join("; ")),
    }
}

#[test]
fn transactions_never_break_the_pipeline() {
    fuzz::run(
        "transactions",
        Duration::from_secs(1),
        generator(),
        Arc::new(check),
    );
    println!(
        "fuzz transactions: {} inputs parsed, {} events admitted, {} index changes planned",
        PARSED.load(Relaxed),
        ADMITTED.load(Relaxed),
        PLANNED.load(Relaxed)
    );
}

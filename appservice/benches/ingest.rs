//! Transaction ingest throughput: parse a homeserver transaction, deduplicate its events,
//! project them into the index and commit — what happens before Parvis acknowledges.
//!
//! `cargo bench -p parvis --bench ingest` (PostgreSQL too when `PARVIS_BENCH_POSTGRES_URL`
//! names an empty database, e.g. `postgres://postgres@127.0.0.1:5432/parvis_bench`).

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_main};
use parvis::{
    indexer::Indexer,
    ingest::room_events,
    projection::Identity,
    store::{Index, IndexStore},
};
use parvis_homeserver_bridge::transaction::parse_transaction;
use serde_json::{Value, json};

const EVENTS_PER_TRANSACTION: usize = 100;

/// A transaction as Synapse sends it under load: mostly messages in a few community rooms,
/// state updates and membership changes. With `pages`, the state updates are wiki page
/// revisions (each also indexed for search, with its revision and a notice job); without, they
/// are room topics.
fn transaction(batch: usize, pages: bool) -> Vec<u8> {
    let events: Vec<Value> = (0..EVENTS_PER_TRANSACTION)
        .map(|i| {
            let n = batch * EVENTS_PER_TRANSACTION + i;
            let room = format!("!room{}:bench.example", n % 8);
            let base = json!({
                "event_id": format!("$event{n}"), "room_id": room, "origin_server_ts": 1_700_000_000_000u64 + n as u64,
                "sender": format!("@agent{}:bench.example", n % 50),
                "unsigned": {"age": 12},
            });
            let mut event = base;
            match i % 10 {
                0 | 1 if !pages => {
                    event["type"] = json!("m.room.topic");
                    event["state_key"] = json!("");
                    event["content"] = json!({"topic": format!("Ordre du jour {n}: ").repeat(12)});
                }
                0 | 1 => {
                    event["type"] = json!("org.parvis.wiki.page");
                    event["state_key"] = json!(format!("page{}", n % 500));
                    event["content"] = json!({"title": format!("Page {n}"), "body": "Lorem ipsum dolor sit amet. ".repeat(20)});
                }
                2 => {
                    event["type"] = json!("m.room.member");
                    event["state_key"] = event["sender"].clone();
                    event["content"] = json!({"membership": "join", "displayname": format!("Agent {}", n % 50)});
                }
                _ => {
                    event["type"] = json!("m.room.message");
                    event["content"] = json!({"msgtype": "m.text", "body": format!("Message {n}: compte rendu de la réunion")});
                }
            }
            event
        })
        .collect();
    serde_json::to_vec(&json!({"events": events})).unwrap_or_default()
}

fn identity() -> Identity {
    Identity {
        bot: "@parvis:bench.example"
            .try_into()
            .unwrap_or_else(|_| unreachable!()),
        user_prefix: "parvis_".to_owned(),
    }
}

async fn track_rooms(index: &Index) {
    // The bot created the rooms, so their state is indexed.
    let creates: Vec<Value> = (0..8)
        .map(|r| json!({
            "event_id": format!("$create{r}"), "room_id": format!("!room{r}:bench.example"), "type": "m.room.create",
            "state_key": "", "sender": "@parvis:bench.example", "origin_server_ts": 1, "content": {"room_version": "12"},
        }))
        .collect();
    let body = serde_json::to_vec(&json!({"events": creates})).unwrap_or_default();
    let txn = parse_transaction("setup", &body).unwrap_or_else(|e| panic!("{e}"));
    index
        .ingest(&identity(), &room_events(&txn.events))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn bench_backend(c: &mut Criterion, name: &str, url: &str) {
    bench_mix(c, name, url, false);
    bench_mix(c, name, url, true);
}

fn bench_mix(c: &mut Criterion, name: &str, url: &str, pages: bool) {
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let index = runtime.block_on(async {
        let index = Index::connect(url, 4)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        index.clear().await.unwrap_or_else(|e| panic!("{e}"));
        track_rooms(&index).await;
        index
    });
    let identity = identity();
    let mut batch = 0;
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(EVENTS_PER_TRANSACTION as u64));
    group.measurement_time(Duration::from_secs(10));
    let mix = if pages {
        "with_wiki_pages"
    } else {
        "chat_and_state"
    };
    group.bench_function(format!("{name}/{mix}/transaction_of_100_events"), |b| {
        b.to_async(&runtime).iter_batched(
            || {
                batch += 1;
                transaction(batch, pages)
            },
            |body| {
                let (index, identity) = (&index, &identity);
                async move {
                    let txn = parse_transaction("1", &body).unwrap_or_else(|e| panic!("{e}"));
                    let report = index
                        .ingest(identity, &room_events(&txn.events))
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(report.new_events, EVENTS_PER_TRANSACTION);
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    bench_backend(c, "sqlite", &sqlite);
    if let Ok(url) = std::env::var("PARVIS_BENCH_POSTGRES_URL") {
        bench_backend(c, "postgres", &url);
    }
}

#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(benches, super::ingest);
}
criterion_main!(harness::benches);

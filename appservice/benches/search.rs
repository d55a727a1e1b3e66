//! Publishing benchmarks: indexing wiki page events, and full-text search over 100,000 pages.
//!
//! `cargo bench -p parvis --bench search` (PostgreSQL too when `PARVIS_BENCH_POSTGRES_URL`
//! names an empty database). Search latency percentiles are printed after criterion's output.

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_main};
use parvis::{
    indexer::Indexer,
    ingest::room_events,
    projection::Identity,
    store::{Index, IndexStore, SearchQuery},
};
use parvis_homeserver_bridge::transaction::parse_transaction;
use serde_json::{Value, json};

const ROOMS: usize = 20;
const BOT: &str = "@parvis:bench.example";
const READER: &str = "@agent:bench.example";

/// A deterministic pseudo-random generator (xorshift), so runs are comparable.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, words: &'a [String]) -> &'a str {
        // Zipf-like: frequent words are much more frequent.
        let rank = (self.next() % words.len() as u64) as f64;
        let skewed = (rank * rank / words.len() as f64) as usize;
        &words[skewed.min(words.len() - 1)]
    }
}

/// A vocabulary of French-looking words, some accented.
fn vocabulary() -> Vec<String> {
    let stems = [
        "réunion",
        "événement",
        "budget",
        "ministère",
        "agent",
        "projet",
        "calendrier",
        "procédure",
        "sécurité",
        "données",
        "réseau",
        "équipe",
        "décision",
        "comité",
        "rapport",
        "étude",
        "marché",
        "contrat",
        "formation",
        "télétravail",
        "élection",
        "préfecture",
        "région",
        "santé",
        "éducation",
        "transport",
        "énergie",
        "numérique",
    ];
    let suffixes = [
        "", "s", "al", "aux", "ique", "ation", "eur", "ée", "ement", "iste",
    ];
    let mut words = Vec::new();
    for (i, stem) in stems.iter().enumerate() {
        for (j, suffix) in suffixes.iter().enumerate() {
            for k in 0..12 {
                words.push(format!(
                    "{stem}{suffix}{}",
                    if k == 0 {
                        String::new()
                    } else {
                        format!("{}", (i * 31 + j * 7 + k) % 97)
                    }
                ));
            }
        }
    }
    words
}

fn page_event(n: usize, words: &[String], random: &mut Random) -> Value {
    let title: Vec<&str> = (0..4).map(|_| random.pick(words)).collect();
    let body: Vec<String> = (0..12)
        .map(|_| {
            let sentence: Vec<&str> = (0..14).map(|_| random.pick(words)).collect();
            format!("{}.", sentence.join(" "))
        })
        .collect();
    json!({
        "event_id": format!("$page{n}"), "room_id": format!("!wiki{}:bench.example", n % ROOMS),
        "sender": READER, "type": "org.parvis.wiki.page", "state_key": format!("p{n}"),
        "origin_server_ts": 1_700_000_000_000u64 + n as u64,
        "content": {"title": title.join(" "), "slug": format!("page-{n}"), "body": format!("{}\n\nVoir [[Accueil]].", body.join(" ")), "tags": [random.pick(words)]},
    })
}

fn identity() -> Identity {
    Identity {
        bot: BOT.try_into().unwrap_or_else(|_| unreachable!()),
        user_prefix: "parvis_".to_owned(),
    }
}

/// A transaction's body, as the homeserver sends it.
fn transaction_body(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"events": events})).unwrap_or_default()
}

/// Indexes a transaction from the bytes received: parsing is part of indexing.
async fn ingest_body(index: &Index, body: Vec<u8>) {
    let txn = parse_transaction("bench", &body).unwrap_or_else(|e| panic!("{e}"));
    index
        .ingest(&identity(), &room_events(&txn.events))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn ingest(index: &Index, events: Vec<Value>) {
    ingest_body(index, transaction_body(events)).await;
}

/// Rooms created by the bot, with the reader joined to all but the last.
async fn rooms(index: &Index) {
    let mut events = Vec::new();
    for r in 0..ROOMS {
        let room = format!("!wiki{r}:bench.example");
        events.push(json!({"event_id": format!("$c{r}"), "room_id": room, "type": "m.room.create", "state_key": "", "sender": BOT,
            "origin_server_ts": 1, "content": {"room_version": "12"}}));
        let membership = if r + 1 == ROOMS { "leave" } else { "join" };
        events.push(json!({"event_id": format!("$m{r}"), "room_id": room, "type": "m.room.member", "state_key": READER,
            "sender": READER, "origin_server_ts": 2, "content": {"membership": membership}}));
    }
    ingest(index, events).await;
}

/// Waits until the words of every page written are indexed for search.
async fn searchable(index: &Index) {
    while index
        .search_backlog()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        > 0
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn open(url: &str) -> Index {
    let index = Index::connect(url, 4)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    index.clear().await.unwrap_or_else(|e| panic!("{e}"));
    rooms(&index).await;
    index
}

fn bench_backend(c: &mut Criterion, name: &str, url: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let words = vocabulary();

    // Indexing throughput: transactions of 100 new page events (Synapse's largest), from the
    // bytes received to the commit.
    let index = runtime.block_on(open(url));
    let mut random = Random(42);
    let mut next = 0;
    let mut group = c.benchmark_group("publishing");
    group.throughput(Throughput::Elements(100));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(format!("{name}/index_100_pages"), |b| {
        b.to_async(&runtime).iter_batched(
            || {
                let events: Vec<Value> = (next..next + 100)
                    .map(|n| page_event(n, &words, &mut random))
                    .collect();
                next += 100;
                transaction_body(events)
            },
            |body| ingest_body(&index, body),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // Search over 100,000 pages.
    let index = runtime.block_on(async {
        let index = open(url).await;
        // The words of the pages above, and their removal, are not part of this measure.
        searchable(&index).await;
        let mut random = Random(7);
        let started = Instant::now();
        for batch in 0..200 {
            let events: Vec<Value> = (batch * 500..(batch + 1) * 500)
                .map(|n| page_event(n, &words, &mut random))
                .collect();
            ingest(&index, events).await;
        }
        let committed = started.elapsed();
        // SQLite indexes words beside the writer: the pages are searchable once it caught up.
        searchable(&index).await;
        eprintln!(
            "{name}: indexed 100,000 pages in {:.1} s, all searchable after {:.1} s",
            committed.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        index
    });
    // Queries name content words: drawn uniformly from the vocabulary (people do not search
    // for the words every page contains; that worst case is measured separately below).
    let mut random = Random(99);
    let queries: Vec<SearchQuery> = (0..2000)
        .map(|i| {
            let count = 1 + (random.next() % 3) as usize;
            let text: Vec<&str> = (0..count)
                .map(|_| words[(random.next() % words.len() as u64) as usize].as_str())
                .collect();
            SearchQuery {
                text: text.join(" "),
                user_id: READER.to_owned(),
                kind: (i % 4 == 0).then(|| "wiki_page".to_owned()),
                limit: 20,
                ..Default::default()
            }
        })
        .collect();
    let mut group = c.benchmark_group("publishing");
    group.measurement_time(Duration::from_secs(10));
    let mut position = 0;
    group.bench_function(format!("{name}/search_100k_pages"), |b| {
        b.to_async(&runtime).iter(|| {
            position = (position + 1) % queries.len();
            let query = &queries[position];
            let index = &index;
            async move { index.search(query).await.unwrap_or_else(|e| panic!("{e}")) }
        })
    });
    group.finish();
    let mut latencies: Vec<Duration> = runtime.block_on(async {
        let mut latencies = Vec::with_capacity(queries.len());
        let mut hits = 0;
        for query in &queries {
            let started = Instant::now();
            hits += index
                .search(query)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .len();
            latencies.push(started.elapsed());
        }
        eprintln!("{name}: {hits} hits over {} queries", queries.len());
        latencies
    });
    latencies.sort();
    let worst = runtime.block_on(async {
        let query = SearchQuery {
            text: words[0].clone(),
            user_id: READER.to_owned(),
            limit: 20,
            ..Default::default()
        };
        let started = Instant::now();
        let hits = index.search(&query).await.unwrap_or_else(|e| panic!("{e}"));
        (started.elapsed(), hits.len())
    });
    eprintln!(
        "search_100k {name}: worst case, the most frequent word ({:?}, in nearly every page): {:.1} ms",
        words[0],
        worst.0.as_secs_f64() * 1000.0
    );
    let _ = worst.1;
    let percentile = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    eprintln!(
        "search_100k {name}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} queries",
        percentile(0.50),
        percentile(0.95),
        percentile(0.99),
        percentile(1.0),
        latencies.len()
    );
}

fn publishing(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    bench_backend(c, "sqlite", &sqlite);
    if let Ok(url) = std::env::var("PARVIS_BENCH_POSTGRES_URL") {
        bench_backend(c, "postgres", &url);
    }
}

#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(benches, super::publishing);
}
criterion_main!(harness::benches);

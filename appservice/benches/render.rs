//! Rendering benchmarks: a megabyte of each input the hardening review found quadratic, and an
//! ordinary page for scale.
//!
//! `cargo bench -p parvis --bench render`. Each input is rendered to sanitized HTML, to plain
//! text (search) and for its wiki links, as ingest, reads and search do. `PARVIS_RENDER_BENCH_KIB`
//! sets the input size (1024 by default), so that code that is not linear can be measured too.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_main};
use parvis::publishing::render::{extract_wiki_links, plain_text, render_markdown};

fn size() -> usize {
    std::env::var("PARVIS_RENDER_BENCH_KIB")
        .ok()
        .and_then(|kib| kib.parse::<usize>().ok())
        .unwrap_or(1024)
        * 1024
}

fn repeated(piece: &str) -> String {
    piece.repeat(size() / piece.len())
}

fn ordinary_page() -> String {
    let paragraph = "La **procédure** de [[Budget|budget]] est décrite sur https://example.org/a \
                     et dans le *guide* (voir [[Calendrier]]).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n";
    repeated(paragraph)
}

fn inputs() -> Vec<(&'static str, String)> {
    vec![
        ("ordinary page", ordinary_page()),
        ("[[ × N", repeated("[[")),
        ("[a × N", repeated("[a")),
        ("xhttp:// × N", repeated("xhttp://")),
        (
            "http://a + ) × N",
            format!("http://a{}", ")".repeat(size())),
        ),
        ("http://( × N", repeated("http://(")),
    ]
}

fn render(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group(format!("render {} KiB", size() / 1024));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(size() as u64));
    for (name, input) in inputs() {
        group.bench_function(name, |bench| {
            bench.iter(|| {
                let html = render_markdown(&input, &|_| None);
                let text = plain_text(&input);
                let links = extract_wiki_links(&input);
                (html.html.len(), text.len(), links.len())
            })
        });
    }
    group.finish();
}

fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    render(&mut criterion);
    criterion.final_summary();
}

criterion_main!(benches);

//! A small bounded fuzz runner shared by the fuzz targets of this directory.
//!
//! No coverage guidance: a seeded random engine mutates the committed seed corpus
//! (`tests/fuzz-corpus/<target>/`) with byte flips, splices and insertions of dictionary
//! fragments, runs the target on each input, and stops when its time budget is spent. A target
//! returns `Err` for an input that breaks a property; a panic is a failure too. Every failing
//! input is written to `$CARGO_TARGET_TMPDIR/fuzz-findings/<target>/`, and the test fails with
//! the list, the seed and the command that replays it.
//!
//! - `PARVIS_FUZZ_SECS`: time budget per target (default 20 s);
//! - `PARVIS_FUZZ_SEED`: the random seed (default: from the clock, printed);
//! - `PARVIS_FUZZ_REPLAY`: a file or directory of inputs to run instead of fuzzing.
//!
//! The runner works on a thread of its own and the test waits for it with a deadline, so an
//! input that never finishes fails the test (with that input saved) instead of hanging it.

#![allow(dead_code, missing_docs)]

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};

/// The time budget of one target run.
pub fn budget() -> Duration {
    let secs = std::env::var("PARVIS_FUZZ_SECS")
        .ok()
        .and_then(|value| value.parse::<f64>().ok())
        .unwrap_or(20.0);
    Duration::from_secs_f64(secs.max(0.0))
}

/// The random seed of this run.
pub fn seed() -> u64 {
    std::env::var("PARVIS_FUZZ_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos() as u64)
        })
}

/// The committed seed corpus of `target`, sorted by file name.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(target);
    let mut files = read_inputs(&dir);
    assert!(!files.is_empty(), "no seed corpus in {}", dir.display());
    files.sort();
    files
}

fn read_inputs(path: &Path) -> Vec<(String, Vec<u8>)> {
    if path.is_file() {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return vec![(path.display().to_string(), bytes)];
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .map(|entry| {
            let bytes = std::fs::read(entry.path())
                .unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
            (entry.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// An input that broke a property.
#[derive(Debug)]
pub struct Finding {
    /// Where the input was saved.
    pub path: PathBuf,
    /// What went wrong.
    pub what: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs run.
    pub executions: u64,
    /// Failing inputs, deduplicated by message.
    pub findings: Vec<Finding>,
    /// The slowest input and its time.
    pub slowest: Option<(Duration, usize)>,
}

/// A target: the property check of one input.
pub type Target = dyn Fn(&[u8]) -> Result<(), String> + Send + Sync;

/// Produces a new input from the random engine and the corpus.
pub type Generator = dyn FnMut(&mut StdRng, &[Vec<u8>]) -> Vec<u8> + Send;

/// Runs `target` on the corpus, then on generated inputs until the budget is spent.
///
/// `per_input` bounds each execution (a slower input is a finding); the whole run is bounded
/// by the budget plus `per_input` plus a grace second.
pub fn run(name: &str, per_input: Duration, generate: Box<Generator>, target: Arc<Target>) {
    let seed = seed();
    let budget = budget();
    let corpus = corpus(name);
    let replay = std::env::var_os("PARVIS_FUZZ_REPLAY").map(PathBuf::from);
    println!(
        "fuzz {name}: seed {seed}, budget {budget:?}, {} seed inputs{}",
        corpus.len(),
        replay
            .as_ref()
            .map(|path| format!(", replaying {}", path.display()))
            .unwrap_or_default()
    );
    // The input being run, for the report when it never finishes.
    let current: Arc<Mutex<Vec<u8>>> = Arc::default();
    let (done, finished) = mpsc::channel();
    let worker = {
        let (name, current) = (name.to_owned(), current.clone());
        std::thread::Builder::new()
            .name(format!("fuzz-{name}"))
            .stack_size(64 * 1024 * 1024)
            .spawn(move || {
                let report = fuzz_loop(
                    &name, seed, budget, per_input, corpus, replay, generate, &target, &current,
                );
                let _ = done.send(report);
            })
            .unwrap_or_else(|e| panic!("cannot start the fuzz thread: {e}"))
    };
    let report = match finished.recv_timeout(budget + per_input + Duration::from_secs(1)) {
        Ok(report) => report,
        Err(_) => {
            let input = current
                .lock()
                .map(|input| input.clone())
                .unwrap_or_default();
            let path = save(name, &input);
            panic!(
                "fuzz {name}: an input did not finish within {per_input:?} (seed {seed}); \
                 saved as {}",
                path.display()
            );
        }
    };
    let _ = worker.join();
    println!(
        "fuzz {name}: {} executions, slowest {:?}",
        report.executions, report.slowest
    );
    if !report.findings.is_empty() {
        let list: Vec<String> = report
            .findings
            .iter()
            .map(|finding| format!("- {}\n  {}", finding.path.display(), finding.what))
            .collect();
        panic!(
            "fuzz {name}: {} failing inputs (seed {seed}); replay one with \
             PARVIS_FUZZ_REPLAY=<file> cargo test -p parvis --test fuzz_{name}\n{}",
            report.findings.len(),
            list.join("\n")
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn fuzz_loop(
    name: &str,
    seed: u64,
    budget: Duration,
    per_input: Duration,
    corpus: Vec<(String, Vec<u8>)>,
    replay: Option<PathBuf>,
    mut generate: Box<Generator>,
    target: &Arc<Target>,
    current: &Mutex<Vec<u8>>,
) -> Report {
    let mut report = Report::default();
    let mut messages = std::collections::HashSet::new();
    let mut run_one = |input: &[u8], report: &mut Report| {
        if let Ok(mut slot) = current.lock() {
            slot.clear();
            slot.extend_from_slice(input);
        }
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| target(input)));
        let took = started.elapsed();
        report.executions += 1;
        if report.slowest.is_none_or(|(slowest, _)| took > slowest) {
            report.slowest = Some((took, input.len()));
        }
        let failure = match outcome {
            Ok(Ok(())) if took > per_input => Some(format!(
                "took {took:?} (over {per_input:?}) for {} bytes",
                input.len()
            )),
            Ok(Ok(())) => None,
            Ok(Err(what)) => Some(what),
            Err(panic) => Some(format!("panicked: {}", panic_message(&*panic))),
        };
        if let Some(what) = failure {
            // One saved input per distinct message: a bug is usually met many times.
            let key: String = what.chars().take(160).collect();
            if messages.insert(key) {
                let path = save(name, input);
                report.findings.push(Finding { path, what });
            }
        }
    };
    if let Some(replay) = replay {
        for (_, input) in read_inputs(&replay) {
            run_one(&input, &mut report);
        }
        return report;
    }
    for (_, input) in &corpus {
        run_one(input, &mut report);
    }
    let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, input)| input).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let deadline = Instant::now() + budget;
    while Instant::now() < deadline && report.findings.len() < 20 {
        let input = generate(&mut rng, &seeds);
        run_one(&input, &mut report);
    }
    report
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Writes a failing input where the report says, named by its content.
fn save(name: &str, input: &[u8]) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-findings")
        .join(name);
    let _ = std::fs::create_dir_all(&dir);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut hasher);
    let path = dir.join(format!("{:016x}", hasher.finish()));
    let _ = std::fs::write(&path, input);
    path
}

/// Byte-level mutations: flips, interesting bytes, deletions, duplications, splices with
/// another corpus input and insertions of `dictionary` entries; one to four at a time, the
/// result cut at `max_len`.
pub fn mutate_bytes(
    rng: &mut StdRng,
    input: &[u8],
    corpus: &[Vec<u8>],
    dictionary: &[&str],
    max_len: usize,
) -> Vec<u8> {
    const INTERESTING: &[u8] = b"\0\x01\x7f\x80\xff\"\\{}[],:-+.eE0/\n\t <>&#;*_`|!()";
    let mut data = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = data.len();
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let at = rng.random_range(0..len);
                data[at] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let at = rng.random_range(0..len);
                data[at] = INTERESTING[rng.random_range(0..INTERESTING.len())];
            }
            2 if len > 0 => {
                let start = rng.random_range(0..len);
                let end = (start + rng.random_range(1..=16.min(len - start))).min(len);
                data.drain(start..end);
            }
            3 if len > 0 => {
                // Repeat a short range: growth, deep nesting, long runs.
                let start = rng.random_range(0..len);
                let end = (start + rng.random_range(1..=8)).min(len);
                let piece = data[start..end].to_vec();
                let times = rng.random_range(1..=64);
                let tail = data.split_off(end);
                for _ in 0..times {
                    data.extend_from_slice(&piece);
                }
                data.extend_from_slice(&tail);
            }
            4 => {
                let other = &corpus[rng.random_range(0..corpus.len())];
                let cut = rng.random_range(0..=data.len());
                let from = rng.random_range(0..=other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            5 if len > 0 => {
                data.truncate(rng.random_range(0..len));
            }
            6 | 7 if !dictionary.is_empty() => {
                let word = dictionary[rng.random_range(0..dictionary.len())];
                let at = rng.random_range(0..=data.len());
                data.splice(at..at, word.bytes());
            }
            _ => {
                let at = rng.random_range(0..=data.len());
                data.insert(at, rng.random());
            }
        }
    }
    data.truncate(max_len);
    data
}

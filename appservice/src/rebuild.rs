//! `parvis rebuild-index`: drops the index and rebuilds it from the homeserver, room by room.

use std::io::Write;

use ruma::api::client::membership::joined_rooms;

use crate::{
    bot::{Bot, JobError},
    store::{Index, IndexStore},
};

/// A one-line progress bar on a terminal (plain lines otherwise).
pub struct ProgressLine {
    label: &'static str,
    total: usize,
    interactive: bool,
}

impl ProgressLine {
    /// A progress line for `total` steps.
    pub fn new(label: &'static str, total: usize) -> Self {
        use std::io::IsTerminal;
        Self {
            label,
            total,
            interactive: std::io::stderr().is_terminal(),
        }
    }

    /// Shows that `done` steps are done.
    pub fn update(&self, done: usize) {
        let width = 30;
        let filled = (done * width)
            .checked_div(self.total)
            .unwrap_or(width)
            .min(width);
        let bar = format!("[{}{}]", "#".repeat(filled), " ".repeat(width - filled));
        let mut stderr = std::io::stderr();
        if self.interactive {
            let _ = write!(stderr, "\r{} {bar} {done}/{}", self.label, self.total);
            if done == self.total {
                let _ = writeln!(stderr);
            }
        } else if done == self.total || done.is_multiple_of(50) {
            let _ = writeln!(stderr, "{} {bar} {done}/{}", self.label, self.total);
        }
    }
}

/// Empties the index and rebuilds it from the current state of every room the bot is joined
/// to. Returns how many rooms were indexed.
pub async fn rebuild_index(bot: &Bot, index: &Index) -> Result<usize, JobError> {
    // Ask the homeserver first: if it is down, the existing index is left as it was.
    bot.intents()
        .bot()
        .send(joined_rooms::v3::Request::new())
        .await?;
    index.clear().await?;
    let mut progress = None;
    let rooms = bot
        .reconcile_all(|done, total| {
            progress
                .get_or_insert_with(|| ProgressLine::new("rebuilding the index", total))
                .update(done)
        })
        .await?;
    // On SQLite, the words of the pages are indexed for search beside the writer: the index is
    // rebuilt when they are too.
    let mut words: Option<ProgressLine> = None;
    loop {
        let waiting = usize::try_from(index.search_backlog().await?).unwrap_or(usize::MAX);
        if waiting > 0 || words.is_some() {
            let line = words
                .get_or_insert_with(|| ProgressLine::new("indexing words for search", waiting));
            line.update(line.total.saturating_sub(waiting));
        }
        if waiting == 0 {
            return Ok(rooms);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

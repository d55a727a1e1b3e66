//! Line diffs between revisions: a list of lines for the web app, unified text for the bot.
//!
//! Both compare lines as a reader sees them: `\r\n` and `\n` endings are the same, and a
//! missing newline at the end of a text is no change. Diffing has a time budget, so a huge
//! rewrite still answers quickly, with a correct but possibly longer than minimal diff.

use std::time::Duration;

use serde::Serialize;
use similar::{Algorithm, ChangeTag, TextDiff, TextDiffConfig};

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "op", content = "text", rename_all = "snake_case")]
pub enum DiffLine {
    /// In both.
    Same(String),
    /// Only in the newer text.
    Added(String),
    /// Only in the older text.
    Removed(String),
}

/// How long the diff algorithm may search for the shortest diff before settling.
const TIME_BUDGET: Duration = Duration::from_millis(500);

fn config() -> TextDiffConfig {
    let mut config = TextDiff::configure();
    config.algorithm(Algorithm::Myers).timeout(TIME_BUDGET);
    config
}

/// The text with `\n` line endings and a final newline (empty text stays empty).
fn normalized(text: &str) -> String {
    let mut lines = String::with_capacity(text.len() + 1);
    for line in text.lines() {
        lines.push_str(line);
        lines.push('\n');
    }
    lines
}

/// The lines of `old` and `new`, in order, marked as kept, added or removed (removals before
/// the additions that replace them). Lines carry no line ending.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let (old, new) = (normalized(old), normalized(new));
    config()
        .diff_lines(&old, &new)
        .iter_all_changes()
        .map(|change| {
            let line = change.value().trim_end_matches('\n').to_owned();
            match change.tag() {
                ChangeTag::Equal => DiffLine::Same(line),
                ChangeTag::Insert => DiffLine::Added(line),
                ChangeTag::Delete => DiffLine::Removed(line),
            }
        })
        .collect()
}

/// A unified diff (`--- before`, `+++ after`, then `@@ -l,n +l,n @@` hunks) with `context`
/// unchanged lines around each change; empty when the texts have the same lines.
pub fn unified(old: &str, new: &str, context: usize) -> String {
    let (old, new) = (normalized(old), normalized(new));
    config()
        .diff_lines(&old, &new)
        .unified_diff()
        .context_radius(context)
        .header("before", "after")
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use DiffLine::{Added, Removed, Same};

    fn line(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn changed_lines_are_removed_then_added() {
        assert_eq!(
            diff_lines("titre\nun\ndeux\ntrois\n", "titre\nun\n2\ntrois\nquatre\n"),
            [
                Same(line("titre")),
                Same(line("un")),
                Removed(line("deux")),
                Added(line("2")),
                Same(line("trois")),
                Added(line("quatre")),
            ]
        );
    }

    #[test]
    fn line_endings_and_final_newline_are_no_change() {
        assert_eq!(
            diff_lines("a\r\nb", "a\nb\n"),
            [Same(line("a")), Same(line("b"))]
        );
        assert_eq!(unified("a\r\nb", "a\nb\n", 3), "");
        assert_eq!(unified("même\n", "même\n", 3), "");
    }

    #[test]
    fn empty_sides() {
        assert_eq!(diff_lines("", ""), []);
        assert_eq!(diff_lines("", "a\nb"), [Added(line("a")), Added(line("b"))]);
        assert_eq!(diff_lines("a", ""), [Removed(line("a"))]);
        assert_eq!(
            unified("", "nouveau", 3),
            "--- before\n+++ after\n@@ -0,0 +1 @@\n+nouveau\n"
        );
        // Blank lines are lines.
        assert_eq!(
            diff_lines("a\n\nb", "a\nb"),
            [Same(line("a")), Removed(line("")), Same(line("b"))]
        );
    }

    #[test]
    fn serialized_as_op_and_text() {
        let json = serde_json::to_value(diff_lines("a\nb", "a\nc")).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                { "op": "same", "text": "a" },
                { "op": "removed", "text": "b" },
                { "op": "added", "text": "c" },
            ])
        );
    }

    #[test]
    fn unified_hunks_carry_context() {
        let old: String = (1..=20).map(|n| format!("ligne {n}\n")).collect();
        let new = old
            .replace("ligne 3\n", "ligne trois\n")
            .replace("ligne 18\n", "");
        assert_eq!(
            unified(&old, &new, 1),
            "--- before\n+++ after\n\
             @@ -2,3 +2,3 @@\n ligne 2\n-ligne 3\n+ligne trois\n ligne 4\n\
             @@ -17,3 +17,2 @@\n ligne 17\n-ligne 18\n ligne 19\n"
        );
        // Enough context merges the two changes into one hunk.
        let merged = unified(&old, &new, 8);
        assert_eq!(merged.matches("@@ -").count(), 1, "{merged}");
        assert!(
            merged.starts_with("--- before\n+++ after\n@@ -1,20 +1,19 @@\n"),
            "{merged}"
        );
        // No context: only the changed lines.
        let bare = unified(&old, &new, 0);
        assert!(
            bare.contains("@@ -3 +3 @@\n-ligne 3\n+ligne trois\n"),
            "{bare}"
        );
        assert!(!bare.contains(" ligne 2"), "{bare}");
    }

    #[test]
    fn large_rewrites_finish() {
        let old: String = (0..5_000).map(|n| format!("ancienne {n}\n")).collect();
        let new: String = (0..5_000).map(|n| format!("nouvelle {n}\n")).collect();
        let lines = diff_lines(&old, &new);
        assert_eq!(
            lines.iter().filter(|l| matches!(l, Removed(_))).count(),
            5_000
        );
        assert_eq!(
            lines.iter().filter(|l| matches!(l, Added(_))).count(),
            5_000
        );
    }
}

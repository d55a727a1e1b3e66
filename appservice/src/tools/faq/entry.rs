//! `org.parvis.faq.entry`: a question and its answer.

use ruma::{OwnedUserId, events::macros::EventContent};
use serde::{Deserialize, Serialize};

/// `org.parvis.faq.entry`: a question and its answer, in the community's FAQ room, state key = entry ID.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "org.parvis.faq.entry", kind = State, state_key_type = String)]
pub struct FaqEntryEventContent {
    /// The question.
    pub question: String,
    /// The answer, in markdown.
    pub answer: String,
    /// Category the entry is listed under.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
    /// Position in its category (ascending).
    #[serde(default)]
    pub order: i64,
    /// Who asked for this revision, when the bot wrote it on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<OwnedUserId>,
}

impl FaqEntryEventContent {
    /// A question and its answer, uncategorised, first.
    pub fn new(question: impl Into<String>, answer: impl Into<String>) -> Self {
        Self {
            question: question.into(),
            answer: answer.into(),
            category: String::new(),
            order: 0,
            requested_by: None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::events::StateEventContent;
    use serde_json::{from_value, json, to_value};

    use super::*;

    #[test]
    fn faq_entry_round_trip() {
        let faq = json!({"question": "Q ?", "answer": "A.", "category": "Général", "order": 2});
        assert_eq!(
            to_value(from_value::<FaqEntryEventContent>(faq.clone()).unwrap()).unwrap(),
            faq
        );
        let content = FaqEntryEventContent::new("Q ?", "A.");
        let json = to_value(&content).unwrap();
        assert_eq!(json, json!({"question": "Q ?", "answer": "A.", "order": 0}));
        assert_eq!(from_value::<FaqEntryEventContent>(json).unwrap(), content);
        assert_eq!(content.event_type().to_string(), "org.parvis.faq.entry");
    }
}

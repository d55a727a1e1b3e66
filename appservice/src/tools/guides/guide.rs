//! `org.parvis.guide`: an ordered reading path through wiki pages.

use ruma::{OwnedUserId, events::macros::EventContent};
use serde::{Deserialize, Serialize};

/// `org.parvis.guide`: an ordered reading path through wiki pages, in the wiki room, state key = guide ID.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "org.parvis.guide", kind = State, state_key_type = String)]
pub struct GuideEventContent {
    /// Title.
    pub title: String,
    /// URL-friendly name; the title's slug when absent or empty.
    #[serde(default)]
    pub slug: String,
    /// Introduction, in markdown.
    #[serde(default)]
    pub description: String,
    /// The wiki page IDs, in reading order.
    #[serde(default)]
    pub pages: Vec<String>,
    /// Who asked for this revision, when the bot wrote it on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<OwnedUserId>,
}

impl GuideEventContent {
    /// A guide through `pages`, in that order.
    pub fn new(title: impl Into<String>, slug: impl Into<String>, pages: Vec<String>) -> Self {
        Self {
            title: title.into(),
            slug: slug.into(),
            description: String::new(),
            pages,
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
    fn guide_round_trip() {
        let guide = json!({"title": "Bien démarrer", "slug": "bien-demarrer", "description": "", "pages": ["p1", "p2"]});
        let content: GuideEventContent = from_value(guide.clone()).unwrap();
        assert_eq!(to_value(&content).unwrap(), guide);
        assert_eq!(
            GuideEventContent::new(
                "Bien démarrer",
                "bien-demarrer",
                vec!["p1".to_owned(), "p2".to_owned()]
            ),
            content
        );
        assert_eq!(content.event_type().to_string(), "org.parvis.guide");
    }
}

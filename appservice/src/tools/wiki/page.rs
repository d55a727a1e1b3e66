//! `org.parvis.wiki.page`: a wiki page.

use ruma::{OwnedUserId, events::macros::EventContent};
use serde::{Deserialize, Serialize};

use crate::events::MediaBody;

/// `org.parvis.wiki.page`: a wiki page, in the community's wiki room, state key = the page's
/// stable ID. Each new state event for the key is a revision; the room's history is the
/// page's history.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "org.parvis.wiki.page", kind = State, state_key_type = String)]
pub struct WikiPageEventContent {
    /// Title.
    pub title: String,
    /// URL-friendly name, unique in the wiki. Optional: when absent or empty (a page written by
    /// a client that knows only the title and body), the title's slug is used.
    #[serde(default)]
    pub slug: String,
    /// Markdown body (empty when it is in `body_media`).
    #[serde(default)]
    pub body: String,
    /// The body, when too large for an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_media: Option<MediaBody>,
    /// The parent page's ID, for the page tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Who asked for this revision, when the bot wrote it on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<OwnedUserId>,
}

impl WikiPageEventContent {
    /// A page with its title, slug and markdown body; the rest empty.
    pub fn new(title: impl Into<String>, slug: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            slug: slug.into(),
            body: body.into(),
            body_media: None,
            parent: None,
            tags: Vec::new(),
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
    fn wiki_page_round_trip() {
        let json = json!({
            "title": "Événement annuel", "slug": "evenement-annuel", "body": "# Bonjour\n[[Accueil]]",
            "parent": "p0", "tags": ["rh"], "requested_by": "@alice:hs",
        });
        let content: WikiPageEventContent = from_value(json.clone()).unwrap();
        assert_eq!(content.parent.as_deref(), Some("p0"));
        assert_eq!(to_value(&content).unwrap(), json);
        assert_eq!(content.event_type().to_string(), "org.parvis.wiki.page");
        let large = json!({"title": "T", "slug": "t", "body": "", "body_media": {"url": "mxc://hs/abc", "size": 512000, "sha256": "00"}});
        let content: WikiPageEventContent = from_value(large.clone()).unwrap();
        assert_eq!(content.body_media.as_ref().unwrap().size, 512_000);
        assert_eq!(to_value(&content).unwrap(), large);
        // In an encrypted room: an encrypted attachment, as `m.file` carries it.
        let encrypted = json!({"title": "T", "slug": "t", "body": "", "body_media": {
            "file": {"v": "v2", "url": "mxc://hs/enc", "iv": "AAAAAAAAAAAAAAAAAAAAAA",
                     "hashes": {"sha256": "qnGfGLdOLxqVnTvm4XlOUkkb7u1j1n6bJ7CRdHtVZKs"},
                     "key": {"kty": "oct", "key_ops": ["decrypt", "encrypt"], "alg": "A256CTR",
                             "k": "qcHVMSgYg-71CauWBezXI5qkaRb0LuIy-Wx5kIaHMIA", "ext": true}},
            "size": 512000, "sha256": "00"}});
        let content: WikiPageEventContent = from_value(encrypted.clone()).unwrap();
        let media = content.body_media.as_ref().unwrap();
        assert_eq!(media.mxc().unwrap().as_str(), "mxc://hs/enc");
        assert!(media.url.is_none());
        assert_eq!(to_value(&content).unwrap(), encrypted);
    }

    #[test]
    fn new_page_round_trip() {
        let content = WikiPageEventContent::new("Accueil", "accueil", "Bienvenue");
        let json = to_value(&content).unwrap();
        assert_eq!(
            json,
            json!({"title": "Accueil", "slug": "accueil", "body": "Bienvenue"})
        );
        assert_eq!(from_value::<WikiPageEventContent>(json).unwrap(), content);
    }
}

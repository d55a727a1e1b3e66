//! `org.parvis.blog.post`: a blog post, and whether it is published.

use ruma::{OwnedMxcUri, OwnedUserId, events::macros::EventContent};
use serde::{Deserialize, Serialize};

use crate::events::MediaBody;

/// Whether a blog post is visible to readers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    /// Only its authors see it.
    #[default]
    Draft,
    /// Published.
    Published,
}

/// `org.parvis.blog.post`: a blog post, in the community's blog room, state key = post ID.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, EventContent)]
#[ruma_event(type = "org.parvis.blog.post", kind = State, state_key_type = String)]
pub struct BlogPostEventContent {
    /// Title.
    pub title: String,
    /// URL-friendly name; the title's slug when absent or empty.
    #[serde(default)]
    pub slug: String,
    /// Markdown body (empty when it is in `body_media`).
    #[serde(default)]
    pub body: String,
    /// The body, when too large for an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_media: Option<MediaBody>,
    /// Cover image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<OwnedMxcUri>,
    /// Draft or published.
    #[serde(default)]
    pub status: PostStatus,
    /// When it was (or is to be) published, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<u64>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Who asked for this revision, when the bot wrote it on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<OwnedUserId>,
}

impl BlogPostEventContent {
    /// A draft with its title, slug and markdown body; the rest empty.
    pub fn new(title: impl Into<String>, slug: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            slug: slug.into(),
            body: body.into(),
            body_media: None,
            cover: None,
            status: PostStatus::Draft,
            published_at: None,
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
    fn blog_post_round_trip() {
        let post = json!({"title": "T", "slug": "t", "body": "b", "status": "published", "published_at": 5, "cover": "mxc://hs/c"});
        let content: BlogPostEventContent = from_value(post.clone()).unwrap();
        assert_eq!(content.status, PostStatus::Published);
        assert_eq!(to_value(&content).unwrap(), post);
        assert_eq!(
            from_value::<BlogPostEventContent>(json!({"title": "T", "slug": "t"}))
                .unwrap()
                .status,
            PostStatus::Draft
        );
    }

    #[test]
    fn new_post_is_a_draft() {
        let content = BlogPostEventContent::new("Lancement", "lancement", "Bientôt.");
        let json = to_value(&content).unwrap();
        assert_eq!(
            json,
            json!({"title": "Lancement", "slug": "lancement", "body": "Bientôt.", "status": "draft"})
        );
        assert_eq!(from_value::<BlogPostEventContent>(json).unwrap(), content);
        assert_eq!(content.event_type().to_string(), "org.parvis.blog.post");
    }
}

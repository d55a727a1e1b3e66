//! Likes and recommendations: 👍 and ⭐ reactions on any object, counted per object.
//!
//! A like is Matrix's own reaction (`m.reaction`, an `m.annotation` relation): on one of the
//! object's revisions (what the web app sends), or on the notice the bot posts about a
//! revision (what Element users see and react to; it refers to the revision with an
//! `m.reference` relation). Each person counts once per object and kind of reaction, whichever
//! revision or notice they reacted to; a redacted reaction uncounts. The index is rebuilt from
//! the rooms like everything else: the bot reads the annotations and references of every
//! revision again on a reconcile ([`TOOL`]'s `history_relations`).

pub mod api;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::{
    role::Role,
    tools::{Tool, ToolEvent, ToolTable, ToolWrite},
};

/// The likes tool: no room of its own, it counts in every room.
pub const TOOL: Tool = Tool {
    name: "likes",
    room: None,
    widget: None,
    events: &[("m.reaction", Role::Member)],
    help: &[
        "React 👍 (like) or ⭐ (recommend) to a page, a post or my notice about it: it counts on the object's page, and the most recommended show on the community's home.",
    ],
    migrations: &["likes"],
    tables: &[
        ToolTable {
            name: "likes",
            history: true,
            digest: "SELECT event_id, room_id, target_event_id, sender, reaction, origin_server_ts \
                     FROM likes ORDER BY event_id",
        },
        ToolTable {
            name: "like_notices",
            history: true,
            digest: "SELECT event_id, room_id, revision_event_id FROM like_notices ORDER BY event_id",
        },
    ],
    history_relations: &["m.annotation", "m.reference"],
    plan: Some(plan),
    state: None,
    publication: None,
    commands: &[],
    notices: None,
    comments: None,
};

/// What a reaction says of an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// 👍
    Like,
    /// ⭐
    Recommend,
}

impl Reaction {
    /// Both, in the order they are shown.
    pub const ALL: [Self; 2] = [Self::Like, Self::Recommend];

    /// Its name in the API and the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Like => "like",
            Self::Recommend => "recommend",
        }
    }

    /// Parses its name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|reaction| reaction.as_str() == name)
    }

    /// The key of the reaction Parvis sends.
    pub fn key(self) -> &'static str {
        match self {
            Self::Like => "👍",
            Self::Recommend => "⭐",
        }
    }

    /// What a reaction key means, if anything: 👍 and ⭐ with or without the emoji variation
    /// selector, 👍 in any skin tone.
    pub fn of_key(key: &str) -> Option<Self> {
        let mut base = key
            .chars()
            .filter(|c| *c != '\u{fe0f}' && !('\u{1f3fb}'..='\u{1f3ff}').contains(c));
        let reaction = match base.next()? {
            '👍' => Self::Like,
            '⭐' => Self::Recommend,
            _ => return None,
        };
        base.next().is_none().then_some(reaction)
    }
}

const INSERT_LIKE: &str = "INSERT INTO likes (event_id, room_id, target_event_id, sender, reaction, origin_server_ts) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING";
const INSERT_NOTICE: &str = "INSERT INTO like_notices (event_id, room_id, revision_event_id) \
     VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING";
const DELETE_LIKE: &str = "DELETE FROM likes WHERE event_id = $1";
const DELETE_NOTICE: &str = "DELETE FROM like_notices WHERE event_id = $1";

/// The event an `m.relates_to` of `rel_type` points at.
fn related<'a>(event: &ToolEvent<'a>, rel_type: &str) -> Option<(&'a str, &'a Value)> {
    let relation = event.content.get("m.relates_to")?;
    if relation.get("rel_type").and_then(Value::as_str) != Some(rel_type) {
        return None;
    }
    let target = relation.get("event_id").and_then(Value::as_str)?;
    target.starts_with('$').then_some((target, relation))
}

/// The planner: reactions counted, redactions uncounted, the bot's notices remembered.
pub fn plan(event: &ToolEvent<'_>) -> Vec<ToolWrite> {
    if event.state_key.is_some() {
        return Vec::new();
    }
    if let Some(redacted) = event.redacts {
        return [DELETE_LIKE, DELETE_NOTICE]
            .into_iter()
            .map(|statement| ToolWrite {
                statement,
                args: vec![redacted.as_str().into()],
            })
            .collect();
    }
    match event.event_type {
        "m.reaction" => {
            let Some((target, relation)) = related(event, "m.annotation") else {
                return Vec::new();
            };
            let Some(reaction) = relation
                .get("key")
                .and_then(Value::as_str)
                .and_then(Reaction::of_key)
            else {
                return Vec::new();
            };
            vec![ToolWrite {
                statement: INSERT_LIKE,
                args: vec![
                    event.event_id.as_str().into(),
                    event.room_id.as_str().into(),
                    target.into(),
                    event.sender.as_str().into(),
                    reaction.as_str().into(),
                    i64::from(event.origin_server_ts.get()).into(),
                ],
            }]
        }
        // Only the bot's own notices stand for an object: anyone else's reference could make
        // reactions to their message count for a page.
        "m.room.message" if event.sent_by_bot => match related(event, "m.reference") {
            Some((revision, _)) => vec![ToolWrite {
                statement: INSERT_NOTICE,
                args: vec![
                    event.event_id.as_str().into(),
                    event.room_id.as_str().into(),
                    revision.into(),
                ],
            }],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The events that stand for one object: its revisions and the bot's notices about them.
/// Parameters: `$1` room, `$2` kind, `$3` object.
const OBJECT_TARGETS: &str = "SELECT event_id FROM publication_revisions \
     WHERE room_id = $1 AND kind = $2 AND object_id = $3 \
     UNION SELECT n.event_id FROM like_notices n \
     JOIN publication_revisions r ON r.event_id = n.revision_event_id \
     WHERE r.room_id = $1 AND r.kind = $2 AND r.object_id = $3";

/// People per reaction on one object: rows `(reaction, count)`.
pub(crate) fn object_counts_query() -> String {
    format!(
        "SELECT l.reaction, COUNT(DISTINCT l.sender) FROM likes l \
         WHERE l.room_id = $1 AND l.target_event_id IN ({OBJECT_TARGETS}) GROUP BY l.reaction"
    )
}

/// One person's reactions on one object (`$4`): rows `(reaction, event_id)`.
pub(crate) fn own_reactions_query() -> String {
    format!(
        "SELECT l.reaction, l.event_id FROM likes l \
         WHERE l.room_id = $1 AND l.sender = $4 AND l.target_event_id IN ({OBJECT_TARGETS}) \
         ORDER BY l.origin_server_ts, l.event_id"
    )
}

/// The published objects of a community (`$1`, its space) with the most recommendations,
/// then likes, at most `$2`: rows `(room_id, kind, object_id, title, recommendations, likes)`.
pub(crate) const MOST_RECOMMENDED: &str = "WITH targets AS ( \
       SELECT r.event_id, r.event_id AS revision FROM publication_revisions r \
       JOIN community_rooms c ON c.room_id = r.room_id WHERE c.space_id = $1 \
       UNION ALL \
       SELECT n.event_id, n.revision_event_id FROM like_notices n \
       JOIN community_rooms c ON c.room_id = n.room_id WHERE c.space_id = $1 ) \
     SELECT p.room_id, p.kind, p.object_id, p.title, \
       COUNT(DISTINCT CASE WHEN l.reaction = 'recommend' THEN l.sender END) AS recommendations, \
       COUNT(DISTINCT CASE WHEN l.reaction = 'like' THEN l.sender END) AS liked \
     FROM likes l \
     JOIN targets t ON t.event_id = l.target_event_id \
     JOIN publication_revisions r ON r.event_id = t.revision \
     JOIN publications p ON p.room_id = r.room_id AND p.kind = r.kind AND p.object_id = r.object_id \
     WHERE p.status = 'published' \
     GROUP BY p.room_id, p.kind, p.object_id, p.title \
     ORDER BY recommendations DESC, liked DESC, p.title, p.object_id LIMIT $2";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod planner_tests {
    use ruma::{MilliSecondsSinceUnixEpoch, UInt, event_id, room_id, user_id};
    use serde_json::json;

    use super::*;
    use crate::tools::SqlValue;

    fn event<'a>(
        event_type: &'a str,
        content: &'a serde_json::Map<String, Value>,
        sent_by_bot: bool,
    ) -> ToolEvent<'a> {
        ToolEvent {
            room_id: room_id!("!wiki:parvis.test"),
            event_id: event_id!("$reaction"),
            sender: user_id!("@alice:parvis.test"),
            event_type,
            state_key: None,
            content,
            redacts: None,
            origin_server_ts: MilliSecondsSinceUnixEpoch(UInt::new(42).unwrap()),
            sent_by_bot,
        }
    }

    fn object(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn keys_people_send_for_like_and_recommend() {
        for (key, reaction) in [
            ("👍", Some(Reaction::Like)),
            ("👍️", Some(Reaction::Like)),
            ("👍🏽", Some(Reaction::Like)),
            ("⭐", Some(Reaction::Recommend)),
            ("⭐️", Some(Reaction::Recommend)),
            ("👍👍", None),
            ("❤️", None),
            ("", None),
            ("like", None),
        ] {
            assert_eq!(Reaction::of_key(key), reaction, "{key:?}");
        }
        for reaction in Reaction::ALL {
            assert_eq!(Reaction::of_key(reaction.key()), Some(reaction));
            assert_eq!(Reaction::parse(reaction.as_str()), Some(reaction));
        }
    }

    #[test]
    fn a_thumbs_up_on_a_revision_is_a_like() {
        let content = object(json!({
            "m.relates_to": {"rel_type": "m.annotation", "event_id": "$revision", "key": "👍️"}
        }));
        let writes = plan(&event("m.reaction", &content, false));
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].statement, INSERT_LIKE);
        assert_eq!(
            writes[0].args,
            vec![
                SqlValue::from("$reaction"),
                "!wiki:parvis.test".into(),
                "$revision".into(),
                "@alice:parvis.test".into(),
                "like".into(),
                SqlValue::Integer(42),
            ]
        );
    }

    #[test]
    fn other_reactions_and_relations_count_nothing() {
        for content in [
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$r", "key": "🎉"}}),
            json!({"m.relates_to": {"rel_type": "m.reference", "event_id": "$r", "key": "👍"}}),
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "not an id", "key": "👍"}}),
            json!({"m.relates_to": {"rel_type": "m.annotation", "key": "👍"}}),
            json!({"m.relates_to": "👍"}),
            json!({}),
        ] {
            let content = object(content);
            assert!(plan(&event("m.reaction", &content, false)).is_empty());
        }
    }

    #[test]
    fn only_the_bots_notices_stand_for_a_revision() {
        let content = object(json!({
            "msgtype": "m.notice",
            "body": "📄 @alice edited the wiki page “Accueil”",
            "m.relates_to": {"rel_type": "m.reference", "event_id": "$revision"}
        }));
        let writes = plan(&event("m.room.message", &content, true));
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].statement, INSERT_NOTICE);
        assert!(plan(&event("m.room.message", &content, false)).is_empty());
    }

    #[test]
    fn a_redaction_uncounts_whatever_it_redacts() {
        let content = serde_json::Map::new();
        let mut redaction = event("m.room.redaction", &content, false);
        redaction.redacts = Some(event_id!("$reaction"));
        let statements: Vec<&str> = plan(&redaction).iter().map(|w| w.statement).collect();
        assert_eq!(statements, vec![DELETE_LIKE, DELETE_NOTICE]);
    }

    #[test]
    fn state_events_are_not_reactions() {
        let content = object(json!({
            "m.relates_to": {"rel_type": "m.annotation", "event_id": "$revision", "key": "👍"}
        }));
        let mut state = event("m.reaction", &content, false);
        state.state_key = Some("");
        assert!(plan(&state).is_empty());
    }
}

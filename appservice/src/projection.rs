//! The projection of room events into the index, as a sans-I/O planner.
//!
//! The store loads what the planner needs to know about the rooms and events of a batch
//! ([`ProjectionContext`]), the planner turns the batch's *new* events into [`IndexChange`]s,
//! and the store applies them in the same database transaction. The index follows each room's
//! *current* state:
//!
//! * a state event replaces the row of its `(room, type, state_key)`, and the event it
//!   replaced (`unsigned.replaces_state`) is remembered as superseded, so that if the older
//!   event is delivered late it does not overwrite the newer one;
//! * when an event replaces another state than the one the index holds for its key — two members
//!   wrote the same key at once and the room's history forked, or events arrived out of order —
//!   only the homeserver's state resolution knows which won, so the room is reconciled from its
//!   current state rather than letting the last event received win;
//! * a redaction of a current state event redacts the indexed content with the room version's rules;
//! * rooms are indexed while the bot is joined to them, and forgotten when it leaves.
//!
//! Slow work an event calls for (answering a command, joining a room, fetching a room's full
//! state) becomes a [`Job`], queued durably in the same transaction.

use std::collections::{HashMap, HashSet};

use ruma::{
    CanonicalJsonObject, CanonicalJsonValue, MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId,
    OwnedUserId, RoomId, RoomVersionId, UserId, canonical_json::redact_content_in_place,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    command,
    events::{CommunityEventContent, CommunityRoomEventContent, RoomPurpose},
    publishing::{
        kind::PublicationKind,
        publication::{PublicationChange, PublicationRow, PublishingEvent, publication_change},
    },
    tools::{self, ToolEvent, ToolState, ToolWrite},
};

pub use crate::events::JsonObject;

/// The envelope of a room event as the client-server and appservice APIs deliver it
/// ([ClientEvent](https://spec.matrix.org/v1.18/client-server-api/#room-event-format)), with the
/// content kept as JSON so that any event type, known or custom, can be indexed.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct RoomEvent {
    /// The event's ID.
    pub event_id: OwnedEventId,
    /// The room it belongs to.
    pub room_id: OwnedRoomId,
    /// Who sent it.
    pub sender: OwnedUserId,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The state key, for state events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_key: Option<String>,
    /// The content.
    #[serde(default)]
    pub content: JsonObject,
    /// The redacted event (top-level in room versions before 11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacts: Option<OwnedEventId>,
    /// When the sender's server received it.
    pub origin_server_ts: MilliSecondsSinceUnixEpoch,
    /// Data the homeserver adds.
    #[serde(default)]
    pub unsigned: Unsigned,
}

/// The parts of `unsigned` Parvis reads.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Unsigned {
    /// The state event this one replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_state: Option<OwnedEventId>,
}

impl RoomEvent {
    /// The event this one redacts, wherever the room version puts it.
    pub fn redacted_event(&self) -> Option<OwnedEventId> {
        if self.event_type != "m.room.redaction" {
            return None;
        }
        self.redacts.clone().or_else(|| {
            self.content
                .get("redacts")
                .and_then(Value::as_str)
                .and_then(|id| OwnedEventId::try_from(id).ok())
        })
    }

    fn membership(&self) -> Option<&str> {
        self.content.get("membership").and_then(Value::as_str)
    }

    /// Removes NUL characters from the state key and from every string and key of the content.
    ///
    /// Matrix allows them; PostgreSQL's text refuses them, and an index write that fails on
    /// every attempt would stall the homeserver's deliveries. No reader misses an invisible
    /// character. Returns whether anything was removed.
    pub fn remove_nul_characters(&mut self) -> bool {
        let mut changed = false;
        if let Some(key) = &mut self.state_key {
            changed |= remove_nul(key);
        }
        if self.content.keys().any(|key| key.contains('\0'))
            || self.content.values().any(value_has_nul)
        {
            let content = std::mem::take(&mut self.content);
            self.content = content
                .into_iter()
                .map(|(mut key, mut value)| {
                    remove_nul(&mut key);
                    remove_nul_in_value(&mut value);
                    (key, value)
                })
                .collect();
            changed = true;
        }
        changed
    }
}

fn remove_nul(text: &mut String) -> bool {
    if text.contains('\0') {
        text.retain(|c| c != '\0');
        true
    } else {
        false
    }
}

fn value_has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(value_has_nul),
        Value::Object(object) => object
            .iter()
            .any(|(key, value)| key.contains('\0') || value_has_nul(value)),
        _ => false,
    }
}

fn remove_nul_in_value(value: &mut Value) {
    match value {
        Value::String(text) => {
            remove_nul(text);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_nul_in_value),
        Value::Object(object) => {
            if object.keys().any(|key| key.contains('\0')) {
                *object = std::mem::take(object)
                    .into_iter()
                    .map(|(mut key, value)| {
                        remove_nul(&mut key);
                        (key, value)
                    })
                    .collect();
            }
            object.values_mut().for_each(remove_nul_in_value);
        }
        _ => {}
    }
}

/// One row of a room's current state in the index.
#[derive(Clone, Debug, PartialEq)]
pub struct StateRow {
    /// The room.
    pub room_id: OwnedRoomId,
    /// The state event type.
    pub event_type: String,
    /// The state key.
    pub state_key: String,
    /// The event currently holding this state.
    pub event_id: OwnedEventId,
    /// Its sender.
    pub sender: OwnedUserId,
    /// Its content (redacted if the event was redacted).
    pub content: JsonObject,
}

impl StateRow {
    fn from_event(event: &RoomEvent) -> Option<Self> {
        Some(Self {
            room_id: event.room_id.clone(),
            event_type: event.event_type.clone(),
            state_key: event.state_key.clone()?,
            event_id: event.event_id.clone(),
            sender: event.sender.clone(),
            content: event.content.clone(),
        })
    }
}

/// A room the index follows.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TrackedRoom {
    /// Who created the room, when known (from `m.room.create`).
    pub creator: Option<OwnedUserId>,
    /// Its room version, when known.
    pub room_version: Option<RoomVersionId>,
}

/// A community as indexed from its space's `org.parvis.community` state.
#[derive(Clone, Debug, PartialEq)]
pub struct CommunityRow {
    /// The space.
    pub space_id: OwnedRoomId,
    /// The community's current description.
    pub content: CommunityEventContent,
}

/// A room of a community, from its `org.parvis.community.room` state.
#[derive(Clone, Debug, PartialEq)]
pub struct CommunityRoomRow {
    /// The room.
    pub room_id: OwnedRoomId,
    /// Its community's space.
    pub space_id: OwnedRoomId,
    /// What it is for.
    pub purpose: RoomPurpose,
}

/// Slow work an event calls for, run after the transaction is acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// Answer a `!parvis` command.
    Command {
        /// Where it was sent.
        room_id: OwnedRoomId,
        /// The message.
        event_id: OwnedEventId,
        /// Who sent it.
        sender: OwnedUserId,
        /// Its body.
        body: String,
    },
    /// Decrypt an `m.room.encrypted` message (a command, if it holds one); retried until its
    /// room key arrives.
    Decrypt {
        /// Where it was sent.
        room_id: OwnedRoomId,
        /// The event.
        event_id: OwnedEventId,
        /// The whole encrypted event, as received.
        event: Value,
    },
    /// Accept an invitation of the bot.
    JoinRoom {
        /// The room.
        room_id: OwnedRoomId,
        /// Who invited the bot.
        inviter: OwnedUserId,
    },
    /// Replace the indexed state of a room with what the homeserver says is current.
    ReconcileRoom {
        /// The room.
        room_id: OwnedRoomId,
    },
    /// Post a notice about a new revision of a published object, for clients without widgets.
    Announce {
        /// The room.
        room_id: OwnedRoomId,
        /// The revision's state event.
        event_id: OwnedEventId,
    },
    /// Post a tool's notice about a change someone made to its state, for clients without
    /// widgets ([`crate::tools::ToolNotices`]).
    Notice {
        /// The room.
        room_id: OwnedRoomId,
        /// The state event.
        event_id: OwnedEventId,
        /// Its type.
        event_type: String,
        /// Its state key.
        state_key: String,
        /// Who sent it.
        sender: OwnedUserId,
        /// The content the key held before, if the index held one.
        before: Option<JsonObject>,
        /// Its content.
        after: JsonObject,
    },
    /// Read a body kept in the media repository into the index.
    FetchBody {
        /// Room of the object.
        room_id: OwnedRoomId,
        /// Its kind.
        kind: PublicationKind,
        /// Its ID.
        object_id: String,
        /// The revision whose body this is (a newer one makes the job moot).
        event_id: OwnedEventId,
        /// `mxc://` URI of the body.
        url: String,
    },
    /// Reconcile every room the bot is joined to, and forget the rooms it is no longer in
    /// (repairs events the homeserver lost, e.g. queued transactions across its restart).
    ReconcileAll,
}

impl Job {
    /// The room it is about, if one.
    pub fn room_id(&self) -> Option<&RoomId> {
        match self {
            Self::Command { room_id, .. }
            | Self::Decrypt { room_id, .. }
            | Self::JoinRoom { room_id, .. }
            | Self::ReconcileRoom { room_id }
            | Self::Announce { room_id, .. }
            | Self::Notice { room_id, .. }
            | Self::FetchBody { room_id, .. } => Some(room_id),
            Self::ReconcileAll => None,
        }
    }

    /// Whether it counts against its room's bound ([`MAX_WAITING_JOBS_PER_ROOM`]): every job
    /// an event of the room asks for, but the reconciles Parvis asks for itself.
    pub fn is_bounded(&self) -> bool {
        !matches!(self, Self::ReconcileRoom { .. } | Self::ReconcileAll)
    }
}

/// A change to the index, applied by the store.
#[derive(Clone, Debug, PartialEq)]
pub enum IndexChange {
    /// Start following a room (or learn more about it).
    TrackRoom {
        /// The room.
        room_id: OwnedRoomId,
        /// What is known of it.
        room: TrackedRoom,
    },
    /// Stop following a room and drop everything indexed from it — or, before a snapshot
    /// replaces its current state, everything but its history.
    ForgetRoom {
        /// The room.
        room_id: OwnedRoomId,
        /// Keep revisions and comments: they are immutable events, and the snapshot re-reads
        /// them after the state (readers must not see a page without its history meanwhile).
        keep_history: bool,
    },
    /// Set a room's current state for one `(type, state_key)`.
    PutState(StateRow),
    /// Remember that an event was replaced by a newer state event.
    Superseded(OwnedEventId),
    /// Index (or update) a community.
    PutCommunity(CommunityRow),
    /// Drop a community (its state was redacted or made invalid).
    RemoveCommunity(OwnedRoomId),
    /// Index (or update) a community room.
    PutCommunityRoom(CommunityRoomRow),
    /// Drop a community room.
    RemoveCommunityRoom(OwnedRoomId),
    /// Record a member's membership of a followed room.
    PutMembership {
        /// The room.
        room_id: OwnedRoomId,
        /// The member.
        user_id: String,
        /// `join`, `invite`, `leave`, `ban` or `knock`.
        membership: String,
    },
    /// Index the current version of a published object.
    PutPublication(Box<PublicationRow>),
    /// Drop a published object.
    RemovePublication {
        /// Room.
        room_id: OwnedRoomId,
        /// Kind.
        kind: PublicationKind,
        /// ID.
        object_id: String,
    },
    /// Record a revision of a published object.
    PutRevision(RevisionRow),
    /// Record a comment (a thread message whose root is a revision).
    PutComment(CommentRow),
    /// A comment was redacted.
    RemoveComment(OwnedEventId),
    /// A revision was redacted: its content is gone.
    RedactRevision(OwnedEventId),
    /// Queue slow work.
    Enqueue(Job),
    /// Record an event that could not be projected (it is acknowledged all the same).
    Skip(SkippedEvent),
    /// A write a tool's planner asked for, on its own tables.
    Tool(ToolWrite),
}

impl IndexChange {
    /// The room whose indexed content the change touches, when it names one (the rooms of a
    /// write get a new change stamp: answers kept from them are stale).
    pub fn room_id(&self) -> Option<&RoomId> {
        match self {
            Self::TrackRoom { room_id, .. }
            | Self::ForgetRoom { room_id, .. }
            | Self::RemoveCommunity(room_id)
            | Self::RemoveCommunityRoom(room_id)
            | Self::PutMembership { room_id, .. }
            | Self::RemovePublication { room_id, .. } => Some(room_id),
            Self::PutState(row) => Some(&row.room_id),
            Self::PutCommunity(row) => Some(&row.space_id),
            Self::PutCommunityRoom(row) => Some(&row.room_id),
            Self::PutPublication(row) => Some(&row.room_id),
            Self::PutRevision(row) => Some(&row.room_id),
            Self::PutComment(row) => Some(&row.room_id),
            Self::Superseded(_)
            | Self::RemoveComment(_)
            | Self::RedactRevision(_)
            | Self::Enqueue(_)
            | Self::Skip(_)
            | Self::Tool(_) => None,
        }
    }
}

/// An event Parvis could not project, and why: recorded, logged and counted, never retried
/// (the homeserver would send it again forever).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedEvent {
    /// The event, when its ID could be read.
    pub event_id: Option<String>,
    /// Its room, when it could be read.
    pub room_id: Option<String>,
    /// What kind of failure: `malformed`, `too_large`, `projection_failed`, `refused_by_index`.
    pub cause: SkipCause,
    /// The details, for the operator.
    pub reason: String,
}

/// Why an event was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipCause {
    /// Not a well-formed room event.
    Malformed,
    /// Larger than any homeserver lets an event be.
    TooLarge,
    /// The planner failed on it (a bug, caught).
    ProjectionFailed,
    /// The database refused its rows, and would on every attempt.
    RefusedByIndex,
    /// Its job (a command to answer, a message to decrypt, a notice to post…) was not queued:
    /// too many already wait in its room. What it changes in the index is kept.
    QueueFull,
}

impl SkipCause {
    /// The name used in logs, metrics and the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::ProjectionFailed => "projection_failed",
            Self::RefusedByIndex => "refused_by_index",
            Self::QueueFull => "queue_full",
        }
    }

    /// Every cause, for metrics.
    pub const ALL: [Self; 5] = [
        Self::Malformed,
        Self::TooLarge,
        Self::ProjectionFailed,
        Self::RefusedByIndex,
        Self::QueueFull,
    ];
}

/// A comment on a published object: a message in the thread of one of its revisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CommentRow {
    /// The message.
    #[schema(value_type = String)]
    pub event_id: OwnedEventId,
    /// Its room.
    #[schema(value_type = String)]
    pub room_id: OwnedRoomId,
    /// The revision whose thread it is in.
    #[schema(value_type = String)]
    pub thread_root: OwnedEventId,
    /// Its author.
    #[schema(value_type = String)]
    pub sender: OwnedUserId,
    /// Its text.
    pub body: String,
    /// When it was sent.
    pub origin_server_ts: i64,
}

impl CommentRow {
    /// The comment a message would be, if it is in a thread (the caller checks the root).
    pub fn from_event(event: &RoomEvent) -> Option<Self> {
        if event.event_type != "m.room.message" || event.state_key.is_some() {
            return None;
        }
        let relation = event.content.get("m.relates_to")?;
        if relation.get("rel_type").and_then(Value::as_str) != Some("m.thread") {
            return None;
        }
        let thread_root = relation.get("event_id").and_then(Value::as_str)?;
        Some(Self {
            event_id: event.event_id.clone(),
            room_id: event.room_id.clone(),
            thread_root: OwnedEventId::try_from(thread_root).ok()?,
            sender: event.sender.clone(),
            body: event
                .content
                .get("body")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            origin_server_ts: i64::from(event.origin_server_ts.get()),
        })
    }
}

/// One revision of a published object: one of its state events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionRow {
    /// The state event.
    pub event_id: OwnedEventId,
    /// Room.
    pub room_id: OwnedRoomId,
    /// Kind.
    pub kind: PublicationKind,
    /// Object ID (state key).
    pub object_id: String,
    /// Sender.
    pub sender: OwnedUserId,
    /// When it was sent.
    pub origin_server_ts: i64,
    /// The revision it replaced.
    pub replaces: Option<OwnedEventId>,
    /// Its content.
    pub content: JsonObject,
}

impl RevisionRow {
    /// The revision a publishing state event is, if it is one.
    pub fn from_event(event: &RoomEvent) -> Option<Self> {
        let kind = tools::publication_kind_of_event(&event.event_type)?;
        Some(Self {
            event_id: event.event_id.clone(),
            room_id: event.room_id.clone(),
            kind,
            object_id: event.state_key.clone()?,
            sender: event.sender.clone(),
            origin_server_ts: i64::from(event.origin_server_ts.get()),
            replaces: event.unsigned.replaces_state.clone(),
            content: event.content.clone(),
        })
    }
}

/// Where a state event lives: its room, type and state key.
pub type StateKey = (OwnedRoomId, String, String);

/// The event the index holds for a state key, and its content.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldState {
    /// The event.
    pub event_id: OwnedEventId,
    /// Its content.
    pub content: JsonObject,
}

/// What the planner must know, loaded by the store for the rooms and events of one batch.
#[derive(Clone, Debug, Default)]
pub struct ProjectionContext {
    /// The batch's rooms that the index follows.
    pub tracked: HashMap<OwnedRoomId, TrackedRoom>,
    /// The batch's events that a newer state event already replaced.
    pub superseded: HashSet<OwnedEventId>,
    /// What the index holds for each `(room, type, state key)` the batch's state events
    /// write, kept up to date while the batch is planned.
    pub current_state: HashMap<StateKey, HeldState>,
    /// The batch's rooms already queued for a reconcile.
    pub reconciling: HashSet<OwnedRoomId>,
    /// Current state rows of the events the batch redacts.
    pub redaction_targets: HashMap<OwnedEventId, StateRow>,
    /// The batch's thread roots that are events of commented objects: revisions of published
    /// objects, events of tools' commented objects ([`crate::tools::ToolComments`]).
    pub revision_roots: HashSet<OwnedEventId>,
    /// How many jobs wait (due or retrying, not parked) in each of the batch's rooms that
    /// has some.
    pub waiting_jobs: HashMap<OwnedRoomId, u64>,
}

/// The most jobs that may wait in one room: past it, an event's job is not queued (the event
/// is recorded as skipped for it), so no member can grow the queue without bound — one
/// sending commands or undecryptable messages by the thousand delays only their own room.
pub const MAX_WAITING_JOBS_PER_ROOM: u64 = 500;

/// Who Parvis is, for the planner.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The bot.
    pub bot: OwnedUserId,
    /// Localpart prefix of the appservice's virtual users.
    pub user_prefix: String,
}

impl Identity {
    /// Whether `user` is the bot or one of the appservice's virtual users (their messages are
    /// never treated as commands, so Parvis never answers itself).
    pub fn is_appservice_user(&self, user: &UserId) -> bool {
        user == self.bot
            || (user.server_name() == self.bot.server_name()
                && user.localpart().starts_with(&self.user_prefix))
    }
}

/// Plans the index changes for the new events of a transaction, in delivery order.
pub fn plan_transaction(
    identity: &Identity,
    mut context: ProjectionContext,
    events: &[RoomEvent],
) -> Vec<IndexChange> {
    let mut changes = Vec::new();
    for event in events {
        // A bug met by one event must not stop delivery for every room: its changes are
        // dropped, it is recorded as skipped, and the others go on.
        let before = changes.len();
        let planned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            plan_event(identity, &mut context, event, &mut changes);
            bound_jobs(&mut context, event, &mut changes, before);
        }));
        if let Err(panic) = planned {
            changes.truncate(before);
            let reason = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the planner panicked".to_owned());
            changes.push(IndexChange::Skip(SkippedEvent {
                event_id: Some(event.event_id.to_string()),
                room_id: Some(event.room_id.to_string()),
                cause: SkipCause::ProjectionFailed,
                reason,
            }));
        }
    }
    changes
}

/// Drops the jobs of `event` (planned from `changes[from..]`) that would take its room past
/// [`MAX_WAITING_JOBS_PER_ROOM`], and records the event as skipped for them.
fn bound_jobs(
    context: &mut ProjectionContext,
    event: &RoomEvent,
    changes: &mut Vec<IndexChange>,
    from: usize,
) {
    let mut dropped = 0;
    let mut planned = changes.split_off(from);
    planned.retain(|change| {
        let IndexChange::Enqueue(job) = change else {
            return true;
        };
        let Some(room) = job.room_id().filter(|_| job.is_bounded()) else {
            return true;
        };
        let waiting = context.waiting_jobs.entry(room.to_owned()).or_default();
        if *waiting >= MAX_WAITING_JOBS_PER_ROOM {
            dropped += 1;
            return false;
        }
        *waiting += 1;
        true
    });
    changes.append(&mut planned);
    if dropped > 0 {
        changes.push(IndexChange::Skip(SkippedEvent {
            event_id: Some(event.event_id.to_string()),
            room_id: Some(event.room_id.to_string()),
            cause: SkipCause::QueueFull,
            reason: format!(
                "{MAX_WAITING_JOBS_PER_ROOM} jobs already wait in this room; {dropped} not queued"
            ),
        }));
    }
}

fn plan_event(
    identity: &Identity,
    context: &mut ProjectionContext,
    event: &RoomEvent,
    changes: &mut Vec<IndexChange>,
) {
    let bot = identity.bot.as_str();
    let is_bot_membership =
        event.event_type == "m.room.member" && event.state_key.as_deref() == Some(bot);

    if !context.tracked.contains_key(&event.room_id) {
        let room = if event.event_type == "m.room.create"
            && event.state_key.as_deref() == Some("")
            && event.sender == identity.bot
        {
            Some(TrackedRoom {
                creator: Some(event.sender.clone()),
                room_version: room_version_of(&event.content),
            })
        } else if is_bot_membership && event.membership() == Some("join") {
            // Joined a room someone else made: its earlier state comes from a full fetch.
            changes.push(IndexChange::Enqueue(Job::ReconcileRoom {
                room_id: event.room_id.clone(),
            }));
            Some(TrackedRoom::default())
        } else {
            None
        };
        match room {
            Some(room) => {
                changes.push(IndexChange::TrackRoom {
                    room_id: event.room_id.clone(),
                    room: room.clone(),
                });
                context.tracked.insert(event.room_id.clone(), room);
            }
            None => {
                if is_bot_membership
                    && event.membership() == Some("invite")
                    && event.sender != identity.bot
                {
                    changes.push(IndexChange::Enqueue(Job::JoinRoom {
                        room_id: event.room_id.clone(),
                        inviter: event.sender.clone(),
                    }));
                }
                plan_command(identity, event, changes);
                return;
            }
        }
    }

    if created_by(context, &event.room_id, &identity.bot) {
        plan_tools(identity, event, changes);
    }

    if let Some(state) = StateRow::from_event(event) {
        // Every revision is history, even one delivered after its successor.
        if created_by(context, &event.room_id, &identity.bot)
            && let Some(revision) = RevisionRow::from_event(event)
        {
            // People using clients without widgets see the activity as a notice.
            if !identity.is_appservice_user(&event.sender)
                && !context.superseded.contains(&event.event_id)
            {
                changes.push(IndexChange::Enqueue(Job::Announce {
                    room_id: event.room_id.clone(),
                    event_id: event.event_id.clone(),
                }));
            }
            context.revision_roots.insert(revision.event_id.clone());
            changes.push(IndexChange::PutRevision(revision));
        }
        // Any event of a tool's commented object may root a thread of comments, even one
        // delivered after its successor.
        if created_by(context, &event.room_id, &identity.bot)
            && tools::commented(&event.event_type).is_some()
        {
            context.revision_roots.insert(event.event_id.clone());
        }
        if context.superseded.contains(&event.event_id) {
            return;
        }
        if is_bot_membership && matches!(event.membership(), Some("leave" | "ban")) {
            changes.push(IndexChange::ForgetRoom {
                room_id: event.room_id.clone(),
                keep_history: false,
            });
            context.tracked.remove(&event.room_id);
            return;
        }
        let key = row_key(&state);
        let before = context
            .current_state
            .get(&key)
            .map(|held| held.content.clone());
        reconcile_if_forked(context, event, &key, changes);
        // People using clients without widgets are told what others did to a tool's state.
        if tools::announcer(&event.event_type).is_some()
            && created_by(context, &event.room_id, &identity.bot)
            && !identity.is_appservice_user(&event.sender)
        {
            changes.push(IndexChange::Enqueue(Job::Notice {
                room_id: event.room_id.clone(),
                event_id: event.event_id.clone(),
                event_type: event.event_type.clone(),
                state_key: state.state_key.clone(),
                sender: event.sender.clone(),
                before,
                after: event.content.clone(),
            }));
        }
        if let Some(replaced) = &event.unsigned.replaces_state {
            context.superseded.insert(replaced.clone());
            context.redaction_targets.remove(replaced);
            changes.push(IndexChange::Superseded(replaced.clone()));
        }
        if event.event_type == "m.room.create" {
            let room = TrackedRoom {
                creator: Some(event.sender.clone()),
                room_version: room_version_of(&event.content),
            };
            context.tracked.insert(event.room_id.clone(), room.clone());
            changes.push(IndexChange::TrackRoom {
                room_id: event.room_id.clone(),
                room,
            });
        }
        put_state(
            identity,
            context,
            state,
            Some(event.origin_server_ts),
            changes,
        );
    } else if let Some(target) = event.redacted_event() {
        // Redacted history: a revision keeps no content, a comment disappears.
        changes.push(IndexChange::RedactRevision(target.clone()));
        changes.push(IndexChange::RemoveComment(target.clone()));
        let Some(mut row) = context.redaction_targets.get(&target).cloned() else {
            return;
        };
        let version = context
            .tracked
            .get(&event.room_id)
            .and_then(|room| room.room_version.clone());
        row.content = redacted_content(&row.event_type, row.content, version.as_ref());
        put_state(identity, context, row, None, changes);
    } else {
        if let Some(comment) = CommentRow::from_event(event)
            && context.revision_roots.contains(&comment.thread_root)
        {
            changes.push(IndexChange::PutComment(comment));
        }
        plan_command(identity, event, changes);
    }
}

fn row_key(row: &StateRow) -> StateKey {
    (
        row.room_id.clone(),
        row.event_type.clone(),
        row.state_key.clone(),
    )
}

/// Queues a reconcile of the event's room when the event replaces another state than the one the
/// index holds for its key, and records it as the key's current event. Matrix lets two members
/// write one key at once (each event replaces the state it saw); state resolution then picks
/// one, the same on every homeserver, whatever order the events are delivered in — the room's
/// current state says which, not the last event received.
fn reconcile_if_forked(
    context: &mut ProjectionContext,
    event: &RoomEvent,
    key: &StateKey,
    changes: &mut Vec<IndexChange>,
) {
    let held = context.current_state.insert(
        key.clone(),
        HeldState {
            event_id: event.event_id.clone(),
            content: event.content.clone(),
        },
    );
    let Some(held) = held
        .map(|held| held.event_id)
        .filter(|held| *held != event.event_id)
    else {
        return;
    };
    if event.unsigned.replaces_state.as_ref() != Some(&held)
        && context.reconciling.insert(event.room_id.clone())
    {
        changes.push(IndexChange::Enqueue(Job::ReconcileRoom {
            room_id: event.room_id.clone(),
        }));
    }
}

/// What the registered tools write for an event of a room Parvis created.
fn plan_tools(identity: &Identity, event: &RoomEvent, changes: &mut Vec<IndexChange>) {
    changes.extend(
        tool_writes(identity, event)
            .into_iter()
            .map(IndexChange::Tool),
    );
}

/// What the registered tools write for `event` (also for events decrypted after ingest).
pub fn tool_writes(identity: &Identity, event: &RoomEvent) -> Vec<ToolWrite> {
    let redacts = event.redacted_event();
    tools::plan(&ToolEvent {
        room_id: &event.room_id,
        event_id: &event.event_id,
        sender: &event.sender,
        event_type: &event.event_type,
        state_key: event.state_key.as_deref(),
        content: &event.content,
        redacts: redacts.as_deref(),
        origin_server_ts: event.origin_server_ts,
        sent_by_bot: event.sender == identity.bot,
    })
}

/// Records a state row and the typed rows derived from it.
fn put_state(
    identity: &Identity,
    context: &mut ProjectionContext,
    row: StateRow,
    sent: Option<MilliSecondsSinceUnixEpoch>,
    changes: &mut Vec<IndexChange>,
) {
    let tracked = context
        .tracked
        .get(&row.room_id)
        .cloned()
        .unwrap_or_default();
    changes.extend(derived_changes(identity, &tracked, &row, sent));
    context
        .redaction_targets
        .insert(row.event_id.clone(), row.clone());
    changes.push(IndexChange::PutState(row));
}

fn created_by(context: &ProjectionContext, room_id: &OwnedRoomId, bot: &UserId) -> bool {
    context
        .tracked
        .get(room_id)
        .and_then(|room| room.creator.as_deref())
        == Some(bot)
}

/// The typed rows a state row implies. Parvis objects are only trusted in rooms Parvis's bot
/// created: a user cannot make their own room pass for a community by copying its state.
/// `sent` is when the event was sent (unknown for a redaction).
pub fn derived_changes(
    identity: &Identity,
    room: &TrackedRoom,
    row: &StateRow,
    sent: Option<MilliSecondsSinceUnixEpoch>,
) -> Vec<IndexChange> {
    let created_by_parvis = room.creator.as_deref() == Some(&*identity.bot);
    let content = || Value::Object(row.content.clone());
    let mut changes = Vec::new();
    match row.event_type.as_str() {
        "m.room.member" => changes.push(IndexChange::PutMembership {
            room_id: row.room_id.clone(),
            user_id: row.state_key.clone(),
            membership: row
                .content
                .get("membership")
                .and_then(Value::as_str)
                .unwrap_or("leave")
                .to_owned(),
        }),
        "org.parvis.community" if created_by_parvis && row.state_key.is_empty() => changes.push(
            match serde_json::from_value::<CommunityEventContent>(content()) {
                Ok(content) => IndexChange::PutCommunity(CommunityRow {
                    space_id: row.room_id.clone(),
                    content,
                }),
                Err(_) => IndexChange::RemoveCommunity(row.room_id.clone()),
            },
        ),
        // Only Parvis says which community a room belongs to: a room's owner could otherwise
        // attach it to someone else's community and take over its routing.
        "org.parvis.community.room"
            if created_by_parvis && row.state_key.is_empty() && row.sender == identity.bot =>
        {
            changes.push(
                match serde_json::from_value::<CommunityRoomEventContent>(content()) {
                    Ok(content) => IndexChange::PutCommunityRoom(CommunityRoomRow {
                        room_id: row.room_id.clone(),
                        space_id: content.community,
                        purpose: content.purpose,
                    }),
                    Err(_) => IndexChange::RemoveCommunityRoom(row.room_id.clone()),
                },
            )
        }
        event_type if created_by_parvis => {
            let sent = sent.map_or(0, |ts| i64::from(ts.get()));
            let change = publication_change(PublishingEvent {
                room_id: &row.room_id,
                event_type,
                object_id: &row.state_key,
                event_id: &row.event_id,
                sender: &row.sender,
                sent_by_parvis: identity.is_appservice_user(&row.sender),
                origin_server_ts: sent,
                content: &row.content,
            });
            match change {
                Some(PublicationChange::Put(publication)) => {
                    if let (Some(url), true) =
                        (&publication.body_media, publication.body.is_empty())
                    {
                        changes.push(IndexChange::Enqueue(Job::FetchBody {
                            room_id: row.room_id.clone(),
                            kind: publication.kind(),
                            object_id: publication.object_id.clone(),
                            event_id: row.event_id.clone(),
                            url: url.clone(),
                        }));
                    }
                    changes.push(IndexChange::PutPublication(publication));
                }
                Some(PublicationChange::Remove {
                    room_id,
                    kind,
                    object_id,
                }) => {
                    changes.push(IndexChange::RemovePublication {
                        room_id,
                        kind,
                        object_id,
                    });
                }
                None => {}
            }
        }
        _ => {}
    }
    if created_by_parvis {
        let plan = tools::plan_state(&ToolState {
            room_id: &row.room_id,
            event_type: &row.event_type,
            state_key: &row.state_key,
            event_id: &row.event_id,
            sender: &row.sender,
            content: &row.content,
            origin_server_ts: sent,
        });
        changes.extend(plan.writes.into_iter().map(IndexChange::Tool));
        if let Some(reason) = plan.unreadable {
            changes.push(IndexChange::Skip(SkippedEvent {
                event_id: Some(row.event_id.to_string()),
                room_id: Some(row.room_id.to_string()),
                cause: SkipCause::Malformed,
                reason,
            }));
        }
    }
    changes
}

/// What a room's current state, as the homeserver gives it, changes in what the index holds of
/// it. A reconcile does not rewrite a room where it changes nothing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// The state events the index does not hold as they are now (new, or redacted since).
    pub changed: HashSet<OwnedEventId>,
    /// Whether state the index holds is no longer in the room.
    pub removed: bool,
}

impl StateChanges {
    /// Compares the indexed state of `room_id` with its current `state`.
    pub fn between(indexed: &[StateRow], room_id: &RoomId, state: &[RoomEvent]) -> Self {
        let mut held: HashMap<(&str, &str), &StateRow> = indexed
            .iter()
            .map(|row| ((row.event_type.as_str(), row.state_key.as_str()), row))
            .collect();
        let mut changes = Self::default();
        for event in state.iter().filter(|event| event.room_id == room_id) {
            let Some(key) = event.state_key.as_deref() else {
                continue;
            };
            let same = held
                .remove(&(event.event_type.as_str(), key))
                .is_some_and(|row| row.event_id == event.event_id && row.content == event.content);
            if !same {
                changes.changed.insert(event.event_id.clone());
            }
        }
        changes.removed = !held.is_empty();
        changes
    }

    /// Whether the index already holds the room's state as it is.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && !self.removed
    }
}

/// Plans the changes that replace a room's indexed state with a full snapshot of its current
/// state (from `GET /rooms/{roomId}/state`).
pub fn plan_snapshot(
    identity: &Identity,
    room_id: &OwnedRoomId,
    state: &[RoomEvent],
) -> Vec<IndexChange> {
    let create = state.iter().find(|event| {
        event.event_type == "m.room.create" && event.state_key.as_deref() == Some("")
    });
    let room = TrackedRoom {
        creator: create.map(|event| event.sender.clone()),
        room_version: create
            .map(|event| room_version_of(&event.content).unwrap_or(RoomVersionId::V1)),
    };
    let mut changes = vec![
        IndexChange::ForgetRoom {
            room_id: room_id.clone(),
            keep_history: true,
        },
        IndexChange::TrackRoom {
            room_id: room_id.clone(),
            room: room.clone(),
        },
    ];
    for event in state.iter().filter(|event| &event.room_id == room_id) {
        if let Some(row) = StateRow::from_event(event) {
            if let Some(replaced) = &event.unsigned.replaces_state {
                changes.push(IndexChange::Superseded(replaced.clone()));
            }
            changes.extend(derived_changes(
                identity,
                &room,
                &row,
                Some(event.origin_server_ts),
            ));
            if room.creator.as_deref() == Some(&*identity.bot) {
                // A tool's tables of current state were forgotten with the room's state.
                plan_tools(identity, event, &mut changes);
                if let Some(revision) = RevisionRow::from_event(event) {
                    changes.push(IndexChange::PutRevision(revision));
                }
            }
            changes.push(IndexChange::PutState(row));
        }
    }
    changes
}

fn plan_command(identity: &Identity, event: &RoomEvent, changes: &mut Vec<IndexChange>) {
    if identity.is_appservice_user(&event.sender) {
        return;
    }
    if event.event_type == "m.room.encrypted" && event.state_key.is_none() {
        // Parvis reads encrypted messages only to find commands; what it cannot read yet it
        // retries until the room key arrives.
        if let Ok(raw) = serde_json::to_value(event) {
            changes.push(IndexChange::Enqueue(Job::Decrypt {
                room_id: event.room_id.clone(),
                event_id: event.event_id.clone(),
                event: raw,
            }));
        }
        return;
    }
    if event.event_type != "m.room.message" {
        return;
    }
    if event.content.get("msgtype").and_then(Value::as_str) != Some("m.text") {
        return;
    }
    // An edit of a command is not a new command.
    let is_edit = event
        .content
        .get("m.relates_to")
        .and_then(|relation| relation.get("rel_type"))
        .and_then(Value::as_str)
        == Some("m.replace");
    let Some(body) = event.content.get("body").and_then(Value::as_str) else {
        return;
    };
    if is_edit || !body.trim_start().starts_with(command::PREFIX) {
        return;
    }
    changes.push(IndexChange::Enqueue(Job::Command {
        room_id: event.room_id.clone(),
        event_id: event.event_id.clone(),
        sender: event.sender.clone(),
        body: body.to_owned(),
    }));
}

/// The room version named by an `m.room.create` content (version 1 when absent).
fn room_version_of(content: &JsonObject) -> Option<RoomVersionId> {
    match content.get("room_version") {
        Some(Value::String(version)) => RoomVersionId::try_from(version.as_str()).ok(),
        _ => Some(RoomVersionId::V1),
    }
}

/// The content of a redacted state event, by the room version's redaction rules.
fn redacted_content(
    event_type: &str,
    content: JsonObject,
    version: Option<&RoomVersionId>,
) -> JsonObject {
    let rules = version
        .and_then(RoomVersionId::rules)
        .unwrap_or(ruma::room_version_rules::RoomVersionRules::V12)
        .redaction;
    let Ok(CanonicalJsonValue::Object(mut canonical)) =
        CanonicalJsonValue::try_from(Value::Object(content))
    else {
        // Content that is not canonical JSON (floats, huge integers) keeps nothing.
        return JsonObject::new();
    };
    redact_content_in_place(&mut canonical, &rules, event_type);
    canonical_to_json(canonical)
}

fn canonical_to_json(object: CanonicalJsonObject) -> JsonObject {
    object
        .into_iter()
        .map(|(key, value)| (key, value.into()))
        .collect()
}

#[cfg(test)]
mod tests;

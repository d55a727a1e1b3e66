-- The index: a projection of room state, rebuildable from the homeserver at any time.

-- Events already processed, so a repeated transaction (or an event both fetched and pushed) is a no-op.
CREATE TABLE processed_events (
    event_id     TEXT PRIMARY KEY NOT NULL,
    processed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);

-- Rooms the bot is joined to, which the index follows.
CREATE TABLE rooms (
    room_id      TEXT PRIMARY KEY NOT NULL,
    creator      TEXT,
    room_version TEXT
) WITHOUT ROWID;

-- The current state of each followed room.
CREATE TABLE room_state (
    room_id    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state_key  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    sender     TEXT NOT NULL,
    content    TEXT NOT NULL,
    PRIMARY KEY (room_id, event_type, state_key)
) WITHOUT ROWID;
CREATE INDEX room_state_event_id ON room_state (event_id);

-- State events known to have been replaced: delivered late, they must not overwrite newer state.
CREATE TABLE superseded_events (
    event_id TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;

-- Communities (from `org.parvis.community` in their space).
CREATE TABLE communities (
    space_id     TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    tools        TEXT NOT NULL,
    requested_by TEXT NOT NULL
) WITHOUT ROWID;

-- Rooms of communities (from `org.parvis.community.room` in each room).
CREATE TABLE community_rooms (
    room_id  TEXT PRIMARY KEY NOT NULL,
    space_id TEXT NOT NULL,
    purpose  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX community_rooms_space_id ON community_rooms (space_id);

-- Durable queue of slow work, filled in the same transaction as the events that call for it.
CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    payload    TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL,
    last_error TEXT
);
CREATE INDEX jobs_not_before ON jobs (not_before);

-- The index: a projection of room state, rebuildable from the homeserver at any time.

-- Events already processed, so a repeated transaction (or an event both fetched and pushed) is a no-op.
CREATE TABLE processed_events (
    event_id     TEXT PRIMARY KEY NOT NULL,
    processed_at BIGINT NOT NULL
);
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);

-- Rooms the bot is joined to, which the index follows.
CREATE TABLE rooms (
    room_id      TEXT PRIMARY KEY NOT NULL,
    creator      TEXT,
    room_version TEXT
);

-- The current state of each followed room.
CREATE TABLE room_state (
    room_id    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state_key  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    sender     TEXT NOT NULL,
    content    TEXT NOT NULL,
    PRIMARY KEY (room_id, event_type, state_key)
);
CREATE INDEX room_state_event_id ON room_state (event_id);

-- State events known to have been replaced: delivered late, they must not overwrite newer state.
CREATE TABLE superseded_events (
    event_id TEXT PRIMARY KEY NOT NULL
);

-- Communities (from `org.parvis.community` in their space).
CREATE TABLE communities (
    space_id     TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    tools        TEXT NOT NULL,
    requested_by TEXT NOT NULL
);

-- Rooms of communities (from `org.parvis.community.room` in each room).
CREATE TABLE community_rooms (
    room_id  TEXT PRIMARY KEY NOT NULL,
    space_id TEXT NOT NULL,
    purpose  TEXT NOT NULL
);
CREATE INDEX community_rooms_space_id ON community_rooms (space_id);

-- Durable queue of slow work, filled in the same transaction as the events that call for it.
CREATE TABLE jobs (
    id         BIGSERIAL PRIMARY KEY,
    payload    TEXT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX jobs_not_before ON jobs (not_before);

-- Likes and recommendations: 👍 and ⭐ reactions (m.annotation) on an object's revisions, or on
-- the notice the bot posted about one (a reference to the revision), counted per object.

-- Each reaction: one row per reaction event, gone when it is redacted.
CREATE TABLE likes (
    event_id         TEXT PRIMARY KEY NOT NULL,
    room_id          TEXT NOT NULL,
    target_event_id  TEXT NOT NULL,
    sender           TEXT NOT NULL,
    reaction         TEXT NOT NULL,
    origin_server_ts BIGINT NOT NULL
);
CREATE INDEX likes_target ON likes (target_event_id, reaction, sender);
CREATE INDEX likes_room ON likes (room_id);

-- The bot's notices about revisions: a reaction to one counts for the revision's object.
CREATE TABLE like_notices (
    event_id          TEXT PRIMARY KEY NOT NULL,
    room_id           TEXT NOT NULL,
    revision_event_id TEXT NOT NULL
);
CREATE INDEX like_notices_revision ON like_notices (revision_event_id);
CREATE INDEX like_notices_room ON like_notices (room_id);

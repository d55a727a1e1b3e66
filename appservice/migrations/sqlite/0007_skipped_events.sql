-- Events Parvis could not project (malformed, too large, refused by the database, or a bug met
-- in the planner): acknowledged to the homeserver all the same, so one bad event never stalls
-- delivery, and kept here with the reason for the operator. Pruned with processed events.
CREATE TABLE skipped_events (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT,
    room_id    TEXT,
    cause      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    skipped_at BIGINT NOT NULL
);
CREATE INDEX skipped_events_skipped_at ON skipped_events (skipped_at);

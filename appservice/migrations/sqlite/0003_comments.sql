-- Comments on published objects: thread messages (m.thread) whose root is one of the object's revisions.
CREATE TABLE comments (
    event_id         TEXT PRIMARY KEY NOT NULL,
    room_id          TEXT NOT NULL,
    thread_root      TEXT NOT NULL,
    sender           TEXT NOT NULL,
    body             TEXT NOT NULL,
    origin_server_ts INTEGER NOT NULL
);
CREATE INDEX comments_thread_root ON comments (thread_root, origin_server_ts);

-- Indexing speed (BENCHMARKS.md, "Publishing").

-- Merge full-text segments 8 at a time rather than 4: about half the merge work while pages are
-- indexed, for a few more segments read per search term.
INSERT INTO publication_search (publication_search, rank) VALUES ('automerge', 8);
INSERT INTO publication_search (publication_search, rank) VALUES ('pgsz', 4050);

-- An object written again loses its old links in the statement that rewrites it; a new object
-- (most writes) costs no deletion at all. Its current links are then inserted.
CREATE TRIGGER publications_links_update AFTER UPDATE ON publications BEGIN
    DELETE FROM publication_links WHERE room_id = old.room_id AND from_id = old.kind || '/' || old.object_id;
END;

-- Event contents in WITHOUT ROWID tables: each row (a page's content, kilobytes) spills to
-- overflow pages and splits the b-tree at a random key on insert. As rowid tables, contents are
-- appended and only the short keys go into the indexes.
CREATE TABLE room_state_rows (
    room_id    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state_key  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    sender     TEXT NOT NULL,
    content    TEXT NOT NULL,
    PRIMARY KEY (room_id, event_type, state_key)
);
INSERT INTO room_state_rows (room_id, event_type, state_key, event_id, sender, content)
    SELECT room_id, event_type, state_key, event_id, sender, content FROM room_state;
DROP TABLE room_state;
ALTER TABLE room_state_rows RENAME TO room_state;
CREATE INDEX room_state_event_id ON room_state (event_id);

CREATE TABLE publication_revision_rows (
    event_id         TEXT PRIMARY KEY NOT NULL,
    room_id          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    object_id        TEXT NOT NULL,
    sender           TEXT NOT NULL,
    origin_server_ts INTEGER NOT NULL,
    replaces         TEXT,
    content          TEXT NOT NULL
);
INSERT INTO publication_revision_rows
    SELECT event_id, room_id, kind, object_id, sender, origin_server_ts, replaces, content
    FROM publication_revisions;
DROP TABLE publication_revisions;
ALTER TABLE publication_revision_rows RENAME TO publication_revisions;
CREATE INDEX publication_revisions_object ON publication_revisions (room_id, kind, object_id, origin_server_ts);

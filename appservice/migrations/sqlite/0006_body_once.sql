-- A page's markdown is kept once: in its revision (the event's content), which the index keeps
-- anyway. `publications.body` only holds a body that is not in the content — one read from the
-- media repository (`body_media`). Its plain text is no longer stored either.
--
-- The full-text index moves to a database file of its own (`search_words.rs`), filled beside
-- the writer: here, the writer only notes in `search_backlog` which objects changed.

DROP TRIGGER publications_search_insert;
DROP TRIGGER publications_search_delete;
DROP TRIGGER publications_search_update;
DROP TRIGGER publications_links_update;

CREATE TABLE publications_once (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    author       TEXT NOT NULL,
    title        TEXT NOT NULL,
    slug         TEXT NOT NULL,
    -- NULL: the body is the current revision's (`event_id`).
    body         TEXT,
    body_media   TEXT,
    parent       TEXT,
    tags         TEXT NOT NULL,
    pages        TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL,
    position     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    -- PostgreSQL's search columns, empty here (FTS5 folds accents itself).
    search_title TEXT NOT NULL,
    search_body  TEXT NOT NULL,
    UNIQUE (room_id, kind, object_id)
);
INSERT INTO publications_once (id, room_id, kind, object_id, event_id, author, title, slug, body, body_media,
        parent, tags, pages, category, position, status, updated_at, search_title, search_body)
    SELECT id, room_id, kind, object_id, event_id, author, title, slug,
        CASE WHEN body_media IS NULL THEN NULL ELSE body END, body_media,
        parent, tags, pages, category, position, status, updated_at, search_title, search_body
    FROM publications;

DROP TABLE publication_search;
DROP TABLE publications;
ALTER TABLE publications_once RENAME TO publications;
CREATE INDEX publications_slug ON publications (room_id, kind, slug);

-- Objects whose words search must index again (their row ID in `publications`), in the order
-- written. AUTOINCREMENT: an entry's number is never reused, so the search file's progress
-- mark stays meaningful.
CREATE TABLE search_backlog (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    publication INTEGER NOT NULL,
    -- 1 when the object was new (it has no words yet to delete).
    fresh       INTEGER NOT NULL DEFAULT 0
);

-- An object written, rewritten or removed goes to the backlog; one rewritten also loses its
-- links in the statement that rewrites it (its new links are then inserted by the writer).
CREATE TRIGGER publications_search_insert AFTER INSERT ON publications BEGIN
    INSERT INTO search_backlog (publication, fresh) VALUES (new.id, 1);
END;
CREATE TRIGGER publications_search_update AFTER UPDATE ON publications BEGIN
    INSERT INTO search_backlog (publication) VALUES (new.id);
    DELETE FROM publication_links WHERE room_id = old.room_id AND from_id = old.kind || '/' || old.object_id;
END;
CREATE TRIGGER publications_search_delete AFTER DELETE ON publications BEGIN
    INSERT INTO search_backlog (publication) VALUES (old.id);
END;

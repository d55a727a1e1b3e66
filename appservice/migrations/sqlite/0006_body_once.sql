-- A page's markdown is kept once: in its revision (the event's content), which the index keeps
-- anyway. `publications.body` only holds a body that is not in the content — one read from the
-- media repository (`body_media`). Its plain text is no longer stored either: the full-text
-- index is contentless (it keeps the words, not the text), its rows are deleted by rowid, and
-- the writer gives it the plain text it has just rendered. Snippets are cut from the body when a
-- search returns it.

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

CREATE VIRTUAL TABLE publication_words USING fts5(
    title, plain_body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO publication_words (publication_words, rank) VALUES ('automerge', 8);
INSERT INTO publication_words (publication_words, rank) VALUES ('pgsz', 4050);
INSERT INTO publication_words (rowid, title, plain_body) SELECT id, title, plain_body FROM publications;

DROP TABLE publication_search;
DROP TABLE publications;
ALTER TABLE publications_once RENAME TO publications;
ALTER TABLE publication_words RENAME TO publication_search;
CREATE INDEX publications_slug ON publications (room_id, kind, slug);

-- An object written again or removed loses its words and its links in the statement that
-- rewrites or deletes it; its new words and links are then inserted by the writer.
CREATE TRIGGER publications_forget_update AFTER UPDATE ON publications BEGIN
    DELETE FROM publication_search WHERE rowid = old.id;
    DELETE FROM publication_links WHERE room_id = old.room_id AND from_id = old.kind || '/' || old.object_id;
END;
CREATE TRIGGER publications_forget_delete AFTER DELETE ON publications BEGIN
    DELETE FROM publication_search WHERE rowid = old.id;
END;

-- Publishing: wiki pages, blog posts, FAQ entries and guides, their revisions, links and search.

-- Who is in which followed room (from m.room.member), for permission checks.
CREATE TABLE room_members (
    room_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    membership TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX room_members_user_id ON room_members (user_id, membership);

-- The current version of each published object.
CREATE TABLE publications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    author       TEXT NOT NULL,
    title        TEXT NOT NULL,
    slug         TEXT NOT NULL,
    body         TEXT NOT NULL,
    body_media   TEXT,
    parent       TEXT,
    tags         TEXT NOT NULL,
    category     TEXT NOT NULL,
    position     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    plain_body   TEXT NOT NULL,
    search_title TEXT NOT NULL,
    search_body  TEXT NOT NULL,
    UNIQUE (room_id, kind, object_id)
);
CREATE INDEX publications_slug ON publications (room_id, kind, slug);

-- Every revision seen (the state events of each object, in the room's history).
CREATE TABLE publication_revisions (
    event_id         TEXT PRIMARY KEY NOT NULL,
    room_id          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    object_id        TEXT NOT NULL,
    sender           TEXT NOT NULL,
    origin_server_ts INTEGER NOT NULL,
    replaces         TEXT,
    content          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX publication_revisions_object ON publication_revisions (room_id, kind, object_id, origin_server_ts);

-- Links written in bodies ([[Title]]), by slug of the target, for backlinks.
CREATE TABLE publication_links (
    room_id     TEXT NOT NULL,
    from_id     TEXT NOT NULL,
    target_slug TEXT NOT NULL,
    PRIMARY KEY (room_id, from_id, target_slug)
) WITHOUT ROWID;
CREATE INDEX publication_links_target ON publication_links (room_id, target_slug);

-- Full-text search over the title and the body's plain text, kept in step with `publications` by
-- triggers; the tokenizer folds accents, so "evenement" finds "événement" and back.
CREATE VIRTUAL TABLE publication_search USING fts5(
    title, plain_body, content = 'publications', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER publications_search_insert AFTER INSERT ON publications BEGIN
    INSERT INTO publication_search (rowid, title, plain_body) VALUES (new.id, new.title, new.plain_body);
END;
CREATE TRIGGER publications_search_delete AFTER DELETE ON publications BEGIN
    INSERT INTO publication_search (publication_search, rowid, title, plain_body)
        VALUES ('delete', old.id, old.title, old.plain_body);
END;
CREATE TRIGGER publications_search_update AFTER UPDATE ON publications BEGIN
    INSERT INTO publication_search (publication_search, rowid, title, plain_body)
        VALUES ('delete', old.id, old.title, old.plain_body);
    INSERT INTO publication_search (rowid, title, plain_body) VALUES (new.id, new.title, new.plain_body);
END;

-- Publishing: wiki pages, blog posts, FAQ entries and guides, their revisions, links and search.

CREATE TABLE room_members (
    room_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    membership TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user_id ON room_members (user_id, membership);

CREATE TABLE publications (
    id           BIGSERIAL PRIMARY KEY,
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
    position     BIGINT NOT NULL,
    status       TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    plain_body   TEXT NOT NULL,
    search_title TEXT NOT NULL,
    search_body  TEXT NOT NULL,
    -- Accents are folded by Parvis before; both French and English stemming apply.
    search       TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('french', search_title), 'A') || setweight(to_tsvector('english', search_title), 'A') ||
        setweight(to_tsvector('french', search_body), 'D') || setweight(to_tsvector('english', search_body), 'D')
    ) STORED,
    UNIQUE (room_id, kind, object_id)
);
CREATE INDEX publications_slug ON publications (room_id, kind, slug);
CREATE INDEX publications_search ON publications USING GIN (search);

CREATE TABLE publication_revisions (
    event_id         TEXT PRIMARY KEY NOT NULL,
    room_id          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    object_id        TEXT NOT NULL,
    sender           TEXT NOT NULL,
    origin_server_ts BIGINT NOT NULL,
    replaces         TEXT,
    content          TEXT NOT NULL
);
CREATE INDEX publication_revisions_object ON publication_revisions (room_id, kind, object_id, origin_server_ts);

CREATE TABLE publication_links (
    room_id     TEXT NOT NULL,
    from_id     TEXT NOT NULL,
    target_slug TEXT NOT NULL,
    PRIMARY KEY (room_id, from_id, target_slug)
);
CREATE INDEX publication_links_target ON publication_links (room_id, target_slug);

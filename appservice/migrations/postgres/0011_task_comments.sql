-- Comments on cards: people comment on a card in the Matrix thread of any of its events (the
-- one their client showed), as on a published object's revisions. Every event of a card is
-- kept, superseded ones included; the comments themselves go in the shared `comments` table.
CREATE TABLE kanban_card_events (
    event_id  TEXT PRIMARY KEY NOT NULL,
    room_id   TEXT NOT NULL,
    object_id TEXT NOT NULL
);
CREATE INDEX kanban_card_events_card ON kanban_card_events (room_id, object_id);

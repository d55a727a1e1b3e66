-- Tasks: the kanban boards and cards of a community's tasks room, as its current state holds
-- them (org.parvis.kanban.board and org.parvis.kanban.card, state key = the object's ID). Rows
-- follow the room's current state: written when a key changes, gone when it is emptied or
-- redacted, read again when the room is reconciled.

CREATE TABLE kanban_boards (
    room_id    TEXT NOT NULL,
    board_id   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    sender     TEXT NOT NULL,
    archived   BIGINT NOT NULL,
    content    TEXT NOT NULL,
    PRIMARY KEY (room_id, board_id)
);

-- A card's columns that queries filter or sort on, and its whole content as JSON. Positions are
-- fractional indexes compared byte by byte.
CREATE TABLE kanban_cards (
    room_id    TEXT NOT NULL,
    card_id    TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    sender     TEXT NOT NULL,
    board_id   TEXT NOT NULL,
    column_id  TEXT NOT NULL,
    position   TEXT COLLATE "C" NOT NULL,
    archived   BIGINT NOT NULL,
    due        TEXT,
    updated_at BIGINT NOT NULL,
    content    TEXT NOT NULL,
    PRIMARY KEY (room_id, card_id)
);
CREATE INDEX kanban_cards_board ON kanban_cards (room_id, board_id, column_id, position);

-- Who each card is assigned to: "my tasks" across communities.
CREATE TABLE kanban_assignees (
    room_id TEXT NOT NULL,
    card_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (room_id, card_id, user_id)
);
CREATE INDEX kanban_assignees_user ON kanban_assignees (user_id);

-- A page's markdown is kept once: in its revision (the event's content), which the index keeps
-- anyway. `publications.body` only holds a body that is not in the content — one read from the
-- media repository (`body_media`). The plain text is not stored: search reads the folded copy
-- (`search_body`) and snippets are cut from the body when a search returns it.
ALTER TABLE publications ALTER COLUMN body DROP NOT NULL;
UPDATE publications SET body = NULL WHERE body_media IS NULL;
ALTER TABLE publications DROP COLUMN plain_body;

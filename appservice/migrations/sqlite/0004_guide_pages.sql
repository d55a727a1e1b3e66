-- The wiki pages of a guide, in reading order (comma-separated page IDs; empty for other kinds).
ALTER TABLE publications ADD COLUMN pages TEXT NOT NULL DEFAULT '';

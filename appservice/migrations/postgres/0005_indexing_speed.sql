-- Indexing speed (BENCHMARKS.md, "Publishing").

-- An object written again loses its old links in the statement that rewrites it; a new object
-- (most writes) costs no deletion at all. Its current links are then inserted.
CREATE FUNCTION publication_links_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM publication_links WHERE room_id = OLD.room_id AND from_id = OLD.kind || '/' || OLD.object_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER publications_links_update AFTER UPDATE ON publications
    FOR EACH ROW EXECUTE FUNCTION publication_links_forget();

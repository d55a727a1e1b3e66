-- Card positions are fractional indexes that sort byte by byte ("Z" before "a"): compared in
-- SQL (where a card goes between its neighbours), they need the "C" collation, whatever the
-- database's own is (en_US.UTF-8 puts "a" before "B").
ALTER TABLE kanban_cards ALTER COLUMN position TYPE TEXT COLLATE "C";

-- A room's change stamp: a new random value in every write that changes what is indexed from
-- the room, so an answer computed from the room can be kept until the stamp moves (the API's
-- kept answers), by every instance reading this index. 0: never stamped.
ALTER TABLE rooms ADD COLUMN stamp BIGINT NOT NULL DEFAULT 0;

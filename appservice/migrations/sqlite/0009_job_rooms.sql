-- The room each job is about, so that the jobs waiting in one room can be counted and bounded
-- (projection::MAX_WAITING_JOBS_PER_ROOM). Jobs queued before have none and are not counted:
-- they are few, and run soon.
ALTER TABLE jobs ADD COLUMN room_id TEXT;
CREATE INDEX jobs_room_id ON jobs (room_id, not_before);

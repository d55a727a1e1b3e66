-- Card positions are fractional indexes that sort byte by byte ("Z" before "a"): SQLite's
-- default collation, BINARY, compares text so already. PostgreSQL's migration of the same
-- number gives the column the "C" collation; this one only keeps the two numbered alike.
SELECT 1;

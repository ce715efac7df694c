-- Fewer and narrower indexes on the two tables written per frame and per observation: index
-- upkeep was most of the server's cost of ingest (COPY into observation ran at half the speed
-- of the same table without its time index, measured with bench/cloud/bench_cloud.py).
--
-- * The time-only indexes that create_hypertable adds by default are used by no query: time
--   ranges are cut by chunk exclusion (6-hour chunks) and retention is drop_chunks. The only
--   time-range scan of raw rows, the heatmap rebuild of `footfall cloud recompute`, reads whole
--   chunks instead, which is fine for an operator's repair command.
-- * A track's observations are found by its random id (8-32 hex digits, random per run), so
--   (track_id, captured_at) finds them as well as the full natural key does, with half the
--   key width; site and camera are checked on the rows found.
DROP INDEX IF EXISTS observation_captured_at_idx;
DROP INDEX IF EXISTS frame_captured_at_idx;
DROP INDEX IF EXISTS observation_track;
CREATE INDEX observation_track ON observation (track_id, captured_at);

-- Incremental derivation (cloud/analytics/derive.py): a pass reads only a track's observations
-- after its watermark, resuming from the state the previous pass ended in.
--
-- * track.dirty_from: the earliest observation time added since the track was last derived
--   (maintained by ingest with `dirty`). At or before the watermark means a late observation:
--   the track is re-derived whole. NULL (tracks written before this migration) does the same.
-- * track_state: written in the same transaction as the derived rows. watermark is the time of
--   the last floor position derived (NULL: none yet); lines maps line id -> confirmed side
--   (+1 in side, -1 out side; absent: none); zones maps zone id -> [enter_at, last_at] of the
--   visit still open. A missing row means "derive whole" (new tracks, retention, old data).
ALTER TABLE track ADD COLUMN dirty_from timestamptz;

CREATE TABLE track_state (
    site_id   text        NOT NULL,
    camera_id text        NOT NULL,
    track_id  text        NOT NULL,
    watermark timestamptz,
    lines     jsonb       NOT NULL,
    zones     jsonb       NOT NULL,
    PRIMARY KEY (site_id, camera_id, track_id)
);

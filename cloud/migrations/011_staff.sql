-- Staff recognised from trajectories (cloud/reports/staff.py): the local tracks of a staff
-- chain, written by the stitch service's staff pass (cloud/reports/staff_store.py) with
-- ON CONFLICT DO NOTHING, so a track once found to be staff stays staff. Visitor figures
-- (footfall, dwell, unique visitors) leave these tracks out unless a request asks for staff.
CREATE TABLE staff_track (
    site_id    text        NOT NULL,
    camera_id  text        NOT NULL,
    track_id   text        NOT NULL,
    started_at timestamptz NOT NULL,
    rule       text        NOT NULL,  -- staff_only, stay or present
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, camera_id, track_id, started_at)
);
SELECT create_hypertable('staff_track', by_range('started_at', INTERVAL '7 days'));
CREATE INDEX staff_track_track ON staff_track (site_id, camera_id, track_id);

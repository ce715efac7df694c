-- Cross-camera stitching (cloud/stitch): the anonymous site-wide visitor of each tracklet.
--
-- Keyed by the tracklet's natural key and the stitching mode ('combined' is what the API
-- serves; 'appearance' and 'spacetime' exist for comparison). A decision is final: the
-- stitcher writes ON CONFLICT DO NOTHING, so re-running it, or redelivered tracklets, change
-- nothing. visitor_id is random hex, never derived from anything about the person.
CREATE TABLE tracklet_visitor (
    site_id    text        NOT NULL,
    camera_id  text        NOT NULL,
    run_id     text        NOT NULL,
    track_id   text        NOT NULL,
    started_at timestamptz NOT NULL,
    mode       text        NOT NULL,
    visitor_id text        NOT NULL,
    ended_at   timestamptz NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, camera_id, run_id, track_id, started_at, mode)
);
SELECT create_hypertable('tracklet_visitor', by_range('started_at', INTERVAL '7 days'));
CREATE INDEX tracklet_visitor_visitor ON tracklet_visitor (site_id, mode, visitor_id, started_at);
CREATE INDEX tracklet_visitor_track ON tracklet_visitor (site_id, camera_id, track_id);

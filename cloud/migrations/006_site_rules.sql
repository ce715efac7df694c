-- The counting rules (a site config's counting: section) that a site's derived rows were made
-- with: line crossings, zone visits, track_state and heatmap cells depend on them. The first
-- process that opens a site records them; ingest, recompute and the API refuse to run a site
-- whose config says otherwise (footfall cloud recompute --adopt-rules changes them).
CREATE TABLE site_rules (
    site_id     text        PRIMARY KEY,
    rules       jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

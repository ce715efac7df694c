-- Visitors the stitcher merged (cloud/stitch/stitcher.py, Stitcher._merge): evidence that came
-- later (a track that fits two visitors on the floor, seen by an overlapping camera at the same
-- time or continuing a broken track) showed two stitched visitors to be one person. Decisions in
-- tracklet_visitor stay as written; this table says which visitor id each merged id became
-- (always the final one: the stitcher rewrites a row when the id it pointed to is merged on).
-- Readers resolve a tracklet's visitor as coalesce(merged_into, visitor_id). seen_at is when the
-- merged visitors were last seen: retention cuts the table at the raw window by it.
CREATE TABLE visitor_alias (
    site_id     text        NOT NULL,
    mode        text        NOT NULL,
    visitor_id  text        NOT NULL,
    merged_into text        NOT NULL,
    seen_at     timestamptz NOT NULL,
    merged_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, mode, visitor_id)
);
CREATE INDEX visitor_alias_seen ON visitor_alias (seen_at);

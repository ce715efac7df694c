-- Raw tables: what the edge sent, keyed by the contract's natural keys (idempotent ingest).
-- Every table is a hypertable so that retention is drop_chunks (no policies in the Apache build).

CREATE TABLE frame (
    site_id      text        NOT NULL,
    camera_id    text        NOT NULL,
    captured_at  timestamptz NOT NULL,
    node_id      text        NOT NULL,
    run_id       text        NOT NULL,
    frame_index  bigint      NOT NULL,
    image_width  integer     NOT NULL,
    image_height integer     NOT NULL,
    track_count  integer     NOT NULL,
    PRIMARY KEY (site_id, camera_id, captured_at)
);
SELECT create_hypertable('frame', by_range('captured_at', INTERVAL '6 hours'));

-- One row per track per frame. Rows are written only together with their (new) frame row,
-- in the same transaction, so the frame's natural key makes observation writes exactly-once.
CREATE TABLE observation (
    site_id     text             NOT NULL,
    camera_id   text             NOT NULL,
    captured_at timestamptz      NOT NULL,
    track_id    text             NOT NULL,
    run_id      text             NOT NULL,
    x1          real             NOT NULL,
    y1          real             NOT NULL,
    x2          real             NOT NULL,
    y2          real             NOT NULL,
    confidence  real             NOT NULL,
    floor_id    text,
    x_m         double precision,
    y_m         double precision
);
SELECT create_hypertable('observation', by_range('captured_at', INTERVAL '6 hours'));
CREATE INDEX observation_track ON observation (site_id, camera_id, track_id, captured_at);

CREATE TABLE tracklet_start (
    site_id    text        NOT NULL,
    camera_id  text        NOT NULL,
    run_id     text        NOT NULL,
    track_id   text        NOT NULL,
    started_at timestamptz NOT NULL,
    node_id    text        NOT NULL,
    PRIMARY KEY (site_id, camera_id, run_id, track_id, started_at)
);
SELECT create_hypertable('tracklet_start', by_range('started_at', INTERVAL '7 days'));

CREATE TABLE tracklet_end (
    site_id         text        NOT NULL,
    camera_id       text        NOT NULL,
    run_id          text        NOT NULL,
    track_id        text        NOT NULL,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz NOT NULL,
    node_id         text        NOT NULL,
    frame_count     integer     NOT NULL,
    quality         real        NOT NULL,
    embedding_model text        NOT NULL,
    PRIMARY KEY (site_id, camera_id, run_id, track_id, started_at)
);
SELECT create_hypertable('tracklet_end', by_range('started_at', INTERVAL '7 days'));

-- Re-ID embeddings live apart from tracklets: they are kept for hours, not years.
CREATE TABLE embedding (
    site_id         text        NOT NULL,
    camera_id       text        NOT NULL,
    run_id          text        NOT NULL,
    track_id        text        NOT NULL,
    kind            text        NOT NULL,  -- tracklet_start | tracklet_end
    at              timestamptz NOT NULL,
    embedding_model text        NOT NULL,
    quality         real,
    vector          real[]      NOT NULL,
    PRIMARY KEY (site_id, camera_id, run_id, track_id, kind, at)
);
SELECT create_hypertable('embedding', by_range('at', INTERVAL '1 hour'));

CREATE TABLE heartbeat (
    site_id         text             NOT NULL,
    camera_id       text             NOT NULL,
    sent_at         timestamptz      NOT NULL,
    node_id         text             NOT NULL,
    run_id          text             NOT NULL,
    interval_s      double precision NOT NULL,
    frames          integer          NOT NULL,
    fps             double precision NOT NULL,
    target_fps      double precision NOT NULL,
    latency_ms      double precision,
    latency_p95_ms  double precision,
    dropped_frames  integer          NOT NULL,
    status          text             NOT NULL,
    detail          text,
    PRIMARY KEY (site_id, camera_id, sent_at)
);
SELECT create_hypertable('heartbeat', by_range('sent_at', INTERVAL '1 day'));

-- Local tracks touched by ingest: the analytics step re-derives every dirty track from its
-- stored observations (a deterministic function of them), so derived rows are exactly-once.
CREATE TABLE track (
    site_id   text        NOT NULL,
    camera_id text        NOT NULL,
    track_id  text        NOT NULL,
    run_id    text        NOT NULL,
    first_at  timestamptz NOT NULL,
    last_at   timestamptz NOT NULL,
    dirty     boolean     NOT NULL DEFAULT true,
    PRIMARY KEY (site_id, camera_id, track_id)
);
CREATE INDEX track_dirty ON track (site_id) WHERE dirty;
CREATE INDEX track_time ON track (site_id, last_at, first_at);

-- Heatmap samples (observations) per minute and base cell, maintained by ingest in the same
-- transaction as the observations it counts (exactly-once because observations are).
CREATE TABLE heatmap_minute (
    site_id  text        NOT NULL,
    floor_id text        NOT NULL,
    minute   timestamptz NOT NULL,
    cell_x   integer     NOT NULL,
    cell_y   integer     NOT NULL,
    samples  bigint      NOT NULL,
    PRIMARY KEY (site_id, floor_id, minute, cell_x, cell_y)
);
SELECT create_hypertable('heatmap_minute', by_range('minute', INTERVAL '30 days'));


-- Analytics derived from stored observations and the site model (see cloud/analytics).

CREATE TABLE line_crossing (
    site_id   text        NOT NULL,
    line_id   text        NOT NULL,
    camera_id text        NOT NULL,
    track_id  text        NOT NULL,
    at        timestamptz NOT NULL,
    direction smallint    NOT NULL,  -- +1 in, -1 out
    PRIMARY KEY (site_id, camera_id, track_id, line_id, at)
);
SELECT create_hypertable('line_crossing', by_range('at', INTERVAL '7 days'));
CREATE INDEX line_crossing_site ON line_crossing (site_id, at);

CREATE TABLE zone_visit (
    site_id   text             NOT NULL,
    zone_id   text             NOT NULL,
    camera_id text             NOT NULL,
    track_id  text             NOT NULL,
    enter_at  timestamptz      NOT NULL,
    exit_at   timestamptz      NOT NULL,
    dwell_s   double precision NOT NULL,
    PRIMARY KEY (site_id, camera_id, track_id, zone_id, enter_at)
);
SELECT create_hypertable('zone_visit', by_range('enter_at', INTERVAL '7 days'));
CREATE INDEX zone_visit_site ON zone_visit (site_id, enter_at);

CREATE TABLE footfall_minute (
    site_id text        NOT NULL,
    line_id text        NOT NULL,
    minute  timestamptz NOT NULL,
    ins     integer     NOT NULL,
    outs    integer     NOT NULL,
    PRIMARY KEY (site_id, line_id, minute)
);
SELECT create_hypertable('footfall_minute', by_range('minute', INTERVAL '30 days'));

-- People in the zone at the end of each minute.
CREATE TABLE occupancy_minute (
    site_id   text        NOT NULL,
    zone_id   text        NOT NULL,
    minute    timestamptz NOT NULL,
    occupancy integer     NOT NULL,
    PRIMARY KEY (site_id, zone_id, minute)
);
SELECT create_hypertable('occupancy_minute', by_range('minute', INTERVAL '30 days'));

CREATE TABLE api_key (
    key_hash   text        NOT NULL PRIMARY KEY,  -- sha256 hex of the token
    site_id    text        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

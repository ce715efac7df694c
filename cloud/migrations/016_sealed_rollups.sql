-- Rollups kept as long as footfall_minute for the figures that are otherwise counted from
-- per-person rows (zone visits, stitched visitor ids, staff tracks), which retention drops after
-- the raw window. The retention pass writes them for every site-local day before it drops that
-- day's raw rows (cloud/analytics/sealed.py), and the API reads them for the days before
-- rollup_sealed.until. Staff tracks are left out, as the queries on the raw rows leave them out.

-- Visitors (stitched id, or the local track while undecided) who entered a zone on a site-local
-- day, counted per pattern of the day's hours they entered it in (bit i: the hour starting
-- day_start + i hours), so that distinct visitors over any whole hours of the day add up
-- exactly. No visitor id is kept.
CREATE TABLE zone_visitors_day (
    site_id   text        NOT NULL,
    zone_id   text        NOT NULL,
    day_start timestamptz NOT NULL,  -- the site-local midnight
    hours     bigint      NOT NULL,
    visitors  integer     NOT NULL,
    PRIMARY KEY (site_id, zone_id, day_start, hours)
);
SELECT create_hypertable('zone_visitors_day', by_range('day_start', INTERVAL '180 days'));

-- Zone visits and their summed dwell per zone and hour of the site-local day (visits counted at
-- the hour they entered), for the visit count and mean dwell.
CREATE TABLE zone_visit_hour (
    site_id     text             NOT NULL,
    zone_id     text             NOT NULL,
    hour        timestamptz      NOT NULL,
    visits      integer          NOT NULL,
    dwell_sum_s double precision NOT NULL,
    PRIMARY KEY (site_id, zone_id, hour)
);
SELECT create_hypertable('zone_visit_hour', by_range('hour', INTERVAL '180 days'));

-- Line crossings of staff tracks per minute: footfall_minute less these is footfall without
-- staff once the crossings themselves are gone.
CREATE TABLE staff_footfall_minute (
    site_id text        NOT NULL,
    line_id text        NOT NULL,
    minute  timestamptz NOT NULL,
    ins     integer     NOT NULL,
    outs    integer     NOT NULL,
    PRIMARY KEY (site_id, line_id, minute)
);
SELECT create_hypertable('staff_footfall_minute', by_range('minute', INTERVAL '30 days'));

-- Per site: the rollups above hold the site-local days in [since, until); figures before
-- `until` are read from them, never from what is left of the raw rows. Before `since` (raw rows
-- dropped before these rollups existed) the figures cannot be answered.
CREATE TABLE rollup_sealed (
    site_id text        NOT NULL PRIMARY KEY,
    since   timestamptz NOT NULL,
    until   timestamptz NOT NULL,
    CHECK (until >= since)
);

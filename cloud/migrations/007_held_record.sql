-- Records that ingest holds because their site or camera has no config yet (valid messages,
-- stored as they came: topic, partition, offset, key and value). Ingest takes them in once the
-- site's config arrives (in the sites folder) and deletes them in the same transaction; the
-- sha256 of the value keeps one copy of a record delivered twice. Retention ages them by the
-- message's own time (at), like the raw rows they would have become.
CREATE TABLE held_record (
    topic     text        NOT NULL,
    partition integer     NOT NULL,
    "offset"  bigint      NOT NULL,
    digest    bytea       NOT NULL,
    site_id   text        NOT NULL,
    camera_id text        NOT NULL,
    at        timestamptz NOT NULL,
    key       bytea,
    value     bytea       NOT NULL,
    held_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, "offset", digest)
);
CREATE INDEX held_record_site_camera ON held_record (site_id, camera_id);

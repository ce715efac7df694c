-- API keys that can be listed, revoked, expire, and be scoped to several sites (issue 21).
-- A key's sites move from api_key.site_id to api_key_site (one row per site it may read).
-- The API caches keys; `footfall cloud apikey revoke` sends NOTIFY footfall_api_key in its
-- transaction and every API process listening empties its cache at the commit.
ALTER TABLE api_key
    ADD COLUMN expires_at timestamptz,  -- NULL: never
    ADD COLUMN revoked_at timestamptz;  -- NULL: not revoked

CREATE TABLE api_key_site (
    key_hash text NOT NULL REFERENCES api_key (key_hash) ON DELETE CASCADE,
    site_id  text NOT NULL,
    PRIMARY KEY (key_hash, site_id)
);

INSERT INTO api_key_site (key_hash, site_id) SELECT key_hash, site_id FROM api_key;

ALTER TABLE api_key DROP COLUMN site_id;

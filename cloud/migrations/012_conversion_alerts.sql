-- Point-of-sale transactions (conversion) and alerts with their webhook outbox (issue 20).

-- Transactions per store per interval, as the shop's till system sends them (API POST or CSV).
-- One row per store and interval: sending the same interval again replaces its figure
-- (idempotent; a correction wins). store_id is the id of the store's zone in the site config.
CREATE TABLE pos_transaction (
    site_id       text        NOT NULL,
    store_id      text        NOT NULL,
    interval_start timestamptz NOT NULL,
    interval_end  timestamptz NOT NULL,
    transactions  integer     NOT NULL CHECK (transactions >= 0),
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, store_id, interval_start),
    CHECK (interval_end > interval_start)
);

-- Alerts: one row per firing; cleared_at is set when its condition ends. At most one open
-- alert per site and key (the rule and what it watches, e.g. 'occupancy:food-court').
CREATE TABLE alert (
    id          bigserial   PRIMARY KEY,
    site_id     text        NOT NULL,
    alert_key   text        NOT NULL,
    kind        text        NOT NULL,  -- occupancy | entrances | camera
    subject     text        NOT NULL,  -- the zone, line set or camera it is about
    severity    text        NOT NULL,
    message     text        NOT NULL,
    detail      jsonb       NOT NULL DEFAULT '{}',
    fired_at    timestamptz NOT NULL,
    cleared_at  timestamptz,
    clear_message text
);
CREATE UNIQUE INDEX alert_open ON alert (site_id, alert_key) WHERE cleared_at IS NULL;
CREATE INDEX alert_site_time ON alert (site_id, fired_at DESC);

-- Webhook deliveries waiting or done: written in the same transaction as the alert change they
-- announce, so none is lost while a receiver is down; the alerts worker sends them in order,
-- retrying with backoff until delivered (or given up after max attempts).
CREATE TABLE webhook_outbox (
    id              bigserial   PRIMARY KEY,
    site_id         text        NOT NULL,
    webhook         text        NOT NULL,  -- the webhook's name in the site config
    url             text        NOT NULL,
    event           text        NOT NULL,  -- alert.fired | alert.cleared
    alert_id        bigint      NOT NULL REFERENCES alert (id),
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz,
    gave_up_at      timestamptz
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;

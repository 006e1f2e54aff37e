-- +goose Up
-- Alerts: where admins want to hear of runs finishing or pausing, accounts
-- needing the merchant and platform-wide errors, and each delivery of an
-- event to a target.

-- A robot's URL carries its key (WeChat Work's ?key=, DingTalk's
-- ?access_token=), so the whole URL is sealed like every other secret at
-- rest; url_shown keeps only its scheme and host for the settings page.
CREATE TABLE alert_targets (
    id            bigserial PRIMARY KEY,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind          text        NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'webhook')),
    url_sealed    bytea       NOT NULL,
    url_shown     text        NOT NULL,
    -- DingTalk's signing secret or the webhook's generated one; NULL when none.
    secret_sealed bytea,
    events        text[]      NOT NULL CHECK (events <@ ARRAY['run_finished', 'run_paused', 'needs_merchant', 'platform_error']),
    enabled       boolean     NOT NULL DEFAULT true,
    created_by    bigint      REFERENCES staff (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The latest delivery, for the settings page.
    last_status   text        NOT NULL DEFAULT '' CHECK (last_status IN ('', 'sent', 'retrying', 'failed')),
    last_error    text        NOT NULL DEFAULT '',
    last_event    text        NOT NULL DEFAULT '',
    last_at       timestamptz
);

-- An event as it happened, recorded in the transaction that made it happen
-- (a run's last account, a pause), so it is never lost nor sent for a
-- change that rolled back.
CREATE TABLE alert_events (
    id         bigserial PRIMARY KEY,
    kind       text        NOT NULL,
    -- Events with the same key within a window are dropped (a failing token
    -- is reported once an hour, not on every call).
    dedupe_key text        NOT NULL DEFAULT '',
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_events_dedupe ON alert_events (dedupe_key, created_at) WHERE dedupe_key <> '';

-- One event for one target: its queue job sends it, and marks it sent once.
CREATE TABLE alert_deliveries (
    id         bigserial PRIMARY KEY,
    event_id   bigint      NOT NULL REFERENCES alert_events (id) ON DELETE CASCADE,
    target_id  bigint      NOT NULL REFERENCES alert_targets (id) ON DELETE CASCADE,
    status     text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    tries      int         NOT NULL DEFAULT 0,
    last_error text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    UNIQUE (event_id, target_id)
);
CREATE INDEX alert_deliveries_target ON alert_deliveries (target_id);

-- +goose Down
DROP TABLE alert_deliveries;
DROP TABLE alert_events;
DROP TABLE alert_targets;

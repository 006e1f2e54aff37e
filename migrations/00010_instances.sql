-- +goose Up
-- Every running process of the console keeps a row here and renews its lease
-- every few seconds on a connection of its own, which also holds the process's
-- advisory lock. A pending attempt is taken as an orphan only when its owner
-- is provably gone: its lock is free AND its lease has expired AND the
-- database has been up for longer than a lease (after a database restart every
-- live process needs one lease to reconnect, re-take its lock and renew), or
-- the owner said it stopped.
CREATE TABLE instances (
    id          text PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    renewed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    lease       interval NOT NULL,
    -- set by a clean stop: no need to wait for the lease
    stopped_at  timestamptz,
    -- what the process is, for the people reading this table
    hostname    text NOT NULL DEFAULT '',
    pid         integer NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE instances;

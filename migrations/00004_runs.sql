-- +goose Up
-- A bulk run: one action over a fixed set of accounts. Counts are derived from
-- run_items when shown, so concurrent workers never contend on the run's row.
CREATE TABLE runs (
    id              bigserial PRIMARY KEY,
    action          text NOT NULL CHECK (action IN ('check', 'open')),
    status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'cancelled', 'finished')),
    -- NULL when a schedule started the run.
    created_by      bigint REFERENCES staff (id),
    created_by_name text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    total           integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_created_idx ON runs (id DESC);

-- One row per account in a run; the primary key keeps an account out of a run
-- twice, and the state machine (pending → calling → done) is what stops a
-- second call when the queue delivers a job again.
CREATE TABLE run_items (
    run_id      bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    appid       text NOT NULL,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'calling', 'done', 'skipped', 'cancelled')),
    -- The queue job holding the claim, so a job retried after its process
    -- died recognises its own unfinished claim.
    claimed_job bigint,
    tries       integer NOT NULL DEFAULT 0,
    not_before  timestamptz,
    attempt_id  bigint,
    outcome     text NOT NULL DEFAULT '',
    code        integer,
    message     text NOT NULL DEFAULT '',
    finished_at timestamptz,
    PRIMARY KEY (run_id, appid)
);
CREATE INDEX run_items_open_idx ON run_items (run_id) WHERE state IN ('pending', 'calling');
CREATE INDEX run_items_finished_idx ON run_items (run_id, finished_at DESC) WHERE finished_at IS NOT NULL;

-- The global call rate across every instance: each call reserves the next
-- free slot atomically and sleeps until it.
CREATE TABLE rate_limiter (
    name      text PRIMARY KEY,
    next_slot timestamptz NOT NULL DEFAULT now()
);

-- Recovery after a crash counts a run's attempts per account.
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('attempts') IS NOT NULL THEN
        ALTER TABLE attempts ADD COLUMN IF NOT EXISTS run_id bigint;
        CREATE INDEX IF NOT EXISTS attempts_run_idx ON attempts (run_id, appid) WHERE run_id IS NOT NULL;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS attempts_run_idx;
DROP TABLE rate_limiter;
DROP TABLE run_items;
DROP TABLE runs;

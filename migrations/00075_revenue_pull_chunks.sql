-- +goose Up
-- A pull is split into chunks, each its own short queue job: the provider's
-- own calls, and the Mini Programs in bounded batches. A chunk records how
-- far it got (next_index into its appids, checkpointed every few seconds),
-- so a job taken over after a crash repeats at most the accounts since its
-- last checkpoint, which replace, never double, what they stored. The
-- pull's progress is the sum of its chunks; chunks_left, decremented under
-- the pull's row lock as each chunk ends, lets exactly one chunk see the
-- pull's last chunk end and queue its finish.
ALTER TABLE revenue_pulls
    ADD COLUMN chunks_left    integer NOT NULL DEFAULT 0,
    ADD COLUMN accounts_total integer NOT NULL DEFAULT 0;

CREATE TABLE revenue_pull_chunks (
    pull_id       bigint  NOT NULL REFERENCES revenue_pulls (id) ON DELETE CASCADE,
    chunk         integer NOT NULL,            -- 0: the provider's calls
    from_day      date    NOT NULL,
    to_day        date    NOT NULL,
    appids        text[]  NOT NULL DEFAULT '{}',
    -- The pass over appids: the first over the chunk's accounts, each later
    -- one over the accounts WeChat asked to retry (appids is replaced).
    pass          integer NOT NULL DEFAULT 1,
    next_index    integer NOT NULL DEFAULT 0,
    retry         text[]  NOT NULL DEFAULT '{}',
    accounts_done integer NOT NULL DEFAULT 0,
    rows          bigint  NOT NULL DEFAULT 0,
    errors        integer NOT NULL DEFAULT 0,
    last_error    text    NOT NULL DEFAULT '',
    state         text    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    PRIMARY KEY (pull_id, chunk)
);

-- Pulls recorded before chunks have no chunk jobs to carry them on.
UPDATE revenue_pulls SET state = 'failed', finished_at = now(),
       last_error = 'interrupted by an upgrade; start the backfill again'
WHERE state IN ('queued', 'running');

-- +goose Down
DROP TABLE revenue_pull_chunks;
ALTER TABLE revenue_pulls DROP COLUMN accounts_total, DROP COLUMN chunks_left;

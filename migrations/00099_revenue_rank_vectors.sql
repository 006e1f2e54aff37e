-- +goose Up
-- Every Mini Program's running totals of income per day, kept as one vector
-- per day for all accounts together, so a custom range's top accounts and
-- movers read two (movers: four) rows whatever the number of accounts, and
-- rank in the application: the sums per account over any range are the
-- vector at its last day less the one at the day before its first.
--
-- revenue_account_pos gives each account (appid) a dense position, once,
-- new accounts appended after the last: the index of its figures in every
-- vector. Positions never change or get reused.
CREATE TABLE revenue_account_pos (
    appid text PRIMARY KEY,
    pos   int  NOT NULL UNIQUE
);

-- revenue_rank_vectors holds, per slot ('' for all slots, from
-- revenue_account_daily; otherwise that slot's rows of revenue_slot_daily)
-- and per day with any row for it, every position's running totals through
-- that day: income, the income in fen (little-endian int64s), and days,
-- how many days it has a row (little-endian int32s). A day without a row
-- keeps the totals of the latest day before it that has one: the totals at
-- any day are the latest row at or before it (none: zero). A vector shorter
-- than the positions holds zeros for the rest (accounts added later).
-- About 0.8 MB a row at 100,000 accounts: income is stored uncompressed
-- (compressing 800 KB of running totals took about 75 ms a row, writing
-- them 2 ms, and reading them back uncompressed is faster too); days,
-- mostly repeats, compress to a few KB.
--
-- Carried one day at a time by the application (revenue_vectors.go) when a
-- pull finishes, in the transaction that rebuilds the other rollups (from
-- the first day the pull touched through the last built), by gen-revenue,
-- and after the migrations by `trafficmaster migrate` while
-- revenue_rank_vectors_built is empty (the days stored before these
-- tables existed). Until then the pages rank from revenue_account_cumulative.
CREATE TABLE revenue_rank_vectors (
    slot   text  NOT NULL,
    day    date  NOT NULL,
    income bytea NOT NULL,
    days   bytea NOT NULL,
    PRIMARY KEY (slot, day)
);
ALTER TABLE revenue_rank_vectors ALTER COLUMN income SET STORAGE EXTERNAL;

-- The last day the vectors were carried through (one row once built).
CREATE TABLE revenue_rank_vectors_built (
    one     bool PRIMARY KEY DEFAULT true CHECK (one),
    through date NOT NULL
);

-- +goose Down
DROP TABLE revenue_rank_vectors_built;
DROP TABLE revenue_rank_vectors;
DROP TABLE revenue_account_pos;

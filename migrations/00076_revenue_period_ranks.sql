-- +goose Up
-- The dashboard's top Mini Programs and biggest movers for its fixed periods
-- (yesterday, last 7 and 30 days, month to date, each against the range of
-- equal length before it), written with the slot rollup when a pull
-- finishes, so the default page reads ten rows of each by index instead of
-- summing every account's days. A range is served from here only when it
-- has a row in revenue_period_ranks_built (so an empty ranking is told
-- apart from one never computed); any other range, or a filter, is summed
-- on demand.
CREATE TABLE revenue_period_ranks_built (
    from_day  date NOT NULL,
    to_day    date NOT NULL,
    prev_from date NOT NULL,
    prev_to   date NOT NULL,
    PRIMARY KEY (from_day, to_day, prev_from, prev_to)
);

CREATE TABLE revenue_period_ranks (
    from_day        date   NOT NULL,
    to_day          date   NOT NULL,
    prev_from       date   NOT NULL,
    prev_to         date   NOT NULL,
    kind            text   NOT NULL CHECK (kind IN ('top', 'movers')),
    rank            int    NOT NULL,
    appid           text   NOT NULL,
    req_succ        bigint NOT NULL,
    exposure        bigint NOT NULL,
    clicks          bigint NOT NULL,
    income_fen      bigint NOT NULL,
    prev_income_fen bigint NOT NULL,
    PRIMARY KEY (from_day, to_day, kind, prev_from, prev_to, rank)
);

-- +goose Down
DROP TABLE revenue_period_ranks;
DROP TABLE revenue_period_ranks_built;

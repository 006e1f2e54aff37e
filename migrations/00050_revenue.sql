-- +goose Up
-- WeChat's ad data, stored once a day so pages read Postgres instead of
-- paging through WeChat (its own advice). Money is integer fen, never float.

-- One row per Mini Program per slot per day, as agency_get_adpos_genenral
-- reports it (the Mini Program's own income). About 300 million rows a year
-- at 100,000 accounts: partitioned by month so a month is one table to scan,
-- index or drop; revenue_ensure_month creates a month before it is written.
CREATE TABLE revenue_slot_daily (
    day        date   NOT NULL,
    appid      text   NOT NULL,
    slot       text   NOT NULL,
    req_succ   bigint NOT NULL,
    exposure   bigint NOT NULL,
    clicks     bigint NOT NULL,
    income_fen bigint NOT NULL,
    PRIMARY KEY (day, appid, slot)
) PARTITION BY RANGE (day);

-- The rollup the pages read per Mini Program: one row per account per day,
-- rebuilt from the slot rows whenever that account's day is pulled again.
CREATE TABLE revenue_account_daily (
    day        date   NOT NULL,
    appid      text   NOT NULL,
    req_succ   bigint NOT NULL,
    exposure   bigint NOT NULL,
    clicks     bigint NOT NULL,
    income_fen bigint NOT NULL,
    PRIMARY KEY (day, appid)
) PARTITION BY RANGE (day);
CREATE INDEX revenue_account_daily_appid ON revenue_account_daily (appid, day);

-- Every Mini Program together per slot per day (the dashboard's stacked
-- chart), rebuilt from the slot rows for the days a pull touched.
CREATE TABLE revenue_slot_rollup (
    day        date   NOT NULL,
    slot       text   NOT NULL,
    req_succ   bigint NOT NULL,
    exposure   bigint NOT NULL,
    clicks     bigint NOT NULL,
    income_fen bigint NOT NULL,
    PRIMARY KEY (day, slot)
);

-- The provider's totals per day as get_agency_ads_stat reports them: the only
-- source of the split between the provider (agency_income) and the merchants
-- (publisher_income).
CREATE TABLE revenue_provider_daily (
    day                  date PRIMARY KEY,
    req_succ             bigint NOT NULL,
    exposure             bigint NOT NULL,
    clicks               bigint NOT NULL,
    income_fen           bigint NOT NULL,
    publisher_income_fen bigint NOT NULL,
    agency_income_fen    bigint NOT NULL,
    pulled_at            timestamptz NOT NULL DEFAULT now()
);

-- Half-monthly settlement intervals per Mini Program, and the provider's own
-- under the component appid; status moves 1 settling → 5 paid, so a pull
-- overwrites an interval.
CREATE TABLE revenue_settlements (
    appid               text     NOT NULL,
    month               text     NOT NULL, -- yyyyMM
    half                smallint NOT NULL CHECK (half IN (1, 2)),
    status              smallint NOT NULL,
    settled_revenue_fen bigint   NOT NULL,
    sett_no             text     NOT NULL DEFAULT '',
    slot_revenue        jsonb    NOT NULL DEFAULT '{}', -- slot → settled fen
    pulled_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (appid, month, half)
);

-- Accounts whose data calls WeChat refuses for a reason staff must act on
-- (1735 agreement not signed, 1807/2009 traffic master not open): their page
-- says so instead of showing zero. A successful pull removes the row.
CREATE TABLE revenue_account_blocked (
    appid      text PRIMARY KEY,
    code       integer NOT NULL,
    message    text    NOT NULL DEFAULT '',
    checked_at timestamptz NOT NULL DEFAULT now()
);

-- Every pull, scheduled or a backfill: what range, how far it got (next_day
-- is where a resumed job carries on), how many rows and errors.
CREATE TABLE revenue_pulls (
    id          bigserial PRIMARY KEY,
    kind        text   NOT NULL CHECK (kind IN ('daily', 'backfill')),
    from_day    date   NOT NULL,
    to_day      date   NOT NULL CHECK (to_day >= from_day),
    next_day    date   NOT NULL,
    state       text   NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    rows        bigint NOT NULL DEFAULT 0,
    errors      integer NOT NULL DEFAULT 0,
    last_error  text   NOT NULL DEFAULT '',
    created_by  bigint REFERENCES staff (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX revenue_pulls_recent ON revenue_pulls (id DESC);

-- revenue_ensure_month creates the month partitions holding d, once, however
-- many instances ask at the same time.
-- +goose StatementBegin
CREATE FUNCTION revenue_ensure_month(d date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', d)::date;
    suffix text := to_char(d, 'YYYYMM');
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['revenue_slot_daily', 'revenue_account_daily'] LOOP
        IF to_regclass(t || '_' || suffix) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext(t || '_' || suffix));
            EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           t || '_' || suffix, t, first, (first + interval '1 month')::date);
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION revenue_ensure_month(date);
DROP TABLE revenue_pulls;
DROP TABLE revenue_account_blocked;
DROP TABLE revenue_settlements;
DROP TABLE revenue_provider_daily;
DROP TABLE revenue_slot_rollup;
DROP TABLE revenue_account_daily;
DROP TABLE revenue_slot_daily;

-- +goose Up
-- Every Mini Program's running totals per day (Beijing days) since its first
-- day, so any custom range's sums per account are two rows per account: the
-- totals at its last day less those at the day before its first. A range's
-- top accounts and movers then read one day's slice of this table at each
-- end (100,000 rows each at 100,000 accounts) whatever its length or how it
-- falls on month boundaries, instead of the whole months of
-- revenue_account_monthly plus up to half a month of days at either end.
--
-- Dense, as the monthly rollup is per month: every account has a row for
-- every day from its first day with a row in revenue_account_daily through
-- the table's last day (its totals carried on over days it has none), so the
-- day before a range holds everything before it, or no row when the account
-- had no day yet. cum_days counts its days with a row: an account is in a
-- range's sums exactly when that count grew over the range, as it is in the
-- daily rollup's when it has a day there.
--
-- Rebuilt by revenue_rebuild_cumulative when a pull finishes, in the
-- transaction that rebuilds the other rollups (from the first day the pull
-- touched to the table's last day, as running totals change after it), and
-- by gen-revenue, so the rows are exactly the sums of the days as of the
-- latest finished pull. About 36.5 million rows a year at 100,000 accounts:
-- partitioned by month like the daily rollup, by the same
-- revenue_ensure_month.
CREATE TABLE revenue_account_cumulative (
    day            date   NOT NULL,
    appid          text   NOT NULL,
    cum_days       int    NOT NULL,
    cum_req_succ   bigint NOT NULL,
    cum_exposure   bigint NOT NULL,
    cum_clicks     bigint NOT NULL,
    cum_income_fen bigint NOT NULL,
    PRIMARY KEY (day, appid)
) PARTITION BY RANGE (day);

-- revenue_ensure_month creates the month partitions holding d, once, however
-- many instances ask at the same time; now the running totals' as well.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION revenue_ensure_month(d date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', d)::date;
    suffix text := to_char(d, 'YYYYMM');
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['revenue_slot_daily', 'revenue_account_daily', 'revenue_account_cumulative'] LOOP
        IF to_regclass(t || '_' || suffix) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext(t || '_' || suffix));
            EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           t || '_' || suffix, t, first, (first + interval '1 month')::date);
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- revenue_rebuild_cumulative replaces the running totals from the first day
-- [from_day, to_day] changed through the table's last day (or to_day when
-- later), one day at a time: each day's row per account is the day before's
-- plus that day's figures, for every account with either. It starts earlier
-- when the table lacks days before from_day: at the first stored day when it
-- is empty (days stored before it existed), or the day after its last one,
-- so the days are gapless. Callers serialize it (the slot rollup's lock).
-- +goose StatementBegin
CREATE FUNCTION revenue_rebuild_cumulative(from_day date, to_day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := from_day;
    last date := to_day;
    table_last date;
    days_first date;
    d date;
BEGIN
    SELECT max(day) INTO table_last FROM revenue_account_cumulative;
    IF table_last IS NULL THEN
        SELECT min(day) INTO days_first FROM revenue_account_daily;
        IF days_first IS NULL THEN
            RETURN;
        END IF;
        first := least(first, days_first);
    ELSE
        first := least(first, table_last + 1);
        last := greatest(last, table_last);
    END IF;
    DELETE FROM revenue_account_cumulative WHERE day >= first;
    d := first;
    WHILE d <= last LOOP
        IF d = first OR extract(day FROM d) = 1 THEN
            PERFORM revenue_ensure_month(d);
        END IF;
        INSERT INTO revenue_account_cumulative (day, appid, cum_days, cum_req_succ, cum_exposure, cum_clicks, cum_income_fen)
        SELECT d, appid, coalesce(p.cum_days, 0) + (x.appid IS NOT NULL)::int,
               coalesce(p.cum_req_succ, 0) + coalesce(x.req_succ, 0),
               coalesce(p.cum_exposure, 0) + coalesce(x.exposure, 0),
               coalesce(p.cum_clicks, 0) + coalesce(x.clicks, 0),
               coalesce(p.cum_income_fen, 0) + coalesce(x.income_fen, 0)
        FROM (SELECT * FROM revenue_account_cumulative WHERE day = d - 1) p
        FULL JOIN (SELECT * FROM revenue_account_daily WHERE day = d) x USING (appid)
        ORDER BY appid;
        d := d + 1;
    END LOOP;
END
$$;
-- +goose StatementEnd

SELECT revenue_rebuild_cumulative(min(day), max(day)) FROM revenue_account_daily HAVING count(*) > 0;

-- +goose Down
DROP FUNCTION revenue_rebuild_cumulative(date, date);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION revenue_ensure_month(d date) RETURNS void LANGUAGE plpgsql AS $$
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
DROP TABLE revenue_account_cumulative;

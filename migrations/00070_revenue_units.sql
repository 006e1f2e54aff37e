-- +goose Up
-- Every Mini Program's figures per ad unit per day, as get_agency_ads_detail
-- reports them (asked one day at a time, so a row is one day): the only
-- source that carries the split between provider and merchant per unit.
-- About as many rows as revenue_slot_daily (a unit serves one slot), so it is
-- partitioned by month the same way; revenue_ensure_unit_month creates a
-- month before it is written.
CREATE TABLE revenue_unit_daily (
    day                  date   NOT NULL,
    appid                text   NOT NULL,
    ad_unit_id           text   NOT NULL,
    ad_unit_name         text   NOT NULL DEFAULT '',
    req_succ             bigint NOT NULL,
    exposure             bigint NOT NULL,
    clicks               bigint NOT NULL,
    income_fen           bigint NOT NULL,
    publisher_income_fen bigint NOT NULL,
    agency_income_fen    bigint NOT NULL,
    PRIMARY KEY (day, appid, ad_unit_id)
) PARTITION BY RANGE (day);
-- The account page reads one Mini Program's units over a range.
CREATE INDEX revenue_unit_daily_appid ON revenue_unit_daily (appid, day);

-- revenue_ensure_unit_month creates the month partition holding d, once,
-- however many instances ask at the same time. Its own function, so that
-- revenue_ensure_month keeps its one definition.
-- +goose StatementBegin
CREATE FUNCTION revenue_ensure_unit_month(d date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', d)::date;
    name text := 'revenue_unit_daily_' || to_char(d, 'YYYYMM');
BEGIN
    IF to_regclass(name) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext(name));
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF revenue_unit_daily FOR VALUES FROM (%L) TO (%L)',
                       name, first, (first + interval '1 month')::date);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION revenue_ensure_unit_month(date);
DROP TABLE revenue_unit_daily;

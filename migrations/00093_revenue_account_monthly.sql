-- +goose Up
-- Every Mini Program's figures per calendar month (Beijing days), summed
-- from revenue_account_daily, with running totals since its first month,
-- so a custom range on the dashboard takes its whole months as two rows per
-- account (the running totals of its last month less those of the month
-- before its first) and only the days of a partial month at either end from
-- the daily rollup: a year's top accounts and movers read a few rows per
-- account instead of 365. Rebuilt when a pull finishes, in the transaction
-- that rebuilds the slot rollup (from the first month the pull touched to
-- the table's last month, as running totals change after it), and by
-- gen-revenue, so the rows are exactly the sums of the days as of the
-- latest finished pull.
--
-- Every account has a row for every month from its first month with a day
-- through the table's last month (days 0 where it had none), so the month
-- before a range has the running totals of everything before it, or no row
-- when the account had no day yet. days counts the month's days with a row:
-- an account is in a range's sums exactly when its days there add up to
-- more than zero, as it is in the daily rollup's when it has a day there.
CREATE TABLE revenue_account_monthly (
    month          date   NOT NULL CHECK (extract(day FROM month) = 1),
    appid          text   NOT NULL,
    days           int    NOT NULL,
    req_succ       bigint NOT NULL,
    exposure       bigint NOT NULL,
    clicks         bigint NOT NULL,
    income_fen     bigint NOT NULL,
    cum_days       bigint NOT NULL,
    cum_req_succ   bigint NOT NULL,
    cum_exposure   bigint NOT NULL,
    cum_clicks     bigint NOT NULL,
    cum_income_fen bigint NOT NULL,
    PRIMARY KEY (month, appid)
);

INSERT INTO revenue_account_monthly (month, appid, days, req_succ, exposure, clicks, income_fen,
                                     cum_days, cum_req_succ, cum_exposure, cum_clicks, cum_income_fen)
WITH sums AS (
    SELECT date_trunc('month', day::timestamp)::date AS month, appid, count(*) AS days, sum(req_succ) AS req_succ,
           sum(exposure) AS exposure, sum(clicks) AS clicks, sum(income_fen) AS income_fen
    FROM revenue_account_daily
    GROUP BY 1, 2
), accounts AS (
    SELECT appid, min(month) AS first FROM sums GROUP BY appid
), grid AS (
    SELECT a.appid, m::date AS month
    FROM accounts a, generate_series(a.first::timestamp, (SELECT max(month) FROM sums)::timestamp, interval '1 month') m
)
SELECT g.month, g.appid, coalesce(s.days, 0), coalesce(s.req_succ, 0), coalesce(s.exposure, 0),
       coalesce(s.clicks, 0), coalesce(s.income_fen, 0),
       sum(coalesce(s.days, 0)) OVER w, sum(coalesce(s.req_succ, 0)) OVER w, sum(coalesce(s.exposure, 0)) OVER w,
       sum(coalesce(s.clicks, 0)) OVER w, sum(coalesce(s.income_fen, 0)) OVER w
FROM grid g LEFT JOIN sums s USING (appid, month)
WINDOW w AS (PARTITION BY g.appid ORDER BY g.month);

-- +goose Down
DROP TABLE revenue_account_monthly;

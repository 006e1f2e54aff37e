-- +goose Up
-- Every Mini Program's figures per calendar month (Beijing days), summed
-- from revenue_account_daily, so a custom range on the dashboard sums its
-- whole months here (one row per account per month) and only the days at
-- either end from the daily rollup: a year's top accounts and movers cost
-- twelve rows per account instead of 365. Rebuilt for the months a pull
-- touched in the transaction that rebuilds the slot rollup when the pull
-- finishes, and by gen-revenue, so a month's row is exactly the sum of its
-- days as of the latest finished pull. A month with no days for an account
-- has no row (as the daily rollup has none), so an account appears in a
-- range's sums exactly when it has a day there. days counts the month's
-- days with a row, so a partial month read as its whole month less the
-- days outside the range still tells an account with no day in the range.
CREATE TABLE revenue_account_monthly (
    month      date   NOT NULL CHECK (extract(day FROM month) = 1),
    appid      text   NOT NULL,
    days       int    NOT NULL,
    req_succ   bigint NOT NULL,
    exposure   bigint NOT NULL,
    clicks     bigint NOT NULL,
    income_fen bigint NOT NULL,
    PRIMARY KEY (month, appid)
);
-- The ranked accounts' other figures are summed for those accounts alone.
CREATE INDEX revenue_account_monthly_appid ON revenue_account_monthly (appid, month);

INSERT INTO revenue_account_monthly (month, appid, days, req_succ, exposure, clicks, income_fen)
SELECT date_trunc('month', day::timestamp)::date, appid, count(*), sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
FROM revenue_account_daily
GROUP BY 1, 2;

-- +goose Down
DROP TABLE revenue_account_monthly;

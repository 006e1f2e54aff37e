package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// monthStart is the first day of t's month.
func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

// rebuildMonths sums revenue_account_daily into revenue_account_monthly for
// every month [from, to] touches, whole months (a pull of one day changes
// its month's sum), replacing what was there.
func rebuildMonths(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	first, end := monthStart(from), monthStart(to).AddDate(0, 1, 0)
	if _, err := tx.Exec(ctx, `DELETE FROM revenue_account_monthly WHERE month >= $1::date AND month < $2::date`,
		dateText(first), dateText(end)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO revenue_account_monthly (month, appid, req_succ, exposure, clicks, income_fen)
		SELECT date_trunc('month', day::timestamp)::date, appid, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
		FROM revenue_account_daily WHERE day >= $1::date AND day < $2::date
		GROUP BY 1, 2`, dateText(first), dateText(end))
	return err
}

// rangeParts splits a range into the whole months it covers, [monthFrom,
// monthTo) read from revenue_account_monthly, and the days at either end,
// [headFrom, headTo] and [tailFrom, tailTo] read from revenue_account_daily;
// a part that is empty has its end before its start.
type rangeParts struct {
	monthFrom, monthTo, headFrom, headTo, tailFrom, tailTo time.Time
}

func splitRange(from, to time.Time) rangeParts {
	mFrom := monthStart(from)
	if !mFrom.Equal(from) {
		mFrom = mFrom.AddDate(0, 1, 0)
	}
	mTo := monthStart(to.AddDate(0, 0, 1))
	if !mFrom.Before(mTo) {
		// No whole month: every day from the daily rollup.
		return rangeParts{monthFrom: mFrom, monthTo: mFrom, headFrom: from, headTo: to, tailFrom: to.AddDate(0, 0, 1), tailTo: to}
	}
	return rangeParts{monthFrom: mFrom, monthTo: mTo, headFrom: from, headTo: mFrom.AddDate(0, 0, -1), tailFrom: mTo, tailTo: to}
}

func (p rangeParts) args() []any {
	return []any{dateText(p.monthFrom), dateText(p.monthTo), dateText(p.headFrom), dateText(p.headTo), dateText(p.tailFrom), dateText(p.tailTo)}
}

// monthlyRows is the SQL of a range's rows, columns cols of both rollups,
// with its six parameters from $n (rangeParts.args): its whole months from
// revenue_account_monthly and its days at either end from
// revenue_account_daily. Summed per account it gives exactly what summing
// the range's days does.
func monthlyRows(n int, cols string) string {
	return fmt.Sprintf(`
		SELECT appid, %[1]s FROM revenue_account_monthly WHERE month >= $%[2]d::date AND month < $%[3]d::date
		UNION ALL
		SELECT appid, %[1]s FROM revenue_account_daily WHERE day BETWEEN $%[4]d::date AND $%[5]d::date
		UNION ALL
		SELECT appid, %[1]s FROM revenue_account_daily WHERE day BETWEEN $%[6]d::date AND $%[7]d::date`,
		cols, n, n+1, n+2, n+3, n+4, n+5)
}

// TopAccountsMonthly is TopAccountsOnDemand summed from the range's whole
// months and the days at either end: the same rows, sums, order and ties.
func (s *RevenueStore) TopAccountsMonthly(ctx context.Context, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT t.appid, coalesce(a.nick_name, ''), t.req, t.exp, t.clk, t.inc
		FROM (SELECT appid, sum(req_succ) req, sum(exposure) exp, sum(clicks) clk, sum(income_fen) inc
		      FROM (`+monthlyRows(1, "req_succ, exposure, clicks, income_fen")+`) r
		      GROUP BY appid ORDER BY inc DESC, appid LIMIT $7) t
		LEFT JOIN authorizers a USING (appid)
		ORDER BY t.inc DESC, t.appid`, append(splitRange(from, to).args(), limit)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.AccountFigures, error) {
		var a revenue.AccountFigures
		var inc int64
		err := r.Scan(&a.AppID, &a.Name, &a.ReqSucc, &a.Exposure, &a.Clicks, &inc)
		a.Income, a.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
		return a, err
	})
}

// MoversMonthly is MoversOnDemand summed from each range's whole months and
// the days at either end: the same rows, sums, order and ties.
func (s *RevenueStore) MoversMonthly(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	args := append(splitRange(from, to).args(), splitRange(prevFrom, prevTo).args()...)
	rows, err := s.Pool.Query(ctx, `
		SELECT m.appid, coalesce(a.nick_name, ''), m.cur, m.prev
		FROM (SELECT appid,
		             coalesce(sum(income_fen) FILTER (WHERE cur), 0) cur,
		             coalesce(sum(income_fen) FILTER (WHERE NOT cur), 0) prev
		      FROM (`+monthlyRows(1, "income_fen, true AS cur")+`
		            UNION ALL`+monthlyRows(7, "income_fen, false")+`) r
		      GROUP BY appid) m
		LEFT JOIN authorizers a USING (appid)
		WHERE m.cur <> m.prev
		ORDER BY abs(m.cur - m.prev) DESC, m.appid LIMIT $13`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Mover, error) {
		var m revenue.Mover
		var cur, prev int64
		err := r.Scan(&m.AppID, &m.Name, &cur, &prev)
		m.Income, m.Previous = wechat.Fen(cur), wechat.Fen(prev)
		return m, err
	})
}

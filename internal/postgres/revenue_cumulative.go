package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// rebuildCumulative replaces the running totals per account per day
// (revenue_account_cumulative) from the first day [from, to] changed
// through the table's last day, as revenue_rebuild_cumulative (migration
// 00097) does it: one day at a time, each the day before plus that day.
func rebuildCumulative(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	_, err := tx.Exec(ctx, `SELECT revenue_rebuild_cumulative($1::date, $2::date)`, dateText(from), dateText(to))
	return err
}

// cumEnds are the two days of revenue_account_cumulative whose running
// totals differ by a range's sums: hi, the range's last day (or the table's
// last day when earlier: no account has a day after it), less lo, the day
// before its first (no row there for an account whose first day is later:
// nothing before). Both nil when the range holds none of the table's days.
func cumEnds(from, to, tableLast time.Time) (hi, lo *string) {
	if to.After(tableLast) {
		to = tableLast
	}
	if to.Before(from) {
		return nil, nil
	}
	h, l := dateText(to), dateText(from.AddDate(0, 0, -1))
	return &h, &l
}

// inCumulativeTx runs fn in a transaction with monthlyWorkMem (the sums
// per account stay in memory), without JIT compilation, and the running
// totals' last day (zero when the table is empty). The statement cache
// turns these queries into generic plans after a few runs, whose estimates
// (every partition's rows, pruned only when run) pass the JIT thresholds:
// compiling then cost seconds at 100,000 accounts, for queries that read
// two or three days' rows.
func (s *RevenueStore) inCumulativeTx(ctx context.Context, fn func(tx pgx.Tx, tableLast time.Time) error) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+monthlyWorkMem+"'"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
			return err
		}
		var last *time.Time
		if err := tx.QueryRow(ctx, `SELECT max(day) FROM revenue_account_cumulative`).Scan(&last); err != nil {
			return err
		}
		tableLast := time.Time{}
		if last != nil {
			tableLast = chinaDate(*last)
		}
		return fn(tx, tableLast)
	})
}

// TopAccountsCumulative is TopAccountsOnDemand read as two rows per
// account, the running totals at either end of the range (cumEnds): the
// same rows, sums, order and ties.
func (s *RevenueStore) TopAccountsCumulative(ctx context.Context, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	return s.topCumulative(ctx, "", nil, from, to, limit)
}

// MoversCumulative is MoversOnDemand read from the running totals at
// either end of each range (cumEnds; the range's day before its first is
// usually the previous range's last): at most four rows per account, the
// same rows, sums, order and ties. Names are looked up for the ranked
// accounts only.
func (s *RevenueStore) MoversCumulative(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	return s.moversCumulative(ctx, "", nil, from, to, prevFrom, prevTo, limit)
}

// topCumulative is the top of [from, to] from the running totals of the
// accounts scope selects (an SQL condition on appid using the parameters
// scopeArgs, empty for every account).
func (s *RevenueStore) topCumulative(ctx context.Context, scope string, scopeArgs []any, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	if scope != "" {
		scope = " AND " + scope
	}
	n := len(scopeArgs) + 1
	var out []revenue.AccountFigures
	err := s.inCumulativeTx(ctx, func(tx pgx.Tx, tableLast time.Time) error {
		hi, lo := cumEnds(from, to, tableLast)
		rows, err := tx.Query(ctx, fmt.Sprintf(`
			SELECT t.appid, coalesce(a.nick_name, ''), t.req, t.exp, t.clk, t.inc
			FROM (SELECT h.appid,
			             h.cum_req_succ - coalesce(l.cum_req_succ, 0) req,
			             h.cum_exposure - coalesce(l.cum_exposure, 0) exp,
			             h.cum_clicks - coalesce(l.cum_clicks, 0) clk,
			             h.cum_income_fen - coalesce(l.cum_income_fen, 0) inc
			      FROM (SELECT * FROM revenue_account_cumulative WHERE day = $%[1]d::date%[4]s) h
			      LEFT JOIN (SELECT * FROM revenue_account_cumulative WHERE day = $%[2]d::date%[4]s) l USING (appid)
			      WHERE h.cum_days > coalesce(l.cum_days, 0)
			      ORDER BY inc DESC, h.appid LIMIT $%[3]d) t
			LEFT JOIN authorizers a ON a.appid = t.appid
			ORDER BY t.inc DESC, t.appid`, n, n+1, n+2, scope), append(scopeArgs, hi, lo, limit)...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.AccountFigures, error) {
			var a revenue.AccountFigures
			var inc int64
			err := r.Scan(&a.AppID, &a.Name, &a.ReqSucc, &a.Exposure, &a.Clicks, &inc)
			a.Income, a.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
			return a, err
		})
		return err
	})
	return out, err
}

// moversCumulative is the movers between the two ranges from the running
// totals of the accounts scope selects (as topCumulative's).
func (s *RevenueStore) moversCumulative(ctx context.Context, scope string, scopeArgs []any, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	if scope != "" {
		scope = " AND " + scope
	}
	n := len(scopeArgs) + 1
	var out []revenue.Mover
	err := s.inCumulativeTx(ctx, func(tx pgx.Tx, tableLast time.Time) error {
		hi, lo := cumEnds(from, to, tableLast)
		prevHi, prevLo := cumEnds(prevFrom, prevTo, tableLast)
		rows, err := tx.Query(ctx, fmt.Sprintf(`
			SELECT m.appid, coalesce(a.nick_name, ''), m.cur, m.prev
			FROM (SELECT appid, cur, prev
			      FROM (SELECT appid,
			                   sum(CASE day WHEN $%[1]d::date THEN cum_income_fen ELSE 0 END)
			                   - sum(CASE day WHEN $%[2]d::date THEN cum_income_fen ELSE 0 END) cur,
			                   sum(CASE day WHEN $%[3]d::date THEN cum_income_fen ELSE 0 END)
			                   - sum(CASE day WHEN $%[4]d::date THEN cum_income_fen ELSE 0 END) prev
			            FROM revenue_account_cumulative
			            WHERE day IN ($%[1]d::date, $%[2]d::date, $%[3]d::date, $%[4]d::date)%[6]s
			            GROUP BY appid) s
			      WHERE cur <> prev
			      ORDER BY abs(cur - prev) DESC, appid LIMIT $%[5]d) m
			LEFT JOIN authorizers a USING (appid)
			ORDER BY abs(m.cur - m.prev) DESC, m.appid`, n, n+1, n+2, n+3, n+4, scope),
			append(scopeArgs, hi, lo, prevHi, prevLo, limit)...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Mover, error) {
			var m revenue.Mover
			var cur, prev int64
			err := r.Scan(&m.AppID, &m.Name, &cur, &prev)
			m.Income, m.Previous = wechat.Fen(cur), wechat.Fen(prev)
			return m, err
		})
		return err
	})
	return out, err
}

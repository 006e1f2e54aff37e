package postgres

import (
	"context"
	"fmt"
	"math"
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
// its month's sum), and carries every account's running totals on through
// the table's last month, replacing what was there. Running totals start
// at the month before: the table's months are gapless from each account's
// first month, so when that month is missing (an empty table, or a gap
// before from) the rebuild starts at the first month missing.
func rebuildMonths(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	first, last := monthStart(from), monthStart(to)
	var tableLast, daysFirst *time.Time
	if err := tx.QueryRow(ctx, `SELECT (SELECT max(month) FROM revenue_account_monthly), (SELECT min(day) FROM revenue_account_daily)`).
		Scan(&tableLast, &daysFirst); err != nil {
		return err
	}
	if tableLast == nil {
		if daysFirst != nil {
			if m := monthStart(chinaDate(*daysFirst)); m.Before(first) {
				first = m
			}
		}
	} else {
		m := chinaDate(*tableLast)
		if next := m.AddDate(0, 1, 0); next.Before(first) {
			first = next
		}
		if m.After(last) {
			last = m
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM revenue_account_monthly WHERE month >= $1::date`, dateText(first)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		WITH sums AS (
		    SELECT date_trunc('month', day::timestamp)::date AS month, appid, count(*) AS days, sum(req_succ) AS req_succ,
		           sum(exposure) AS exposure, sum(clicks) AS clicks, sum(income_fen) AS income_fen
		    FROM revenue_account_daily WHERE day >= $1::date AND day < ($2::date + interval '1 month')::date
		    GROUP BY 1, 2
		), base AS (
		    SELECT * FROM revenue_account_monthly WHERE month = ($1::date - interval '1 month')::date
		), accounts AS (
		    SELECT appid, min(month) AS first FROM (SELECT appid, month FROM sums UNION ALL SELECT appid, $1::date FROM base) a
		    GROUP BY appid
		), grid AS (
		    SELECT a.appid, m::date AS month
		    FROM accounts a, generate_series(a.first::timestamp, $2::date::timestamp, interval '1 month') m
		)
		INSERT INTO revenue_account_monthly (month, appid, days, req_succ, exposure, clicks, income_fen,
		                                     cum_days, cum_req_succ, cum_exposure, cum_clicks, cum_income_fen)
		SELECT g.month, g.appid, coalesce(s.days, 0), coalesce(s.req_succ, 0), coalesce(s.exposure, 0),
		       coalesce(s.clicks, 0), coalesce(s.income_fen, 0),
		       coalesce(b.cum_days, 0) + sum(coalesce(s.days, 0)) OVER w,
		       coalesce(b.cum_req_succ, 0) + sum(coalesce(s.req_succ, 0)) OVER w,
		       coalesce(b.cum_exposure, 0) + sum(coalesce(s.exposure, 0)) OVER w,
		       coalesce(b.cum_clicks, 0) + sum(coalesce(s.clicks, 0)) OVER w,
		       coalesce(b.cum_income_fen, 0) + sum(coalesce(s.income_fen, 0)) OVER w
		FROM grid g LEFT JOIN sums s USING (appid, month) LEFT JOIN base b USING (appid)
		WINDOW w AS (PARTITION BY g.appid ORDER BY g.month)`, dateText(first), dateText(last))
	return err
}

// dayPiece is days [from, to] of revenue_account_daily added (sign 1) or
// taken away (sign -1); empty when to is before from.
type dayPiece struct {
	from, to time.Time
	sign     int64
}

// rangeParts is a range as months [monthFrom, monthTo) of
// revenue_account_monthly and two pieces of days: a partial month at
// either end is either its days in the range, added, or its whole month
// with the days outside the range taken away, whichever reads fewer days.
// Summed per account they give exactly the range's sums, and the count of
// its days (zero for an account whose only days of such a month lie
// outside the range, which then has no days in it).
type rangeParts struct {
	monthFrom, monthTo time.Time
	ends               [2]dayPiece
}

// stored is the span of days holding figures (as far as the provider's
// totals tell): days outside it cost nothing to read.
type stored struct{ first, last time.Time }

// daysIn counts the days of [from, to] within s.
func (s stored) daysIn(from, to time.Time) int {
	if from.Before(s.first) {
		from = s.first
	}
	if to.After(s.last) {
		to = s.last
	}
	if to.Before(from) {
		return 0
	}
	return int(math.Round(to.Sub(from).Hours()/24)) + 1
}

// splitRange splits [from, to] into rangeParts, reading as few days as it
// can when only the days of s are stored.
func splitRange(from, to time.Time, s stored) rangeParts {
	mA, mB := monthStart(from), monthStart(to)
	endA, endB := mA.AddDate(0, 1, -1), mB.AddDate(0, 1, -1)
	empty := dayPiece{from: to.AddDate(0, 0, 1), to: to, sign: 1}
	if mA.Equal(mB) {
		in := s.daysIn(from, to)
		if s.daysIn(mA, from.AddDate(0, 0, -1))+s.daysIn(to.AddDate(0, 0, 1), endA) < in {
			return rangeParts{monthFrom: mA, monthTo: mA.AddDate(0, 1, 0), ends: [2]dayPiece{
				{from: mA, to: from.AddDate(0, 0, -1), sign: -1}, {from: to.AddDate(0, 0, 1), to: endA, sign: -1}}}
		}
		return rangeParts{monthFrom: mA, monthTo: mA, ends: [2]dayPiece{{from: from, to: to, sign: 1}, empty}}
	}
	p := rangeParts{monthFrom: mA, monthTo: mB.AddDate(0, 1, 0)}
	if out := s.daysIn(mA, from.AddDate(0, 0, -1)); out < s.daysIn(from, endA) {
		p.ends[0] = dayPiece{from: mA, to: from.AddDate(0, 0, -1), sign: -1}
	} else {
		p.monthFrom, p.ends[0] = mA.AddDate(0, 1, 0), dayPiece{from: from, to: endA, sign: 1}
	}
	if out := s.daysIn(to.AddDate(0, 0, 1), endB); out < s.daysIn(mB, to) {
		p.ends[1] = dayPiece{from: to.AddDate(0, 0, 1), to: endB, sign: -1}
	} else {
		p.monthTo, p.ends[1] = mB, dayPiece{from: mB, to: to, sign: 1}
	}
	return p
}

// args are the eight parameters of monthlyRows: the whole months as the
// running totals of the last one less those of the month before the first
// (NULL when there are none, or when they lie after tableLast, the table's
// last month, past which no account has a day), then the pieces of days.
func (p rangeParts) args(tableLast time.Time) []any {
	var last, before *string
	if p.monthFrom.Before(p.monthTo) {
		l, b := p.monthTo.AddDate(0, -1, 0), p.monthFrom.AddDate(0, -1, 0)
		if l.After(tableLast) {
			l = tableLast
		}
		if b.Before(l) {
			lt, bt := dateText(l), dateText(b)
			last, before = &lt, &bt
		}
	}
	out := []any{last, before}
	for _, e := range p.ends {
		out = append(out, dateText(e.from), dateText(e.to), e.sign)
	}
	return out
}

// monthlyRows is the SQL of a range's rows per account, with its eight
// parameters from $n (rangeParts.args): its whole months as two rows of
// running totals of revenue_account_monthly (the last month's added, the
// month before the first's taken away), then the two pieces of days from
// revenue_account_daily, signed. cols lists the columns given sign (a
// factor), days (the count of days a row stands for) and pre (the prefix of
// the summed columns' names: cum_ for running totals); and, when not empty,
// narrows every part (so an account's rows are read by index).
func monthlyRows(n int, cols func(sign, days, pre string) string, and string) string {
	if and != "" {
		and = " AND " + and
	}
	piece := func(k int) string {
		return fmt.Sprintf(`
		UNION ALL
		SELECT appid, %s FROM revenue_account_daily WHERE day BETWEEN $%d::date AND $%d::date%s`,
			cols(fmt.Sprintf("$%d::bigint", k+2), fmt.Sprintf("$%d::bigint", k+2), ""), k, k+1, and)
	}
	return fmt.Sprintf(`
		SELECT appid, %s FROM revenue_account_monthly WHERE month = $%d::date%s
		UNION ALL
		SELECT appid, %s FROM revenue_account_monthly WHERE month = $%d::date%s`,
		cols("1", "cum_days", "cum_"), n, and, cols("-1", "-cum_days", "cum_"), n+1, and) +
		piece(n+2) + piece(n+5)
}

// storedDays is the span of days the provider's totals hold (every pull
// stores them), so splitRange can tell which days are surely empty; every
// day when there are none.
func (s *RevenueStore) storedDays(ctx context.Context, tx pgx.Tx) (stored, error) {
	var first, last *time.Time
	if err := tx.QueryRow(ctx, `SELECT min(day), max(day) FROM revenue_provider_daily`).Scan(&first, &last); err != nil {
		return stored{}, err
	}
	if first == nil || last == nil {
		return stored{first: time.Date(1, 1, 1, 0, 0, 0, 0, revenue.China), last: time.Date(9999, 12, 31, 0, 0, 0, 0, revenue.China)}, nil
	}
	return stored{first: chinaDate(*first), last: chinaDate(*last)}, nil
}

// monthlyWorkMem lets the sums per account (100,000 groups at the scale
// the benchmarks measure) stay in memory instead of spilling to disk.
const monthlyWorkMem = "64MB"

// inMonthlyTx runs fn in a transaction with monthlyWorkMem, the stored
// days and the monthly rollup's last month.
func (s *RevenueStore) inMonthlyTx(ctx context.Context, fn func(tx pgx.Tx, span stored, tableLast time.Time) error) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+monthlyWorkMem+"'"); err != nil {
			return err
		}
		span, err := s.storedDays(ctx, tx)
		if err != nil {
			return err
		}
		var m *time.Time
		if err := tx.QueryRow(ctx, `SELECT max(month) FROM revenue_account_monthly`).Scan(&m); err != nil {
			return err
		}
		tableLast := time.Time{}
		if m != nil {
			tableLast = chinaDate(*m)
		}
		return fn(tx, span, tableLast)
	})
}

// TopAccountsMonthly is TopAccountsOnDemand summed from the range's months
// and the days at either end (rangeParts): the same rows, sums, order and
// ties. It ranks by income alone, then sums the other figures of the
// ranked accounts only.
func (s *RevenueStore) TopAccountsMonthly(ctx context.Context, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	var out []revenue.AccountFigures
	err := s.inMonthlyTx(ctx, func(tx pgx.Tx, span stored, tableLast time.Time) error {
		rank := func(sign, days, pre string) string {
			return sign + " * " + pre + "income_fen AS income_fen, " + days + " AS days"
		}
		figures := func(sign, _, pre string) string {
			return sign + " * " + pre + "req_succ AS req_succ, " + sign + " * " + pre + "exposure AS exposure, " +
				sign + " * " + pre + "clicks AS clicks"
		}
		rows, err := tx.Query(ctx, `
			SELECT t.appid, coalesce(a.nick_name, ''), f.req, f.exp, f.clk, t.inc
			FROM (SELECT appid, sum(income_fen) inc
			      FROM (`+monthlyRows(1, rank, "")+`) r
			      GROUP BY appid HAVING sum(days) > 0
			      ORDER BY inc DESC, appid LIMIT $9) t
			CROSS JOIN LATERAL (SELECT sum(req_succ) req, sum(exposure) exp, sum(clicks) clk
			      FROM (`+monthlyRows(1, figures, "appid = t.appid")+`) r) f
			LEFT JOIN authorizers a ON a.appid = t.appid
			ORDER BY t.inc DESC, t.appid`, append(splitRange(from, to, span).args(tableLast), limit)...)
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

// MoversMonthly is MoversOnDemand summed from each range's months and the
// days at either end (rangeParts): the same rows, sums, order and ties. An
// account with no days in a range sums to zero there, as on demand. Names
// are looked up for the ranked accounts only.
func (s *RevenueStore) MoversMonthly(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	var out []revenue.Mover
	err := s.inMonthlyTx(ctx, func(tx pgx.Tx, span stored, tableLast time.Time) error {
		cur := func(sign, _, pre string) string { return sign + " * " + pre + "income_fen AS cur, 0::bigint AS prev" }
		prev := func(sign, _, pre string) string { return "0::bigint, " + sign + " * " + pre + "income_fen" }
		args := append(splitRange(from, to, span).args(tableLast), splitRange(prevFrom, prevTo, span).args(tableLast)...)
		rows, err := tx.Query(ctx, `
			SELECT m.appid, coalesce(a.nick_name, ''), m.cur, m.prev
			FROM (SELECT appid, sum(cur) cur, sum(prev) prev
			      FROM (`+monthlyRows(1, cur, "")+`
			            UNION ALL`+monthlyRows(9, prev, "")+`) r
			      GROUP BY appid HAVING sum(cur) <> sum(prev)
			      ORDER BY abs(sum(cur) - sum(prev)) DESC, appid LIMIT $17) m
			LEFT JOIN authorizers a USING (appid)
			ORDER BY abs(m.cur - m.prev) DESC, m.appid`, append(args, limit)...)
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

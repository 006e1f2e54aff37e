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
// its month's sum), replacing what was there.
func rebuildMonths(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	first, end := monthStart(from), monthStart(to).AddDate(0, 1, 0)
	if _, err := tx.Exec(ctx, `DELETE FROM revenue_account_monthly WHERE month >= $1::date AND month < $2::date`,
		dateText(first), dateText(end)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO revenue_account_monthly (month, appid, days, req_succ, exposure, clicks, income_fen)
		SELECT date_trunc('month', day::timestamp)::date, appid, count(*), sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
		FROM revenue_account_daily WHERE day >= $1::date AND day < $2::date
		GROUP BY 1, 2`, dateText(first), dateText(end))
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

// daysIn counts the days of [from, to] up to latest: days after the newest
// stored day cost nothing to read.
func daysIn(from, to, latest time.Time) int {
	if to.After(latest) {
		to = latest
	}
	if to.Before(from) {
		return 0
	}
	return int(math.Round(to.Sub(from).Hours()/24)) + 1
}

// splitRange splits [from, to] into rangeParts, reading as few days as it
// can when no day after latest is stored.
func splitRange(from, to, latest time.Time) rangeParts {
	mA, mB := monthStart(from), monthStart(to)
	endA, endB := mA.AddDate(0, 1, -1), mB.AddDate(0, 1, -1)
	empty := dayPiece{from: to.AddDate(0, 0, 1), to: to, sign: 1}
	if mA.Equal(mB) {
		in := daysIn(from, to, latest)
		if daysIn(mA, from.AddDate(0, 0, -1), latest)+daysIn(to.AddDate(0, 0, 1), endA, latest) < in {
			return rangeParts{monthFrom: mA, monthTo: mA.AddDate(0, 1, 0), ends: [2]dayPiece{
				{from: mA, to: from.AddDate(0, 0, -1), sign: -1}, {from: to.AddDate(0, 0, 1), to: endA, sign: -1}}}
		}
		return rangeParts{monthFrom: mA, monthTo: mA, ends: [2]dayPiece{{from: from, to: to, sign: 1}, empty}}
	}
	p := rangeParts{monthFrom: mA, monthTo: mB.AddDate(0, 1, 0)}
	if out := daysIn(mA, from.AddDate(0, 0, -1), latest); out < daysIn(from, endA, latest) {
		p.ends[0] = dayPiece{from: mA, to: from.AddDate(0, 0, -1), sign: -1}
	} else {
		p.monthFrom, p.ends[0] = mA.AddDate(0, 1, 0), dayPiece{from: from, to: endA, sign: 1}
	}
	if out := daysIn(to.AddDate(0, 0, 1), endB, latest); out < daysIn(mB, to, latest) {
		p.ends[1] = dayPiece{from: to.AddDate(0, 0, 1), to: endB, sign: -1}
	} else {
		p.monthTo, p.ends[1] = mB, dayPiece{from: mB, to: to, sign: 1}
	}
	return p
}

// args are the eight parameters of monthlyRows.
func (p rangeParts) args() []any {
	out := []any{dateText(p.monthFrom), dateText(p.monthTo)}
	for _, e := range p.ends {
		out = append(out, dateText(e.from), dateText(e.to), e.sign)
	}
	return out
}

// monthlyRows is the SQL of a range's rows per account, with its eight
// parameters from $n (rangeParts.args): its months from
// revenue_account_monthly, then the two pieces of days from
// revenue_account_daily, signed. cols lists the columns given sign (a
// factor, "1" for the months) and days (the count of days a row stands
// for); and, when not empty, narrows every part (so an account's rows are
// read by index).
func monthlyRows(n int, cols func(sign, days string) string, and string) string {
	if and != "" {
		and = " AND " + and
	}
	piece := func(k int) string {
		return fmt.Sprintf(`
		UNION ALL
		SELECT appid, %s FROM revenue_account_daily WHERE day BETWEEN $%d::date AND $%d::date%s`,
			cols(fmt.Sprintf("$%d::bigint", k+2), fmt.Sprintf("($%d::bigint)::int", k+2)), k, k+1, and)
	}
	return fmt.Sprintf(`
		SELECT appid, %s FROM revenue_account_monthly WHERE month >= $%d::date AND month < $%d::date%s`, cols("1", "days"), n, n+1, and) +
		piece(n+2) + piece(n+5)
}

// latestDay is the newest day the provider's totals hold (every pull
// stores them), so splitRange can tell which days are surely empty; zero
// time when there are none.
func (s *RevenueStore) latestDay(ctx context.Context, tx pgx.Tx) (time.Time, error) {
	var d *time.Time
	if err := tx.QueryRow(ctx, `SELECT max(day) FROM revenue_provider_daily`).Scan(&d); err != nil || d == nil {
		return time.Time{}, err
	}
	return chinaDate(*d), nil
}

// monthlyWorkMem lets the sums per account (100,000 groups at the scale
// the benchmarks measure) stay in memory instead of spilling to disk.
const monthlyWorkMem = "64MB"

// inMonthlyTx runs fn in a read-only transaction with monthlyWorkMem and
// the newest stored day.
func (s *RevenueStore) inMonthlyTx(ctx context.Context, fn func(tx pgx.Tx, latest time.Time) error) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+monthlyWorkMem+"'"); err != nil {
			return err
		}
		latest, err := s.latestDay(ctx, tx)
		if err != nil {
			return err
		}
		if latest.IsZero() {
			latest = time.Date(9999, 12, 31, 0, 0, 0, 0, revenue.China)
		}
		return fn(tx, latest)
	})
}

// TopAccountsMonthly is TopAccountsOnDemand summed from the range's months
// and the days at either end (rangeParts): the same rows, sums, order and
// ties. It ranks by income alone, then sums the other figures of the
// ranked accounts only.
func (s *RevenueStore) TopAccountsMonthly(ctx context.Context, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	var out []revenue.AccountFigures
	err := s.inMonthlyTx(ctx, func(tx pgx.Tx, latest time.Time) error {
		rank := func(sign, days string) string { return sign + " * income_fen AS income_fen, " + days + " AS days" }
		figures := func(sign, _ string) string {
			return sign + " * req_succ AS req_succ, " + sign + " * exposure AS exposure, " + sign + " * clicks AS clicks"
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
			ORDER BY t.inc DESC, t.appid`, append(splitRange(from, to, latest).args(), limit)...)
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
// account with no days in a range sums to zero there, as on demand.
func (s *RevenueStore) MoversMonthly(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	var out []revenue.Mover
	err := s.inMonthlyTx(ctx, func(tx pgx.Tx, latest time.Time) error {
		cur := func(sign, _ string) string { return sign + " * income_fen AS cur, 0::bigint AS prev" }
		prev := func(sign, _ string) string { return "0::bigint, " + sign + " * income_fen" }
		args := append(splitRange(from, to, latest).args(), splitRange(prevFrom, prevTo, latest).args()...)
		rows, err := tx.Query(ctx, `
			SELECT m.appid, coalesce(a.nick_name, ''), m.cur, m.prev
			FROM (SELECT appid, sum(cur) cur, sum(prev) prev
			      FROM (`+monthlyRows(1, cur, "")+`
			            UNION ALL`+monthlyRows(9, prev, "")+`) r
			      GROUP BY appid) m
			LEFT JOIN authorizers a USING (appid)
			WHERE m.cur <> m.prev
			ORDER BY abs(m.cur - m.prev) DESC, m.appid LIMIT $17`, append(args, limit)...)
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

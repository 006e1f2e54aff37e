package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/migrations"
)

// fillRandomDays stores seeded random figures for 50 accounts over [from,
// to] (two slots a day, so the daily rollup sums them), with days missing,
// accounts silent for whole months and incomes from a small range (so ties
// and the appid tie-break count), one account with a single day (the first
// of from's next month), the provider's first and last days (so the stored
// days are [from, to]), and rebuilds the rollups as a pull's finish does.
func fillRandomDays(t *testing.T, s *postgres.RevenueStore, from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(15, 93))
	for a := range 50 {
		var rows []revenue.SlotDay
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			if r.IntN(5) == 0 || (a%6 == 0 && d.Month()%3 == time.Month(a%3)) {
				continue
			}
			for _, slot := range []string{wechat.SlotBanner, wechat.SlotRewardVideo} {
				rows = append(rows, revenue.SlotDay{Day: d, Slot: slot, Figures: revenue.Figures{
					ReqSucc: r.Int64N(5000), Exposure: r.Int64N(4000), Clicks: r.Int64N(40), Income: wechat.Fen(r.Int64N(30)),
				}})
			}
		}
		require.NoError(t, s.ReplaceAccountDays(ctx, fmt.Sprintf("wxm%02d", a), from, to, rows))
	}
	single := monthStartOf(from).AddDate(0, 1, 0)
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm_single", from, to, []revenue.SlotDay{
		{Day: single, Slot: wechat.SlotBanner, Figures: revenue.Figures{Exposure: 9, Income: 4}},
	}))
	require.NoError(t, s.ReplaceProviderDays(ctx, from, to, []revenue.ProviderDay{
		{Day: from, Figures: revenue.Figures{Exposure: 1}}, {Day: to, Figures: revenue.Figures{Exposure: 1}}}))
	require.NoError(t, s.RebuildSlotRollup(ctx, from, to, nil))
}

func monthStartOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

// requireMonthlyEqualsOnDemand checks that summing whole months from the
// monthly rollup and the days at either end from the daily one gives the
// top accounts and movers of [from, to] exactly as summing every day does,
// for the dashboard's ten and for every account.
func requireMonthlyEqualsOnDemand(t *testing.T, s *postgres.RevenueStore, from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	prevFrom, prevTo := revenue.PreviousRange(from, to)
	for _, limit := range []int{revenue.TopLimit, 1000} {
		want, err := s.TopAccountsOnDemand(ctx, from, to, limit)
		require.NoError(t, err)
		require.NotEmpty(t, want)
		got, err := s.TopAccountsMonthly(ctx, from, to, limit)
		require.NoError(t, err)
		require.Equal(t, want, got, "top %s – %s, limit %d", from.Format(time.DateOnly), to.Format(time.DateOnly), limit)
		wantMovers, err := s.MoversOnDemand(ctx, from, to, prevFrom, prevTo, limit)
		require.NoError(t, err)
		require.NotEmpty(t, wantMovers)
		movers, err := s.MoversMonthly(ctx, from, to, prevFrom, prevTo, limit)
		require.NoError(t, err)
		require.Equal(t, wantMovers, movers, "movers %s – %s, limit %d", from.Format(time.DateOnly), to.Format(time.DateOnly), limit)
	}
}

// A custom range's top accounts and movers read from the monthly rollup
// equal the sums of every day, to the fen, however the range falls on
// month boundaries.
func TestRevenueMonthlyEqualsOnDemand(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-09-14"), day(t, "2026-03-10"))
	var months int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(DISTINCT month) FROM revenue_account_monthly`).Scan(&months))
	require.Equal(t, 7, months)
	for _, r := range [][2]string{
		{"2025-11-17", "2026-02-09"}, // starts and ends mid-month, across a year's end
		{"2026-01-05", "2026-01-20"}, // inside one month
		{"2025-12-01", "2026-02-28"}, // whole months
		{"2026-02-01", "2026-02-28"}, // one whole month
		{"2025-12-01", "2026-01-13"}, // starts on the 1st, ends mid-month
		{"2025-10-20", "2026-01-31"}, // starts mid-month, ends on the last day
		{"2026-01-31", "2026-02-01"}, // two days across a boundary
		{"2026-02-14", "2026-02-14"}, // one day
		{"2025-09-01", "2026-03-10"}, // from before the first day to the last
		{"2025-10-01", "2026-03-31"}, // whole months, the last one partly stored
		{"2025-10-03", "2026-01-30"}, // both ends read as their month less the days outside
		{"2025-10-03", "2026-03-08"}, // the last month less days after the newest stored day
		{"2025-10-03", "2025-10-29"}, // inside one month, read as the month less its ends
		{"2025-10-04", "2025-10-31"}, // wxm_single's only day lies outside: it has no day here
		{"2026-02-01", "2026-05-31"}, // whole months past the last one stored
	} {
		requireMonthlyEqualsOnDemand(t, s, day(t, r[0]), day(t, r[1]))
	}
}

// A pull's finish (RebuildSlotRollup) sums the months it touched again: a
// revised day changes its month's row, a month whose last day is removed
// loses its row, and the monthly path reads the new figures.
func TestRevenuePullFinishRebuildsMonths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-12-20"), day(t, "2026-03-10"))
	monthRow := func(appid, month string) (income int64, n int) {
		t.Helper()
		require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(sum(income_fen), 0), count(*) FROM revenue_account_monthly
			WHERE appid = $1 AND month = $2::date`, appid, month).Scan(&income, &n))
		return income, n
	}
	daySum := func(appid, from, to string) int64 {
		t.Helper()
		var income int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(sum(income_fen), 0) FROM revenue_account_daily
			WHERE appid = $1 AND day BETWEEN $2::date AND $3::date`, appid, from, to).Scan(&income))
		return income
	}
	before, n := monthRow("wxm01", "2026-02-01")
	require.Equal(t, 1, n)
	require.Equal(t, daySum("wxm01", "2026-02-01", "2026-02-28"), before)

	// WeChat revises wxm01's 2026-02-10 to 5,000 fen and the day is pulled again.
	d := day(t, "2026-02-10")
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm01", d, d, []revenue.SlotDay{
		{Day: d, Slot: wechat.SlotBanner, Figures: revenue.Figures{Exposure: 1, Income: 5000}},
	}))
	stale, _ := monthRow("wxm01", "2026-02-01")
	require.Equal(t, before, stale, "the month is summed when the pull finishes, not per account")
	require.NoError(t, s.RebuildSlotRollup(ctx, d, d, nil))
	after, _ := monthRow("wxm01", "2026-02-01")
	require.Equal(t, daySum("wxm01", "2026-02-01", "2026-02-28"), after)
	require.Greater(t, after, before)
	// The running totals of the months after it follow.
	requireMonthlyEqualsOnDemand(t, s, day(t, "2026-01-01"), day(t, "2026-03-31"))
	feb := [2]time.Time{day(t, "2026-02-01"), day(t, "2026-02-28")}
	top, err := s.TopAccountsMonthly(ctx, feb[0], feb[1], revenue.TopLimit)
	require.NoError(t, err)
	require.Equal(t, "wxm01", top[0].AppID)
	require.Equal(t, wechat.Fen(after), top[0].Income)
	requireMonthlyEqualsOnDemand(t, s, feb[0], feb[1])

	// A backfill of December finds WeChat reports nothing for wxm02 there
	// now: its December row goes; other months are untouched.
	jan, _ := monthRow("wxm02", "2026-01-01")
	_, n = monthRow("wxm02", "2025-12-01")
	require.Equal(t, 1, n)
	dec := [2]time.Time{day(t, "2025-12-01"), day(t, "2025-12-31")}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm02", dec[0], dec[1], nil))
	require.NoError(t, s.RebuildSlotRollup(ctx, dec[0], dec[1], nil))
	_, n = monthRow("wxm02", "2025-12-01")
	require.Zero(t, n)
	janAfter, _ := monthRow("wxm02", "2026-01-01")
	require.Equal(t, jan, janAfter)
	requireMonthlyEqualsOnDemand(t, s, day(t, "2025-12-01"), day(t, "2026-02-28"))
	requireMonthlyEqualsOnDemand(t, s, day(t, "2026-01-01"), day(t, "2026-03-31"))
}

// A pull's finish also sums the months it did not touch when the monthly
// rollup lacks them: all of them when it is empty (days stored before it
// existed), and the months after its last one, so the running totals have
// no gap.
func TestRevenuePullFinishFillsMissingMonths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-11-20"), day(t, "2026-03-10"))
	y := day(t, "2026-03-10")
	for _, missing := range []string{`TRUNCATE revenue_account_monthly`, `DELETE FROM revenue_account_monthly WHERE month >= '2026-01-01'`} {
		_, err := pool.Exec(ctx, missing)
		require.NoError(t, err)
		require.NoError(t, s.RebuildSlotRollup(ctx, y, y, nil))
		var months int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT month) FROM revenue_account_monthly`).Scan(&months))
		require.Equal(t, 5, months, missing)
		requireMonthlyEqualsOnDemand(t, s, day(t, "2025-11-25"), day(t, "2026-03-08"))
		requireMonthlyEqualsOnDemand(t, s, day(t, "2025-12-01"), day(t, "2026-02-28"))
	}
}

// Migration 00093's backfill sums the days stored before it into the same
// months a pull's finish would.
func TestMigration00093BackfillsMonths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-12-20"), day(t, "2026-02-10"))
	_, err := pool.Exec(ctx, `TRUNCATE revenue_account_monthly`)
	require.NoError(t, err)

	up, err := migrations.FS.ReadFile("00093_revenue_account_monthly.sql")
	require.NoError(t, err)
	var code []string
	for _, line := range strings.Split(strings.Split(string(up), "-- +goose Down")[0], "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			code = append(code, line)
		}
	}
	ran := false
	for _, stmt := range strings.Split(strings.Join(code, "\n"), ";") {
		if strings.Contains(stmt, "INSERT INTO revenue_account_monthly") {
			_, err := pool.Exec(ctx, stmt)
			require.NoError(t, err)
			ran = true
		}
	}
	require.True(t, ran)
	var months int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT month) FROM revenue_account_monthly`).Scan(&months))
	require.Equal(t, 3, months)
	requireMonthlyEqualsOnDemand(t, s, day(t, "2025-12-01"), day(t, "2026-01-31"))
	requireMonthlyEqualsOnDemand(t, s, day(t, "2025-12-20"), day(t, "2026-02-10"))
}

// dailyRowsRead sums the rows a plan took from revenue_account_daily's
// partitions (at this size the planner rightly scans a small partition
// whole and filters, so rows filtered away are not counted), and says
// whether it read revenue_account_monthly.
func dailyRowsRead(n planNode) (read float64, monthly bool) {
	if strings.HasPrefix(n.Relation, "revenue_account_daily") {
		read += n.ActualRows * n.Loops
	}
	monthly = n.Relation == "revenue_account_monthly"
	for _, c := range n.Plans {
		r, m := dailyRowsRead(c)
		read, monthly = read+r, monthly || m
	}
	return read, monthly
}

// lastSumQuery records the SQL and arguments of the pool's latest query
// that sums per account (not the transaction's other statements).
type lastSumQuery struct{ lastQuery }

func (l *lastSumQuery) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "GROUP BY appid") {
		return l.lastQuery.TraceQueryStart(ctx, c, d)
	}
	return ctx
}

// A custom range's top accounts and movers summed by month (the path
// before the running totals per day, kept as the benchmarks' baseline) read
// its whole months from the monthly rollup and, from the daily one, only
// the days at either end.
func TestRevenueCustomRangeReadsMonths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &lastSumQuery{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-06-01"), day(t, "2026-03-10"))
	_, err := pool.Exec(ctx, `ANALYZE revenue_account_daily; ANALYZE revenue_account_monthly`)
	require.NoError(t, err)

	explain := func(call func() error) planNode {
		require.NoError(t, call())
		tracer.mu.Lock()
		sql, args := tracer.sql, tracer.args
		tracer.mu.Unlock()
		plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args, "")
		return plan
	}
	ends := func(a, b, c, d string) float64 {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM revenue_account_daily
			WHERE day BETWEEN $1::date AND $2::date OR day BETWEEN $3::date AND $4::date`, a, b, c, d).Scan(&n))
		return float64(n)
	}
	// The range's ends are read as their days; the previous range's
	// (2025-10-05 – 2025-12-19) as their months less the days outside it.
	// The top then sums the ranked ten of 51 accounts' days at the ends
	// again for their other figures (about a fifth more; half allowed).
	from, to := day(t, "2025-12-20"), day(t, "2026-03-05")
	prevFrom, prevTo := revenue.PreviousRange(from, to)
	for name, c := range map[string]struct {
		call func() error
		ends float64
	}{
		"top": {func() error { _, err := s.TopAccountsMonthly(ctx, from, to, revenue.TopLimit); return err },
			ends("2025-12-20", "2025-12-31", "2026-03-01", "2026-03-05") * 1.5},
		"movers": {func() error { _, err := s.MoversMonthly(ctx, from, to, prevFrom, prevTo, revenue.TopLimit); return err },
			ends("2025-12-20", "2025-12-31", "2026-03-01", "2026-03-05") + ends("2025-10-01", "2025-10-04", "2025-12-20", "2025-12-31")},
	} {
		plan := explain(c.call)
		read, monthly := dailyRowsRead(plan)
		require.True(t, monthly, "%s\n%s", name, outline(plan, 0))
		require.Positive(t, c.ends)
		require.LessOrEqual(t, read, c.ends, "%s\n%s", name, outline(plan, 0))
	}
}

package postgres_test

import (
	"context"
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

// requireCumulativeEqualsOnDemand checks that the running totals at a
// range's ends give its top accounts and movers (against the range before
// it) exactly as summing every day does, through the dashboard's path
// (TopAccounts, Movers: no ranking is precomputed here) and the direct
// one, for the dashboard's ten and for every account. It returns how many
// accounts the range's top holds.
func requireCumulativeEqualsOnDemand(t *testing.T, s *postgres.RevenueStore, from, to time.Time) int {
	t.Helper()
	return requireRanksEqualOnDemand(t, s, from, to, []topFunc{s.TopAccounts, s.TopAccountsCumulative}, []moversFunc{s.Movers, s.MoversCumulative})
}

type (
	topFunc    = func(context.Context, time.Time, time.Time, int) ([]revenue.AccountFigures, error)
	moversFunc = func(context.Context, time.Time, time.Time, time.Time, time.Time, int) ([]revenue.Mover, error)
)

// requireRanksEqualOnDemand checks that each of tops ranks [from, to], and
// each of movers against the range before it, exactly as summing every day
// does, for the dashboard's ten and for every account. It returns how many
// accounts the range's top holds.
func requireRanksEqualOnDemand(t *testing.T, s *postgres.RevenueStore, from, to time.Time, tops []topFunc, movers []moversFunc) int {
	t.Helper()
	ctx := context.Background()
	prevFrom, prevTo := revenue.PreviousRange(from, to)
	name := from.Format(time.DateOnly) + " – " + to.Format(time.DateOnly)
	n := 0
	for _, limit := range []int{revenue.TopLimit, 1000} {
		want, err := s.TopAccountsOnDemand(ctx, from, to, limit)
		require.NoError(t, err)
		for _, top := range tops {
			got, err := top(ctx, from, to, limit)
			require.NoError(t, err)
			require.Equal(t, want, got, "top %s, limit %d", name, limit)
		}
		wantMovers, err := s.MoversOnDemand(ctx, from, to, prevFrom, prevTo, limit)
		require.NoError(t, err)
		for _, mv := range movers {
			got, err := mv(ctx, from, to, prevFrom, prevTo, limit)
			require.NoError(t, err)
			require.Equal(t, wantMovers, got, "movers %s, limit %d", name, limit)
		}
		n = len(want)
	}
	return n
}

// A custom range's top accounts and movers read from the running totals
// per day equal the sums of every day, to the fen: across month and year
// ends, a single day, a range before any data, ranges reaching past the
// last day, and accounts whose first day lies inside the range (wxm00 is
// silent through September, wxm_single has one day, 2025-10-01).
func TestRevenueCumulativeEqualsOnDemand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-09-14"), day(t, "2026-03-10"))
	var days, rows int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT day), count(*) FROM revenue_account_cumulative`).Scan(&days, &rows))
	require.Equal(t, 178, days, "dense from the first stored day to the last")
	var first time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT min(day) FROM revenue_account_cumulative WHERE appid = 'wxm00'`).Scan(&first))
	require.True(t, first.After(day(t, "2025-09-30")), "wxm00's first day is in October: %s", first)

	requireRanges(t, edgeRanges, func(from, to time.Time) int { return requireCumulativeEqualsOnDemand(t, s, from, to) })
}

// rangeCase is a custom range and how many accounts have days in it (-1:
// some, not checked).
type rangeCase struct {
	from, to string
	accounts int
}

// edgeRanges are custom ranges over the edges of fillRandomDays's days:
// month and year ends, one day, the first and last days stored, and
// before and after them.
var edgeRanges = []rangeCase{
	{"2025-11-17", "2026-02-09", -1}, // starts and ends mid-month, across a year's end
	{"2026-01-05", "2026-01-20", -1}, // inside one month
	{"2025-12-01", "2026-02-28", -1}, // whole months
	{"2026-01-31", "2026-02-01", -1}, // two days across a month's end
	{"2025-12-31", "2026-01-01", -1}, // two days across a year's end
	{"2026-02-14", "2026-02-14", -1}, // one day
	{"2025-10-01", "2025-10-01", -1}, // one day, wxm_single's only one
	{"2025-09-14", "2025-09-14", -1}, // the first stored day: nothing before it
	{"2025-09-20", "2025-10-10", -1}, // wxm00's and wxm_single's first days inside
	{"2025-09-01", "2026-03-10", -1}, // from before the first day to the last
	{"2026-02-01", "2026-05-31", -1}, // past the last day stored
	{"2026-03-10", "2026-03-10", -1}, // the last day stored
	{"2025-01-01", "2025-06-30", 0},  // before any data
	{"2025-06-01", "2025-09-13", 0},  // ends the day before the first stored day
	{"2026-03-11", "2026-04-30", 0},  // after the last day stored
}

// requireRanges checks each range with equal, which compares a way of
// summing it with the day-by-day sums and returns how many accounts it
// found.
func requireRanges(t *testing.T, ranges []rangeCase, equal func(from, to time.Time) int) {
	t.Helper()
	for _, r := range ranges {
		n := equal(day(t, r.from), day(t, r.to))
		if r.accounts >= 0 {
			require.Equal(t, r.accounts, n, "%s – %s", r.from, r.to)
		} else {
			require.Positive(t, n, "%s – %s", r.from, r.to)
		}
	}
}

// A pull's finish (RebuildSlotRollup) carries a revised day into the
// running totals of that day and every day after it; re-pulling the same
// figures again changes nothing; a backfill that finds an account has no
// days there any more takes them out.
func TestRevenuePullFinishRebuildsRunningTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-12-20"), day(t, "2026-03-10"))
	snapshot := func() string {
		t.Helper()
		var out string
		require.NoError(t, pool.QueryRow(ctx, `SELECT md5(string_agg(c::text, ',' ORDER BY day, appid)) FROM revenue_account_cumulative c`).Scan(&out))
		return out
	}
	feb := [2]time.Time{day(t, "2026-02-01"), day(t, "2026-02-28")}

	// WeChat revises wxm01's 2026-02-10 to 5,000 fen and the day is pulled
	// again, twice (the daily pull re-pulls yesterday as it is revised).
	d := day(t, "2026-02-10")
	revised := []revenue.SlotDay{{Day: d, Slot: wechat.SlotBanner, Figures: revenue.Figures{Exposure: 1, Income: 5000}}}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm01", d, d, revised))
	require.NoError(t, s.RebuildSlotRollup(ctx, d, d, nil))
	top, err := s.TopAccounts(ctx, feb[0], feb[1], revenue.TopLimit)
	require.NoError(t, err)
	require.Equal(t, "wxm01", top[0].AppID)
	once := snapshot()
	for _, r := range [][2]string{{"2026-02-10", "2026-02-10"}, {"2026-02-01", "2026-02-28"}, {"2026-01-15", "2026-03-10"}, {"2026-02-11", "2026-03-05"}} {
		requireCumulativeEqualsOnDemand(t, s, day(t, r[0]), day(t, r[1]))
	}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm01", d, d, revised))
	require.NoError(t, s.RebuildSlotRollup(ctx, d, d, nil))
	require.Equal(t, once, snapshot(), "re-pulling the same figures leaves the running totals as they were")

	// A backfill of January finds WeChat reports nothing for wxm02 there now.
	jan := [2]time.Time{day(t, "2026-01-01"), day(t, "2026-01-31")}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm02", jan[0], jan[1], nil))
	require.NoError(t, s.RebuildSlotRollup(ctx, jan[0], jan[1], nil))
	for _, r := range [][2]string{{"2026-01-01", "2026-01-31"}, {"2025-12-25", "2026-02-05"}, {"2026-02-01", "2026-03-10"}} {
		requireCumulativeEqualsOnDemand(t, s, day(t, r[0]), day(t, r[1]))
	}
	var inJan int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM revenue_account_cumulative
		WHERE appid = 'wxm02' AND day BETWEEN '2026-01-01' AND '2026-01-31'
		  AND cum_days <> (SELECT cum_days FROM revenue_account_cumulative WHERE appid = 'wxm02' AND day = '2025-12-31')`).Scan(&inJan))
	require.Zero(t, inJan, "wxm02's count of days stays put through January")

	// The next day's pull appends a day to every account, carrying on
	// those with no figures that day.
	next := day(t, "2026-03-11")
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm03", next, next, []revenue.SlotDay{
		{Day: next, Slot: wechat.SlotBanner, Figures: revenue.Figures{Exposure: 3, Income: 7}}}))
	require.NoError(t, s.RebuildSlotRollup(ctx, next, next, nil))
	var carried, all int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE day = '2026-03-11'), count(*) FILTER (WHERE day = '2026-03-10')
		FROM revenue_account_cumulative`).Scan(&carried, &all))
	require.Equal(t, all, carried)
	requireCumulativeEqualsOnDemand(t, s, day(t, "2026-03-01"), next)
	requireCumulativeEqualsOnDemand(t, s, next, next)
}

// A pull's finish also carries the days it did not touch when the running
// totals lack them: all of them when the table is empty (days stored
// before it existed), and the days after its last one, so there is no gap.
func TestRevenuePullFinishFillsMissingRunningTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-11-20"), day(t, "2026-03-10"))
	y := day(t, "2026-03-10")
	for _, missing := range []string{`TRUNCATE revenue_account_cumulative`, `DELETE FROM revenue_account_cumulative WHERE day >= '2026-01-15'`} {
		_, err := pool.Exec(ctx, missing)
		require.NoError(t, err)
		require.NoError(t, s.RebuildSlotRollup(ctx, y, y, nil))
		var days int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT day) FROM revenue_account_cumulative`).Scan(&days))
		require.Equal(t, 111, days, missing)
		requireCumulativeEqualsOnDemand(t, s, day(t, "2025-11-25"), day(t, "2026-03-08"))
		requireCumulativeEqualsOnDemand(t, s, day(t, "2026-01-14"), day(t, "2026-01-16"))
	}
}

// Migration 00097's backfill carries the days stored before it into the
// same running totals a pull's finish would.
func TestMigration00097BackfillsRunningTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-12-20"), day(t, "2026-02-10"))
	_, err := pool.Exec(ctx, `TRUNCATE revenue_account_cumulative`)
	require.NoError(t, err)

	up, err := migrations.FS.ReadFile("00097_revenue_account_cumulative.sql")
	require.NoError(t, err)
	ran := false
	for _, line := range strings.Split(strings.Split(string(up), "-- +goose Down")[0], "\n") {
		if strings.HasPrefix(line, "SELECT revenue_rebuild_cumulative") {
			_, err := pool.Exec(ctx, line)
			require.NoError(t, err)
			ran = true
		}
	}
	require.True(t, ran)
	var days int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT day) FROM revenue_account_cumulative`).Scan(&days))
	require.Equal(t, 53, days)
	requireCumulativeEqualsOnDemand(t, s, day(t, "2025-12-20"), day(t, "2026-02-10"))
	requireCumulativeEqualsOnDemand(t, s, day(t, "2026-01-10"), day(t, "2026-02-03"))
}

// lastCumQuery records the SQL and arguments of the pool's latest query
// that reads the running totals per account (not the transaction's other
// statements).
type lastCumQuery struct{ lastQuery }

func (l *lastCumQuery) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "FROM revenue_account_cumulative WHERE day") || strings.Contains(d.SQL, "WHERE day IN") {
		return l.lastQuery.TraceQueryStart(ctx, c, d)
	}
	return ctx
}

// rowsRead sums the rows a plan took from the partitions of the tables
// whose names begin with prefix.
func rowsRead(n planNode, prefix string) (read float64) {
	if strings.HasPrefix(n.Relation, prefix) {
		read += n.ActualRows * n.Loops
	}
	for _, c := range n.Plans {
		read += rowsRead(c, prefix)
	}
	return read
}

// A custom range's top accounts and movers from the running totals per
// account (the way before the vectors, and until they are built) read one
// row per account per end of each range, and no day and no month.
func TestRevenueCustomRangeReadsRunningTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &lastCumQuery{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-06-01"), day(t, "2026-03-10"))
	_, err := pool.Exec(ctx, `ANALYZE revenue_account_cumulative`)
	require.NoError(t, err)
	var accounts float64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT appid) FROM revenue_account_cumulative`).Scan(&accounts))

	explain := func(call func() error) planNode {
		require.NoError(t, call())
		tracer.mu.Lock()
		sql, args := tracer.sql, tracer.args
		tracer.mu.Unlock()
		plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args, "")
		return plan
	}
	from, to := day(t, "2025-12-20"), day(t, "2026-03-05")
	prevFrom, prevTo := revenue.PreviousRange(from, to)
	for name, c := range map[string]struct {
		call func() error
		ends float64
	}{
		"top": {func() error { _, err := s.TopAccountsCumulative(ctx, from, to, revenue.TopLimit); return err }, 2},
		"movers": {func() error {
			_, err := s.MoversCumulative(ctx, from, to, prevFrom, prevTo, revenue.TopLimit)
			return err
		}, 3},
	} {
		plan := explain(c.call)
		require.Zero(t, rowsRead(plan, "revenue_account_daily"), "%s\n%s", name, outline(plan, 0))
		require.Zero(t, rowsRead(plan, "revenue_account_monthly"), "%s\n%s", name, outline(plan, 0))
		read := rowsRead(plan, "revenue_account_cumulative")
		require.Positive(t, read, "%s\n%s", name, outline(plan, 0))
		require.LessOrEqual(t, read, c.ends*accounts, "%s\n%s", name, outline(plan, 0))
	}
}

// Narrowed to a principal or a state without a slot, the top accounts and
// movers read the selected accounts' running totals and equal the sums of
// their slots' days, to the fen; with a slot they are still summed.
func TestRevenueFilteredTopFromRunningTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-09-14"), day(t, "2026-03-10"))
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomp')`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name)
		SELECT DISTINCT appid, 'wxcomp', true, 'MP ' || appid,
		       CASE WHEN right(appid, 1) IN ('0', '2', '4', '6', '8') THEN '花间有限公司' ELSE '山川有限公司' END
		FROM revenue_account_daily`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE right(appid, 1) IN ('1', '2', '3')`)
	require.NoError(t, err)

	filters := []revenue.Filter{{Principal: "花间"}, {State: "open"}, {Principal: "山川", State: "open"}, {State: "never"}, {Principal: "无此公司"}}
	for _, r := range [][2]string{{"2025-11-17", "2026-02-09"}, {"2026-02-14", "2026-02-14"}, {"2025-09-20", "2025-10-10"}, {"2025-01-01", "2025-06-30"}, {"2026-02-01", "2026-05-31"}} {
		from, to := day(t, r[0]), day(t, r[1])
		prevFrom, prevTo := revenue.PreviousRange(from, to)
		for _, f := range filters {
			for _, limit := range []int{revenue.TopLimit, 1000} {
				want, err := s.FilteredTopOnDemand(ctx, f, from, to, limit)
				require.NoError(t, err)
				got, err := s.FilteredTop(ctx, f, from, to, limit)
				require.NoError(t, err)
				require.Equal(t, want, got, "top %v %v, limit %d", r, f, limit)
				wantMovers, err := s.FilteredMoversOnDemand(ctx, f, from, to, prevFrom, prevTo, limit)
				require.NoError(t, err)
				movers, err := s.FilteredMovers(ctx, f, from, to, prevFrom, prevTo, limit)
				require.NoError(t, err)
				require.Equal(t, wantMovers, movers, "movers %v %v, limit %d", r, f, limit)
			}
		}
	}
	// The selection is applied: every account in a principal's top is its.
	top, err := s.FilteredTop(ctx, revenue.Filter{Principal: "花间"}, day(t, "2025-11-17"), day(t, "2026-02-09"), 1000)
	require.NoError(t, err)
	require.Len(t, top, 25)
	for _, a := range top {
		require.Contains(t, "02468", a.AppID[len(a.AppID)-1:], a.AppID)
	}
}

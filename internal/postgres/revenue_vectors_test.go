package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// vectorFilters are the dashboard's filters the vectors serve: principal,
// state, slot, and their pairs, with selections of none.
var vectorFilters = []revenue.Filter{
	{Principal: "花间"}, {State: "open"}, {Principal: "山川", State: "open"}, {State: "never"}, {Principal: "无此公司"},
	{Slot: wechat.SlotBanner}, {Slot: wechat.SlotRewardVideo, Principal: "花间"}, {Slot: wechat.SlotBanner, State: "open"},
	{Slot: wechat.SlotCover},
}

// addAuthorizers makes every account with ad data one of the platform's,
// of two principals by its appid's last character, some of them open.
func addAuthorizers(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomp') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name)
		SELECT DISTINCT appid, 'wxcomp', true, 'MP ' || appid,
		       CASE WHEN right(appid, 1) IN ('0', '2', '4', '6', '8') THEN '花间有限公司' ELSE '山川有限公司' END
		FROM revenue_account_daily
		ON CONFLICT (appid) DO NOTHING`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE right(appid, 1) IN ('1', '2', '3')`)
	require.NoError(t, err)
}

// requireVectorsEqualOnDemand checks that the running-total vectors give a
// range's top accounts and movers (against the range before it) exactly as
// summing every day does, through the dashboard's path (TopAccounts,
// Movers, FilteredRanks; FilteredTop, FilteredMovers) and the direct one, for the
// dashboard's ten and for every account, unfiltered and for every one of
// vectorFilters. It returns how many accounts the unfiltered top holds.
func requireVectorsEqualOnDemand(t *testing.T, s *postgres.RevenueStore, from, to time.Time) int {
	t.Helper()
	ctx := context.Background()
	prevFrom, prevTo := revenue.PreviousRange(from, to)
	name := from.Format(time.DateOnly) + " – " + to.Format(time.DateOnly)
	n := requireRanksEqualOnDemand(t, s, from, to, []topFunc{s.TopAccounts, s.TopAccountsVectors}, []moversFunc{s.Movers, s.MoversVectors})
	for _, limit := range []int{revenue.TopLimit, 1000} {
		for _, f := range vectorFilters {
			want, err := s.FilteredTopOnDemand(ctx, f, from, to, limit)
			require.NoError(t, err)
			for _, top := range []func(context.Context, revenue.Filter, time.Time, time.Time, int) ([]revenue.AccountFigures, error){s.FilteredTop, s.FilteredTopVectors} {
				got, err := top(ctx, f, from, to, limit)
				require.NoError(t, err)
				require.Equal(t, want, got, "top %s %+v, limit %d", name, f, limit)
			}
			wantMovers, err := s.FilteredMoversOnDemand(ctx, f, from, to, prevFrom, prevTo, limit)
			require.NoError(t, err)
			for _, movers := range []func(context.Context, revenue.Filter, time.Time, time.Time, time.Time, time.Time, int) ([]revenue.Mover, error){s.FilteredMovers, s.FilteredMoversVectors} {
				got, err := movers(ctx, f, from, to, prevFrom, prevTo, limit)
				require.NoError(t, err)
				require.Equal(t, wantMovers, got, "movers %s %+v, limit %d", name, f, limit)
			}
			for _, ranks := range []func(context.Context, revenue.Filter, time.Time, time.Time, time.Time, time.Time, int) ([]revenue.AccountFigures, []revenue.Mover, error){s.FilteredRanks, s.FilteredRanksVectors} {
				top, movers, err := ranks(ctx, f, from, to, prevFrom, prevTo, limit)
				require.NoError(t, err)
				require.Equal(t, want, top, "ranks' top %s %+v, limit %d", name, f, limit)
				require.Equal(t, wantMovers, movers, "ranks' movers %s %+v, limit %d", name, f, limit)
			}
		}
	}
	return n
}

// fillVectorDays is fillRandomDays, the platform's authorizers, and an
// account added afterwards (wxa_new: its appid sorts before every other,
// its position after them) with days from added through the last: a
// backfill of days already carried.
func fillVectorDays(t *testing.T, pool *pgxpool.Pool, s *postgres.RevenueStore, from, to, added time.Time) {
	t.Helper()
	ctx := context.Background()
	fillRandomDays(t, s, from, to)
	var rows []revenue.SlotDay
	for d := added; !d.After(to); d = d.AddDate(0, 0, 1) {
		// Figures like the others' (0–29 fen a slot a day), so it ties.
		rows = append(rows, revenue.SlotDay{Day: d, Slot: wechat.SlotBanner, Figures: revenue.Figures{
			ReqSucc: 3, Exposure: 2, Clicks: 1, Income: wechat.Fen(d.Day() % 30)}})
	}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxa_new", added, to, rows))
	require.NoError(t, s.RebuildSlotRollup(ctx, added, to, nil))
	addAuthorizers(t, pool)
	var pos, last int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT pos FROM revenue_account_pos WHERE appid = 'wxa_new'),
		(SELECT max(pos) FROM revenue_account_pos)`).Scan(&pos, &last))
	require.Equal(t, last, pos, "a new account is appended")
}

// A custom range's top accounts and movers ranked from the running-total
// vectors equal the sums of every day, to the fen: across month and year
// ends, a single day, before any data, past the last day, accounts whose
// first day is inside the range, an account added after the others, and
// narrowed to a principal, a state, a slot and their pairs.
func TestRevenueVectorsEqualOnDemand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillVectorDays(t, pool, s, day(t, "2025-09-14"), day(t, "2026-03-10"), day(t, "2025-12-28"))
	var vectors, slots int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT slot) FROM revenue_rank_vectors`).Scan(&vectors, &slots))
	require.Equal(t, 3*178, vectors, "one a day with rows, for every slot together and each of two slots")
	require.Equal(t, 3, slots)

	// The edges, and a range with wxa_new's first day inside.
	ranges := append(slices.Clone(edgeRanges), rangeCase{"2025-12-20", "2026-01-03", -1})
	requireRanges(t, ranges, func(from, to time.Time) int { return requireVectorsEqualOnDemand(t, s, from, to) })
}

// A pull's finish (RebuildSlotRollup) carries a revised day into the
// vectors of that day and every day after it; re-pulling the same figures
// leaves them as they were; a backfill that finds an account has no days
// there any more takes them out; the next day's pull appends a vector.
func TestRevenuePullFinishRebuildsVectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillVectorDays(t, pool, s, day(t, "2025-12-20"), day(t, "2026-03-10"), day(t, "2026-02-20"))
	snapshot := func() string {
		t.Helper()
		var out string
		require.NoError(t, pool.QueryRow(ctx, `SELECT md5(string_agg(slot || day || md5(income) || md5(days), ',' ORDER BY slot, day))
			FROM revenue_rank_vectors`).Scan(&out))
		return out
	}

	// WeChat revises wxm01's 2026-02-10 to 5,000 fen and the day is pulled
	// again, twice.
	d := day(t, "2026-02-10")
	revised := []revenue.SlotDay{{Day: d, Slot: wechat.SlotRewardVideo, Figures: revenue.Figures{Exposure: 1, Income: 5000}}}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm01", d, d, revised))
	require.NoError(t, s.RebuildSlotRollup(ctx, d, d, nil))
	top, err := s.TopAccounts(ctx, day(t, "2026-02-01"), day(t, "2026-02-28"), revenue.TopLimit)
	require.NoError(t, err)
	require.Equal(t, "wxm01", top[0].AppID)
	once := snapshot()
	for _, r := range [][2]string{{"2026-02-10", "2026-02-10"}, {"2026-02-01", "2026-02-28"}, {"2026-01-15", "2026-03-10"}, {"2026-02-11", "2026-03-05"}} {
		requireVectorsEqualOnDemand(t, s, day(t, r[0]), day(t, r[1]))
	}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm01", d, d, revised))
	require.NoError(t, s.RebuildSlotRollup(ctx, d, d, nil))
	require.Equal(t, once, snapshot(), "re-pulling the same figures leaves the vectors as they were")

	// A backfill of January finds WeChat reports nothing for wxm02 there now.
	jan := [2]time.Time{day(t, "2026-01-01"), day(t, "2026-01-31")}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm02", jan[0], jan[1], nil))
	require.NoError(t, s.RebuildSlotRollup(ctx, jan[0], jan[1], nil))
	for _, r := range [][2]string{{"2026-01-01", "2026-01-31"}, {"2025-12-25", "2026-02-05"}, {"2026-02-01", "2026-03-10"}} {
		requireVectorsEqualOnDemand(t, s, day(t, r[0]), day(t, r[1]))
	}

	// The next day's pull appends a day with one account's figures, in a
	// slot no day had before.
	next := day(t, "2026-03-11")
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm03", next, next, []revenue.SlotDay{
		{Day: next, Slot: wechat.SlotCover, Figures: revenue.Figures{Exposure: 3, Income: 7}}}))
	require.NoError(t, s.RebuildSlotRollup(ctx, next, next, nil))
	var through time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT through FROM revenue_rank_vectors_built`).Scan(&through))
	require.Equal(t, "2026-03-11", through.Format(time.DateOnly))
	requireVectorsEqualOnDemand(t, s, day(t, "2026-03-01"), next)
	requireVectorsEqualOnDemand(t, s, next, next)
	top, err = s.FilteredTop(ctx, revenue.Filter{Slot: wechat.SlotCover}, next, next, revenue.TopLimit)
	require.NoError(t, err)
	require.Len(t, top, 1)
	require.Equal(t, wechat.Fen(7), top[0].Income)
}

// Migration 00099's backfill (run by Migrate once the migrations are
// applied) carries the days stored before the vectors existed; until they
// are built the pages rank from the running totals per account, with the
// same results.
func TestMigration00099BackfillsVectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillVectorDays(t, pool, s, day(t, "2025-12-20"), day(t, "2026-02-10"), day(t, "2026-01-20"))
	_, err := pool.Exec(ctx, `TRUNCATE revenue_rank_vectors, revenue_rank_vectors_built, revenue_account_pos`)
	require.NoError(t, err)
	from, to := day(t, "2026-01-10"), day(t, "2026-02-03")
	_, err = s.TopAccountsVectors(ctx, from, to, revenue.TopLimit)
	require.Error(t, err, "not built")
	// The dashboard's path falls back to the running totals per account.
	want, err := s.TopAccountsOnDemand(ctx, from, to, revenue.TopLimit)
	require.NoError(t, err)
	got, err := s.TopAccounts(ctx, from, to, revenue.TopLimit)
	require.NoError(t, err)
	require.Equal(t, want, got)
	f := revenue.Filter{Slot: wechat.SlotBanner, Principal: "花间"}
	want, err = s.FilteredTopOnDemand(ctx, f, from, to, revenue.TopLimit)
	require.NoError(t, err)
	got, err = s.FilteredTop(ctx, f, from, to, revenue.TopLimit)
	require.NoError(t, err)
	require.Equal(t, want, got)

	require.NoError(t, postgres.Migrate(ctx, pool))
	var through time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT through FROM revenue_rank_vectors_built`).Scan(&through))
	require.Equal(t, "2026-02-10", through.Format(time.DateOnly))
	requireVectorsEqualOnDemand(t, s, day(t, "2025-12-20"), day(t, "2026-02-10"))
	requireVectorsEqualOnDemand(t, s, from, to)
}

// rowsReadOf sums the rows a plan took from table.
func rowsReadOf(n planNode, table string) (read float64) {
	if n.Relation == table {
		read += n.ActualRows * n.Loops
	}
	for _, c := range n.Plans {
		read += rowsReadOf(c, table)
	}
	return read
}

// The dashboard's custom range, and its top accounts and movers narrowed
// to a principal, a state or a slot, read the vectors at the ranges' ends
// and, of the per-account tables, only the ranked accounts' rows: no slice
// of revenue_account_daily, revenue_account_monthly or
// revenue_account_cumulative, and of revenue_slot_daily only the ranked
// accounts' days of the slot.
func TestRevenueCustomRangeReadsVectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &allQueries{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	// A principal's ranking from the vectors, as for a principal of many
	// accounts (a few are read one by one: the next test).
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp", FewAccounts: -1}
	fillVectorDays(t, pool, s, day(t, "2025-06-01"), day(t, "2026-03-10"), day(t, "2026-01-02"))
	_, err := pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)
	from, to := day(t, "2025-12-20"), day(t, "2026-03-05")
	days := float64(to.Sub(from).Hours()/24) + 1
	svc := &revenue.Service{Store: s, ComponentAppID: "wxcomp", Now: func() time.Time { return day(t, "2026-03-11").Add(10 * time.Hour) }}

	for name, c := range map[string]struct {
		call     func() error
		slotRows float64 // at most, from revenue_slot_daily
	}{
		"page": {func() error { _, err := svc.Dashboard(ctx, from, to); return err }, 0},
		"principal": {func() error {
			_, _, err := s.FilteredRanks(ctx, revenue.Filter{Principal: "花间"}, from, to, from.AddDate(0, 0, -int(days)), from.AddDate(0, 0, -1), revenue.TopLimit)
			return err
		}, 0},
		"state": {func() error {
			_, _, err := s.FilteredRanks(ctx, revenue.Filter{State: "never"}, from, to, from.AddDate(0, 0, -int(days)), from.AddDate(0, 0, -1), revenue.TopLimit)
			return err
		}, 0},
		"slot page": {func() error {
			_, err := svc.DashboardFor(ctx, from, to, revenue.Filter{Slot: wechat.SlotBanner})
			return err
		}, revenue.TopLimit * days},
		"slot": {func() error {
			_, _, err := s.FilteredRanks(ctx, revenue.Filter{Slot: wechat.SlotBanner, State: "open"}, from, to, from.AddDate(0, 0, -int(days)), from.AddDate(0, 0, -1), revenue.TopLimit)
			return err
		}, revenue.TopLimit * days},
	} {
		tracer.take()
		require.NoError(t, c.call(), name)
		sqls, args := tracer.take()
		var vectors, cumulative, slotRows, positions float64
		var outlines string
		for i, sql := range sqls {
			sql = strings.TrimSpace(sql)
			if !strings.HasPrefix(sql, "SELECT") && !strings.HasPrefix(sql, "WITH") {
				continue
			}
			plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args[i], sql)
			require.Zero(t, rowsRead(plan, "revenue_account_daily"), "%s: %s\n%s", name, sql, outline(plan, 0))
			require.Zero(t, rowsRead(plan, "revenue_account_monthly"), "%s: %s\n%s", name, sql, outline(plan, 0))
			vectors += rowsReadOf(plan, "revenue_rank_vectors")
			cumulative += rowsRead(plan, "revenue_account_cumulative")
			outlines += sql + "\n" + outline(plan, 0) + "\n"
			slotRows += rowsRead(plan, "revenue_slot_daily")
			positions += rowsReadOf(plan, "revenue_account_pos")
			if name == "state" && strings.Contains(sql, "array_agg(p.pos)") {
				// A state alone joins the positions to the states.
				require.Zero(t, rowsReadOf(plan, "authorizers"), "%s: the positions read no authorizer\n%s", name, outline(plan, 0))
			}
		}
		if name == "slot page" {
			// A slot alone ranks every position, as the unfiltered page
			// does: the ranked accounts' positions only, not every account's.
			require.LessOrEqual(t, positions, 2.0*revenue.TopLimit, "%s: the ranked accounts' positions only\n%s", name, outlines)
		}
		require.Positive(t, vectors, name)
		require.LessOrEqual(t, vectors, 6.0, "%s: at most four vectors for the top and the movers\n%s", name, outlines)
		require.LessOrEqual(t, cumulative, 2.0*revenue.TopLimit, "%s: the ranked accounts' running totals only\n%s", name, outlines)
		require.LessOrEqual(t, slotRows, c.slotRows, "%s: the ranked accounts' days of the slot only\n%s", name, outlines)
	}
}

// A principal of a few accounts (a company's name, what staff look up)
// reads those accounts' days alone, each looked up by day and appid, for
// its chart, periods, top and movers, and no vector: the same dashboard as
// summing every account's rows and ranking from the vectors. One of more
// accounts, but at most a share of them (LookupShare), looks up its days
// the same way and ranks from the vectors.
func TestRevenueFewAccountsOfAPrincipalAreReadOneByOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &allQueries{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillVectorDays(t, pool, s, day(t, "2025-06-01"), day(t, "2026-03-10"), day(t, "2026-01-02"))
	_, err := pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)
	now := func() time.Time { return day(t, "2026-03-11").Add(10 * time.Hour) }
	many := &revenue.Service{Store: &postgres.RevenueStore{Pool: base, ComponentAppID: "wxcomp", FewAccounts: -1}, ComponentAppID: "wxcomp", Now: now}
	stores := []struct {
		name string
		s    *postgres.RevenueStore
	}{
		{"few", s},
		// Every selection of more than one account is ranked from the
		// vectors, and its days looked up (one in one: all of them).
		{"looked up", &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp", FewAccounts: 1, LookupShare: 1}},
	}
	filters := []revenue.Filter{{Principal: "花间"}, {Principal: "花间", Slot: wechat.SlotRewardVideo}, {Principal: "山川", State: "open"}, {Principal: "无此公司"}}
	// The default range (within the periods' span), one across a year's
	// end, and one before the periods' span.
	ranges := [][2]time.Time{{{}, {}}, {day(t, "2025-12-20"), day(t, "2026-03-05")}, {day(t, "2025-07-01"), day(t, "2025-07-31")}}
	var all float64
	require.NoError(t, base.QueryRow(ctx, `SELECT count(*) FROM revenue_account_pos`).Scan(&all))
	for _, st := range stores {
		svc := &revenue.Service{Store: st.s, ComponentAppID: "wxcomp", Now: now}
		for _, f := range filters {
			var selected float64
			require.NoError(t, base.QueryRow(ctx, `SELECT count(*) FROM authorizers a JOIN authorizer_state st USING (appid)
				WHERE strpos(a.principal_name, $1) > 0 AND ($2 = '' OR st.state = $2)`, f.Principal, f.State).Scan(&selected))
			require.Less(t, selected, all, "%+v selects some of the accounts", f)
			ranked := st.s.FewAccounts > 0 && selected > float64(st.s.FewAccounts)
			for _, r := range ranges {
				name := fmt.Sprintf("%s %+v %s – %s", st.name, f, r[0].Format(time.DateOnly), r[1].Format(time.DateOnly))
				want, err := many.DashboardFor(ctx, r[0], r[1], f)
				require.NoError(t, err)
				tracer.take()
				got, err := svc.DashboardFor(ctx, r[0], r[1], f)
				require.NoError(t, err)
				require.Equal(t, want, got, name)
				if f.Principal != "无此公司" {
					require.NotZero(t, got.Totals.Income, name)
				}
				// Days read: the periods' span (at most 62 days), the
				// range and, summed from the rows, the range before it
				// (the movers).
				days := float64(got.To.Sub(got.From).Hours()/24) + 1
				bound := selected * float64(len(wechat.Slots())) * (62 + 3*days)
				if ranked {
					bound = selected * float64(len(wechat.Slots())) * (62 + days)
				}
				sqls, args := tracer.take()
				var slotRows, vectors float64
				var outlines string
				for i, sql := range sqls {
					if sql = strings.TrimSpace(sql); !strings.HasPrefix(sql, "SELECT") {
						continue
					}
					plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args[i], sql)
					vectors += rowsReadOf(plan, "revenue_rank_vectors")
					read := rowsRead(plan, "revenue_slot_daily")
					slotRows += read
					if read > 0 && strings.Contains(sql, "GROUP BY day, slot") {
						// The chart's and the periods' rows are looked up
						// by the selected accounts' ids, not found by
						// scanning every account's.
						require.True(t, slices.ContainsFunc(args[i], func(a any) bool {
							ids, ok := a.([]string)
							return ok && float64(len(ids)) == selected
						}), "%s: the rows of the selected accounts' ids\n%s", name, sql)
					}
					outlines += sql + "\n" + outline(plan, 0) + "\n"
				}
				if ranked {
					require.Positive(t, vectors, "%s: ranked from the vectors", name)
				} else {
					require.Zero(t, vectors, "%s: summed from the rows", name)
				}
				require.LessOrEqual(t, slotRows, bound, "%s: the selected accounts' days only\n%s", name, outlines)
			}
		}
	}
}

// A principal of too many accounts to look up scans the days shown with a
// statement planned for its arguments every time, never one prepared and
// kept on the connection, whose generic plan, chosen after five runs, could
// not plan for the principal and the slot asked.
func TestRevenueBroadPrincipalScanIsPlannedForItsArguments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	pool := tracedPool(t, base.Config().ConnString(), &allQueries{}, 1)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp", FewAccounts: -1}
	fillVectorDays(t, pool, s, day(t, "2026-01-01"), day(t, "2026-03-10"), day(t, "2026-02-02"))
	from, to := day(t, "2026-01-20"), day(t, "2026-03-10")
	var first []revenue.SlotDay
	for i := range 7 {
		f := revenue.Filter{Principal: "花间"}
		if i%2 == 1 {
			f.Slot = wechat.SlotBanner
		}
		slots, err := s.FilteredSlotDays(ctx, f, from, to)
		require.NoError(t, err)
		require.NotEmpty(t, slots)
		if i == 0 {
			first = slots
		} else if i%2 == 0 {
			require.Equal(t, first, slots, "run %d", i)
		}
	}
	var kept []string
	rows, err := pool.Query(ctx, `SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%strpos(a.principal_name%' AND statement NOT LIKE '%pg_prepared_statements%'`)
	require.NoError(t, err)
	kept, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Empty(t, kept, "the scan is not a statement kept on the connection")
}

// A slot filter alone reads its chart and periods from the per-slot rollup;
// they are the sums of the slot's rows of every account, day by day.
func TestRevenueSlotFilterDaysEqualTheSlotsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillVectorDays(t, pool, s, day(t, "2025-12-01"), day(t, "2026-02-10"), day(t, "2026-01-20"))
	from, to := day(t, "2025-12-28"), day(t, "2026-02-03")
	for _, slot := range []string{wechat.SlotBanner, wechat.SlotRewardVideo} {
		rows, err := pool.Query(ctx, `
			SELECT day, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
			FROM revenue_slot_daily WHERE slot = $1 AND day BETWEEN $2 AND $3 GROUP BY day ORDER BY day`, slot, from, to)
		require.NoError(t, err)
		want, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.SlotDay, error) {
			d := revenue.SlotDay{Slot: slot}
			var inc int64
			err := r.Scan(&d.Day, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc)
			d.Income, d.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
			return d, err
		})
		require.NoError(t, err)
		require.NotEmpty(t, want)

		f := revenue.Filter{Slot: slot}
		slots, err := s.FilteredSlotDays(ctx, f, from, to)
		require.NoError(t, err)
		require.Len(t, slots, len(want), slot)
		for i, w := range want {
			date := w.Day.Format(time.DateOnly)
			require.Equal(t, date, slots[i].Day.Format(time.DateOnly), "%s: day %d", slot, i)
			require.Equal(t, w.Figures, slots[i].Figures, "%s: %s", slot, w.Day)
			require.Equal(t, slot, slots[i].Slot)
		}
	}
}

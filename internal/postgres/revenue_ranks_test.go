package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// fillRankDays stores 40 accounts' days over [from, to], with ties in
// income (so the appid tie-break counts) and some accounts silent for
// stretches (so movers include accounts with no current or previous days).
func fillRankDays(t *testing.T, s *postgres.RevenueStore, from, to, today string, scale int64) {
	t.Helper()
	ctx := context.Background()
	f, l := day(t, from), day(t, to)
	for a := 0; a < 40; a++ {
		var rows []revenue.SlotDay
		for d, i := f, 0; !d.After(l); d, i = d.AddDate(0, 0, 1), i+1 {
			if (a+i)%(a%7+2) == 0 {
				continue
			}
			inc := int64((a%5)*100 + (i*a)%13)
			if d.Equal(day(t, today).AddDate(0, 0, -1)) {
				inc *= scale
			}
			rows = append(rows, revenue.SlotDay{Day: d, Slot: wechat.SlotBanner,
				Figures: revenue.Figures{ReqSucc: int64(a + i), Exposure: int64(a * i), Clicks: int64(i % 3), Income: wechat.Fen(inc)}})
		}
		require.NoError(t, s.ReplaceAccountDays(ctx, fmt.Sprintf("wxr%02d", a), f, l, rows))
	}
}

// requireRanksMatchOnDemand checks that every fixed period's precomputed
// top accounts and movers equal the on-demand sums, to the fen.
func requireRanksMatchOnDemand(t *testing.T, s *postgres.RevenueStore, today string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range revenue.RankRanges(day(t, today)) {
		top, err := s.TopAccounts(ctx, r.From, r.To, revenue.TopLimit)
		require.NoError(t, err)
		want, err := s.TopAccountsOnDemand(ctx, r.From, r.To, revenue.TopLimit)
		require.NoError(t, err)
		require.NotEmpty(t, want)
		require.Equal(t, want, top, "top %v–%v", r.From, r.To)
		movers, err := s.Movers(ctx, r.From, r.To, r.PrevFrom, r.PrevTo, revenue.TopLimit)
		require.NoError(t, err)
		wantMovers, err := s.MoversOnDemand(ctx, r.From, r.To, r.PrevFrom, r.PrevTo, revenue.TopLimit)
		require.NoError(t, err)
		require.NotEmpty(t, wantMovers)
		require.Equal(t, wantMovers, movers, "movers %v–%v", r.From, r.To)
	}
}

// The dashboard's fixed periods are ranked when the rollup is rebuilt, and
// read back exactly as summing on demand gives them, also after yesterday
// is revised and pulled again; a custom range is summed on demand.
func TestRevenueRanksEqualOnDemand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	const today = "2026-03-12"
	from, to := day(t, "2026-01-01"), day(t, "2026-03-11")
	fillRankDays(t, s, "2026-01-01", "2026-03-11", today, 1)
	ranks := revenue.RankRanges(day(t, today))
	require.NoError(t, s.RebuildSlotRollup(ctx, from, to, ranks))
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM revenue_period_ranks`).Scan(&n))
	require.Equal(t, len(ranks)*2*revenue.TopLimit, n)
	requireRanksMatchOnDemand(t, s, today)

	// WeChat revises yesterday: the re-pull replaces it and reranks.
	before, err := s.TopAccounts(ctx, day(t, "2026-03-11"), day(t, "2026-03-11"), revenue.TopLimit)
	require.NoError(t, err)
	fillRankDays(t, s, "2026-03-11", "2026-03-11", today, 7)
	y := day(t, "2026-03-11")
	require.NoError(t, s.RebuildSlotRollup(ctx, y, y, ranks))
	requireRanksMatchOnDemand(t, s, today)
	after, err := s.TopAccounts(ctx, y, y, revenue.TopLimit)
	require.NoError(t, err)
	require.NotEqual(t, before, after)

	// A range that is not a fixed period is not precomputed.
	custom, err := s.TopAccounts(ctx, day(t, "2026-02-03"), day(t, "2026-02-20"), revenue.TopLimit)
	require.NoError(t, err)
	want, err := s.TopAccountsOnDemand(ctx, day(t, "2026-02-03"), day(t, "2026-02-20"), revenue.TopLimit)
	require.NoError(t, err)
	require.Equal(t, want, custom)
}

// The default dashboard's top accounts and movers read the precomputed
// rankings (at most 4 periods × 2 kinds × TopLimit rows, which the planner
// rightly reads whole while they fit a page, and by its primary key when
// told to avoid scans) and never touch revenue_account_daily.
func TestRevenueDefaultRanksReadByIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &lastQuery{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	const today = "2026-03-12"
	fillRankDays(t, s, "2026-01-01", "2026-03-11", today, 1)
	require.NoError(t, s.RebuildSlotRollup(ctx, day(t, "2026-01-01"), day(t, "2026-03-11"), revenue.RankRanges(day(t, today))))
	_, err := pool.Exec(ctx, `ANALYZE revenue_period_ranks; ANALYZE revenue_period_ranks_built`)
	require.NoError(t, err)

	last30 := revenue.RankRanges(day(t, today))[2]
	explain := func(call func()) string {
		call()
		tracer.mu.Lock()
		sql, args := tracer.sql, tracer.args
		tracer.mu.Unlock()
		plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args, "")
		return outline(plan, 0)
	}
	for name, call := range map[string]func(){
		"top": func() {
			_, err := s.TopAccounts(ctx, last30.From, last30.To, revenue.TopLimit)
			require.NoError(t, err)
		},
		"movers": func() {
			_, err := s.Movers(ctx, last30.From, last30.To, last30.PrevFrom, last30.PrevTo, revenue.TopLimit)
			require.NoError(t, err)
		},
	} {
		plan := explain(call)
		require.NotContains(t, plan, "revenue_account_daily", name+"\n"+plan)
		require.Contains(t, plan, "revenue_period_ranks", name+"\n"+plan)
		_, err := pool.Exec(ctx, "SET enable_seqscan = off")
		require.NoError(t, err)
		plan = explain(call)
		_, err = pool.Exec(ctx, "RESET enable_seqscan")
		require.NoError(t, err)
		require.NotContains(t, plan, "revenue_account_daily", name+"\n"+plan)
		require.True(t, strings.Contains(plan, "Index Scan revenue_period_ranks revenue_period_ranks_pkey") ||
			strings.Contains(plan, "Index Only Scan revenue_period_ranks revenue_period_ranks_pkey"), name+"\n"+plan)
	}
}

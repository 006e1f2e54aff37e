package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := revenue.ParseDay(s)
	require.NoError(t, err)
	return d
}

// Re-pulling a range replaces its figures (never doubles them), across a
// month boundary whose partitions are created on first write; the rollups
// the pages read follow.
func TestRevenueReplaceIsIdempotentAcrossMonthPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	from, to := day(t, "2026-01-31"), day(t, "2026-02-01")
	rows := func(scale int64) []revenue.SlotDay {
		return []revenue.SlotDay{
			{Day: from, Slot: wechat.SlotBanner, Figures: revenue.Figures{ReqSucc: 10 * scale, Exposure: 8 * scale, Clicks: scale, Income: wechat.Fen(123 * scale)}},
			{Day: to, Slot: wechat.SlotBanner, Figures: revenue.Figures{Exposure: 5 * scale, Income: wechat.Fen(7 * scale)}},
			{Day: to, Slot: wechat.SlotRewardVideo, Figures: revenue.Figures{Exposure: 2 * scale, Income: wechat.Fen(1001 * scale)}},
		}
	}
	require.NoError(t, s.MarkBlocked(ctx, "wxa", 2009, "not open"))
	for _, scale := range []int64{1, 2, 2} {
		require.NoError(t, s.ReplaceAccountDays(ctx, "wxa", from, to, rows(scale)))
	}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxb", from, to, rows(1)[:1]))
	require.NoError(t, s.RebuildSlotRollup(ctx, from, to, nil))

	var parts []string
	r, err := pool.Query(ctx, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'revenue_slot_daily'::regclass ORDER BY 1`)
	require.NoError(t, err)
	parts, err = pgx.CollectRows(r, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"revenue_slot_daily_202601", "revenue_slot_daily_202602"}, parts)

	slots, err := s.SlotDays(ctx, from, to)
	require.NoError(t, err)
	got := map[string]wechat.Fen{}
	for _, d := range slots {
		got[d.Day.Format(time.DateOnly)+" "+d.Slot] = d.Income
	}
	require.Equal(t, map[string]wechat.Fen{
		"2026-01-31 " + wechat.SlotBanner:      246 + 123,
		"2026-02-01 " + wechat.SlotBanner:      14,
		"2026-02-01 " + wechat.SlotRewardVideo: 2002,
	}, got)

	top, err := s.TopAccounts(ctx, from, to, 10)
	require.NoError(t, err)
	require.Len(t, top, 2)
	require.Equal(t, "wxa", top[0].AppID)
	require.Equal(t, wechat.Fen(246+14+2002), top[0].Income)
	require.Equal(t, int64(16+10+4), top[0].Exposure)
	require.Equal(t, wechat.Fen(123), top[1].Income)

	b, err := s.AccountBlocked(ctx, "wxa")
	require.NoError(t, err)
	require.Nil(t, b, "a successful pull clears the block")

	// An empty re-pull (WeChat now reports nothing) removes the days, in
	// the top as soon as the pull finishes (the running totals are carried
	// on then).
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxb", from, to, nil))
	require.NoError(t, s.RebuildSlotRollup(ctx, from, to, nil))
	top, err = s.TopAccounts(ctx, from, to, 10)
	require.NoError(t, err)
	require.Len(t, top, 1)
}

func TestRevenueProviderDaysAndPulls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	from, to := day(t, "2026-03-01"), day(t, "2026-03-03")
	pd := func(d string, inc wechat.Fen) revenue.ProviderDay {
		return revenue.ProviderDay{Day: day(t, d), Figures: revenue.Figures{Exposure: 100, Income: inc, AgencyIncome: inc / 4, PublisherIncome: inc - inc/4}}
	}
	require.NoError(t, s.ReplaceProviderDays(ctx, from, to, []revenue.ProviderDay{pd("2026-03-01", 400), pd("2026-03-02", 800)}))
	require.NoError(t, s.ReplaceProviderDays(ctx, from, to, []revenue.ProviderDay{pd("2026-03-02", 1000), pd("2026-03-03", 4)}))
	tot, err := s.ProviderTotals(ctx, from, to)
	require.NoError(t, err)
	require.Equal(t, revenue.Figures{Exposure: 200, Income: 1004, AgencyIncome: 251, PublisherIncome: 753}, tot)

	id, err := s.CreatePull(ctx, "backfill", from, to, nil, 0, nil)
	require.NoError(t, err)
	require.NoError(t, s.AdvancePull(ctx, id, day(t, "2026-03-03"), revenue.Result{Rows: 5}))
	p, err := s.Pull(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "running", p.State)
	require.Equal(t, 2, p.DaysDone())
	require.Equal(t, 3, p.DaysTotal())
	require.NoError(t, s.FinishPull(ctx, id, "done", ""))
	list, err := s.Pulls(ctx, 5)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, int64(5), list[0].Rows)
	require.Equal(t, 3, list[0].DaysDone())
}

// Pulls that overlap (the daily one and a backfill) replace the same days at
// the same time without a conflict, and the figures end as one pull's.
func TestRevenueConcurrentReplacesTakeTurns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &postgres.RevenueStore{Pool: pgtest.Pool(t), ComponentAppID: "wxcomp"}
	from, to := day(t, "2026-04-01"), day(t, "2026-04-03")
	rows := []revenue.SlotDay{
		{Day: from, Slot: wechat.SlotBanner, Figures: revenue.Figures{Exposure: 10, Income: 100}},
		{Day: to, Slot: wechat.SlotBox, Figures: revenue.Figures{Exposure: 5, Income: 7}},
	}
	pd := []revenue.ProviderDay{{Day: from, Figures: revenue.Figures{Exposure: 15, Income: 150, AgencyIncome: 43, PublisherIncome: 107}}}
	errs := make(chan error, 24)
	for range 8 {
		go func() { errs <- s.ReplaceAccountDays(ctx, "wxa", from, to, rows) }()
		go func() { errs <- s.RebuildSlotRollup(ctx, from, to, nil) }()
		go func() { errs <- s.ReplaceProviderDays(ctx, from, to, pd) }()
	}
	for range 24 {
		require.NoError(t, <-errs)
	}
	require.NoError(t, s.RebuildSlotRollup(ctx, from, to, nil))
	top, err := s.TopAccounts(ctx, from, to, 5)
	require.NoError(t, err)
	require.Len(t, top, 1)
	require.Equal(t, wechat.Fen(107), top[0].Income)
	slots, err := s.SlotDays(ctx, from, to)
	require.NoError(t, err)
	require.Len(t, slots, 2)
	tot, err := s.ProviderTotals(ctx, from, to)
	require.NoError(t, err)
	require.Equal(t, wechat.Fen(150), tot.Income)
}

// A pull's chunks cover every Mini Program once, and however its chunks'
// ends interleave (each ended twice at once, as a job and its rescued copy
// might), exactly one of them queues the pull's finish.
func TestRevenuePullChunksFinishOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomp');
		INSERT INTO authorizers (appid, component_appid, is_mini_program)
		SELECT 'wxacc' || lpad(g::text, 4, '0'), 'wxcomp', g % 10 <> 0 FROM generate_series(1, 25) g`)
	require.NoError(t, err)
	from, to := day(t, "2026-03-01"), day(t, "2026-03-02")
	for range 10 {
		var queued []int
		id, err := s.CreatePull(ctx, "backfill", from, to, nil, 4, func(_ context.Context, _ pgx.Tx, _ int64, chunks []int) error {
			queued = chunks
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, queued, "the provider's chunk, then 23 Mini Programs by 4")
		var accounts []string
		for _, n := range queued {
			c, err := s.StartChunk(ctx, id, n)
			require.NoError(t, err)
			require.Equal(t, n == 0, c.Provider)
			require.LessOrEqual(t, len(c.AppIDs), 4)
			accounts = append(accounts, c.AppIDs...)
		}
		require.Len(t, accounts, 23)
		require.IsIncreasing(t, accounts)

		var finishes atomic.Int32
		var wg sync.WaitGroup
		for _, n := range queued {
			for range 2 {
				wg.Go(func() {
					_, err := s.FinishChunk(ctx, id, n, "done", "", func(ctx context.Context, tx pgx.Tx, pullID int64) error {
						finishes.Add(1)
						var open int
						if err := tx.QueryRow(ctx, `SELECT count(*) FROM revenue_pull_chunks WHERE pull_id = $1 AND state NOT IN ('done', 'failed')`, pullID).Scan(&open); err != nil {
							return err
						}
						if open != 0 {
							return fmt.Errorf("finish queued with %d chunks still open", open)
						}
						return nil
					})
					require.NoError(t, err)
				})
			}
		}
		wg.Wait()
		require.Equal(t, int32(1), finishes.Load())
		p, err := s.Pull(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 23, p.AccountsTotal)
	}
}

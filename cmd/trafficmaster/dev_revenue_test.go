package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// The demo's accounts get 90 days of history, pulled at start through the
// real queue, and the dashboard shows it: the last 30 days' income as the
// simulator computes it, and the demo accounts refused with 2009 marked.
func TestDevShowsNinetyDaysOfRevenue(t *testing.T) {
	t.Parallel()
	// The clock stands at 13:00 in China today, when yesterday's figures are
	// final (on a running clock they grow every hour until noon), for the
	// console and WeChat alike.
	now := revenue.Day(time.Now()).Add(13 * time.Hour)
	clock := func() time.Time { return now }
	e := webtest.New(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": devRevenueRate},
		SimConfig: func(c *wechatsim.Config) { c.Now = clock }, Now: clock})
	ctx := context.Background()
	demo := wechatsim.DemoAuthorizers()
	e.Sim.AddDemoAccounts(demo)
	opened := markDemoOpened(e.Sim, demo, now)
	require.GreaterOrEqual(t, len(opened), 10)
	require.NoError(t, e.Sim.PushTicket(ctx))
	_, err := e.App.Platform.Sync(ctx)
	require.NoError(t, err)
	jctx, cancel := context.WithCancel(ctx)
	require.NoError(t, e.App.Jobs.Start(jctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})

	id, err := startDevRevenue(ctx, e.App, now)
	require.NoError(t, err)
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	var p revenue.Pull
	for p.State != "done" && p.State != "failed" {
		select {
		case <-wctx.Done():
			t.Fatalf("demo backfill still %s: %d of %d days", p.State, p.DaysDone(), p.DaysTotal())
		case <-time.After(50 * time.Millisecond):
		}
		p, err = e.App.RevenueStore.Pull(ctx, id)
		require.NoError(t, err)
	}
	require.Equal(t, "done", p.State, p.LastError)
	require.Equal(t, devRevenueDays, p.DaysTotal())

	last30 := revenue.Periods(revenue.Day(now))[2]
	want := e.Sim.ProviderTotals(last30.From.Format(time.DateOnly), last30.To.Format(time.DateOnly), "")
	require.Positive(t, want.Income)
	c, _ := e.Login(core.RoleViewer)
	r := c.Get("/revenue")
	require.Equal(t, wechat.Fen(want.Income).Yuan(), r.Text(`[data-period=last30] [data-income]`))
	require.Equal(t, wechat.Fen(want.Income).Yuan(), r.Text(`[data-total=income]`))
	require.Equal(t, 10, r.Doc.Find(`#top-apps tbody tr`).Length())

	for _, a := range demo {
		if a.MiniProgram && a.Create != nil && a.Create.Ret == 2009 {
			b, err := e.App.RevenueStore.AccountBlocked(ctx, a.AppID)
			require.NoError(t, err)
			require.NotNil(t, b, a.NickName)
		}
	}
}

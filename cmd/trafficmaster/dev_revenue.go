package main

import (
	"context"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/app"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// devRevenueDays is how much ad data history the demo shows.
const devRevenueDays = 90

// devRevenueRate is the demo's WeChat call rate unless RATE_PER_SECOND is
// set: the simulator is local, and 90 days of ad data should arrive within
// seconds of starting.
const devRevenueRate = "50"

// markDemoOpened opens, in the simulator, the traffic master of the demo
// Mini Programs whose opening outcome is fixed by their script (so the
// opening demo is unchanged), as if opened devRevenueDays ago: they have ad
// data and settlement to show. Accounts that demonstrate 1735/1807/2009 stay
// closed, so their data calls are refused as WeChat refuses them.
func markDemoOpened(sim *wechatsim.Sim, accounts []wechatsim.DemoAccount, now time.Time) []string {
	var opened []string
	for _, a := range accounts {
		c := a.Create
		if !a.MiniProgram || c == nil || c.Times > 0 || c.Delay > 0 || revenue.BlockingCodes[c.Ret] || c.Ret == 2013 {
			continue
		}
		sim.MarkOpened(a.AppID, now.AddDate(0, 0, -devRevenueDays))
		opened = append(opened, a.AppID)
	}
	return opened
}

// startDevRevenue backfills the demo's ad data history through the real
// pull (queue, rate limiter, WeChat client); re-running it replaces, never doubles.
func startDevRevenue(ctx context.Context, a *app.App, now time.Time) (int64, error) {
	y := revenue.Day(now).AddDate(0, 0, -1)
	return a.Jobs.StartRevenuePull(ctx, "backfill", y.AddDate(0, 0, 1-devRevenueDays), y, nil)
}

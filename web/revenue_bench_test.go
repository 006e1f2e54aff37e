package web_test

import (
	"context"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// Without BenchEnvURL (a database filled by `trafficmaster gen-revenue`) the
// revenue benchmark generates this much ad data in its test database.
const (
	benchRevenueAccounts = 2_000
	benchRevenueDays     = 90
)

// BenchmarkRevenueDashboard measures the revenue dashboard through the
// whole stack (HTTP, session, queries, render) beside, in the same run, the
// session queries every signed-in page makes and the dashboard's store
// queries run bare (revenue.Service.Dashboard), for the default range (the
// last 30 days), yesterday alone, 300 days, a year and nine months from
// mid-month to mid-month. For the custom ranges it also times their top
// accounts and movers alone, three ways on the same data: summed from every
// day (ondemand, the way before the monthly rollup), from the whole months
// and the days at either end (monthly, the way before the running totals
// per day) and from every account's running totals at the ranges' ends
// (cumulative, what the page does). Besides the mean it reports the p50 and
// p99 of the iterations, in milliseconds.
func BenchmarkRevenueDashboard(b *testing.B) {
	var e *trafficEnv
	if u := os.Getenv(BenchEnvURL); u != "" {
		// A year of 100,000 accounts' days takes its top and movers longer
		// than the default statement timeout (10 s): the figures measure
		// the queries, so the timeout is raised (REVENUE_BENCH_TIMEOUT).
		timeout := os.Getenv("REVENUE_BENCH_TIMEOUT")
		if timeout == "" {
			timeout = "10s"
		}
		e = newTrafficEnv(b, webtest.Options{Env: map[string]string{"DATABASE_URL": u, "STATEMENT_TIMEOUT": timeout}})
	} else {
		e = newTrafficEnv(b)
		start := time.Now()
		if err := postgres.Generate(context.Background(), e.App.Pool, benchRevenueAccounts, 0, io.Discard); err != nil {
			b.Fatal(err)
		}
		if err := postgres.GenerateRevenue(context.Background(), e.App.Pool, benchRevenueAccounts, benchRevenueDays, 1, io.Discard); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d days of ad data for %d accounts in %s", benchRevenueDays, benchRevenueAccounts, time.Since(start).Round(time.Millisecond))
	}
	c, _ := benchLogin(e)
	ctx := context.Background()
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	year, d300 := y.AddDate(0, 0, 1-365), y.AddDate(0, 0, 1-300)
	// Mid-month to mid-month, ten months back: each end is a half month of
	// days, the most a partial month reads.
	midTo := time.Date(y.Year(), y.Month(), 15, 0, 0, 0, 0, revenue.China).AddDate(0, -1, 0)
	midFrom := midTo.AddDate(0, -9, 1)
	ranges := []struct {
		name     string
		query    string
		from, to time.Time
	}{
		{"last30", "", time.Time{}, time.Time{}},
		{"yesterday", "?from=" + y.Format(time.DateOnly) + "&to=" + y.Format(time.DateOnly), y, y},
		{"custom300", "?from=" + d300.Format(time.DateOnly) + "&to=" + y.Format(time.DateOnly), d300, y},
		{"year", "?from=" + year.Format(time.DateOnly) + "&to=" + y.Format(time.DateOnly), year, y},
		{"midmonth", "?from=" + midFrom.Format(time.DateOnly) + "&to=" + midTo.Format(time.DateOnly), midFrom, midTo},
	}
	store := &postgres.RevenueStore{Pool: e.App.Pool}
	for _, r := range ranges {
		if !r.from.IsZero() && r.from.Before(y) {
			prevFrom, prevTo := revenue.PreviousRange(r.from, r.to)
			for _, way := range []struct {
				name   string
				top    func(context.Context, time.Time, time.Time, int) ([]revenue.AccountFigures, error)
				movers func(context.Context, time.Time, time.Time, time.Time, time.Time, int) ([]revenue.Mover, error)
			}{
				{"ondemand", store.TopAccountsOnDemand, store.MoversOnDemand},
				{"monthly", store.TopAccountsMonthly, store.MoversMonthly},
				{"cumulative", store.TopAccountsCumulative, store.MoversCumulative},
			} {
				b.Run(r.name+"/top-movers-"+way.name, func(b *testing.B) {
					timed(b, func() {
						if _, err := way.top(ctx, r.from, r.to, revenue.TopLimit); err != nil {
							b.Fatal(err)
						}
						if _, err := way.movers(ctx, r.from, r.to, prevFrom, prevTo, revenue.TopLimit); err != nil {
							b.Fatal(err)
						}
					})
				})
			}
		}
		b.Run(r.name+"/page", func(b *testing.B) {
			timed(b, func() { getDiscard(b, e, c, "/revenue"+r.query) })
		})
		b.Run(r.name+"/bare", func(b *testing.B) {
			timed(b, func() {
				if err := sessionQueries(e, c); err != nil {
					b.Fatal(err)
				}
				if _, err := e.App.Revenue.Dashboard(ctx, r.from, r.to); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// timed runs fn b.N times and reports the p50 and p99 of its durations.
func timed(b *testing.B, fn func()) {
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		fn()
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	ms := func(q float64) float64 { return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))]) / 1e6 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

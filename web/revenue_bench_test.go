package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
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
		e = newTrafficEnv(b, webtest.Options{Env: map[string]string{"DATABASE_URL": u, "STATEMENT_TIMEOUT": timeout,
			"WECHAT_COMPONENT_APPID": postgres.GenComponentAppID}})
	} else {
		// The console is the generated platform's, whose accounts the
		// principal and state filters select from.
		e = newTrafficEnv(b, webtest.Options{Env: map[string]string{"WECHAT_COMPONENT_APPID": postgres.GenComponentAppID}})
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
	// The store's calls go through one connection without parallel
	// workers, so its backend's CPU time (/proc/<pid>/stat, when the
	// database runs on this machine) is all the database spends on them.
	cfg := e.App.Pool.Config().Copy()
	cfg.MaxConns, cfg.MinConns = 1, 1
	cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer one.Close()
	var backend int
	if err := one.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		b.Fatal(err)
	}
	store := &postgres.RevenueStore{Pool: one, ComponentAppID: postgres.GenComponentAppID}
	const benchPrincipal = "深圳鲜果科技有限公司 996"
	filters := []struct {
		name  string
		f     revenue.Filter
		query string
	}{
		{"principal-all", revenue.Filter{Principal: "科技"}, "&principal=%E7%A7%91%E6%8A%80"},
		{"principal-sixth", revenue.Filter{Principal: "深圳"}, "&principal=%E6%B7%B1%E5%9C%B3"},
		// About one account in nine (公司 5: …公司 5, 50–59, 500–599),
		// one in 36 (a city's brand) and one in 320 (a brand's companies
		// numbered 1, 10–19, 100–199): groups whose sums are kept
		// (gen-revenue chooses them as the revenue_principals schedule
		// does). Without them, the first's days are scanned and the
		// others' looked up (postgres.defaultLookupShare, 24).
		{"principal-ninth", revenue.Filter{Principal: "公司 5"}, "&principal=" + url.QueryEscape("公司 5")},
		{"principal-brand", revenue.Filter{Principal: "深圳鲜果"}, "&principal=" + url.QueryEscape("深圳鲜果")},
		{"principal-group", revenue.Filter{Principal: "深圳鲜果科技有限公司 1"}, "&principal=" + url.QueryEscape("深圳鲜果科技有限公司 1")},
		// One company's name, whole: what staff look up (gen gives it about
		// one account in 36,000).
		{"principal-one", revenue.Filter{Principal: benchPrincipal}, "&principal=" + url.QueryEscape(benchPrincipal)},
		// A principal and a state together.
		{"principal-sixth-never", revenue.Filter{Principal: "深圳", State: "never"}, "&principal=%E6%B7%B1%E5%9C%B3&state=never"},
		{"state", revenue.Filter{State: "never"}, "&state=never"},
		{"state-open", revenue.Filter{State: "open"}, "&state=open"},
		{"state-open-slot", revenue.Filter{State: "open", Slot: wechat.SlotBanner}, "&state=open&slot=" + wechat.SlotBanner},
		{"slot", revenue.Filter{Slot: wechat.SlotBanner}, "&slot=" + wechat.SlotBanner},
	}
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
				{"vectors", store.TopAccountsVectors, store.MoversVectors},
			} {
				b.Run(r.name+"/top-movers-"+way.name, func(b *testing.B) {
					timedCPU(b, backend, func() {
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
		if r.name == "custom300" {
			prevFrom, prevTo := revenue.PreviousRange(r.from, r.to)
			for _, f := range filters {
				for _, way := range []struct {
					name  string
					ranks func() error
				}{
					{"before", func() error {
						if _, err := store.FilteredTopCumulative(ctx, f.f, r.from, r.to, revenue.TopLimit); err != nil {
							return err
						}
						_, err := store.FilteredMoversCumulative(ctx, f.f, r.from, r.to, prevFrom, prevTo, revenue.TopLimit)
						return err
					}},
					{"vectors", func() error {
						_, _, err := store.FilteredRanksVectors(ctx, f.f, r.from, r.to, prevFrom, prevTo, revenue.TopLimit)
						return err
					}},
				} {
					b.Run(r.name+"/filter-"+f.name+"-"+way.name, func(b *testing.B) {
						timedCPU(b, backend, func() {
							if err := way.ranks(); err != nil {
								b.Fatal(err)
							}
						})
					})
				}
			}
		}
		// The whole page narrowed by each filter, and its bare queries, for
		// the default range and a custom one.
		if r.name == "last30" || r.name == "custom300" {
			for _, f := range filters {
				query := r.query + f.query
				if r.query == "" {
					query = "?" + f.query[1:]
				}
				b.Run(r.name+"/filter-"+f.name+"-page", func(b *testing.B) {
					// A filter that selected nothing would time an empty page.
					if d, err := e.App.Revenue.DashboardFor(ctx, r.from, r.to, f.f); err != nil || d.Totals.Income <= 0 || len(d.Top) == 0 {
						b.Fatalf("%s: the filter selects no income (%v)", f.name, err)
					}
					timed(b, func() { getDiscard(b, e, c, "/revenue"+query) })
				})
				b.Run(r.name+"/filter-"+f.name+"-bare", func(b *testing.B) {
					timed(b, func() {
						if err := sessionQueries(e, c); err != nil {
							b.Fatal(err)
						}
						if _, err := e.App.Revenue.DashboardFor(ctx, r.from, r.to, f.f); err != nil {
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
	// finish times carrying the running-total vectors over the daily pull's
	// days (yesterday and the day before, revised) as its finish does, alone
	// and with the rest of the finish (RebuildSlotRollup with the fixed
	// periods' rankings): the same figures again, so the data stays as it was.
	b.Run("finish/vectors-2days", func(b *testing.B) {
		timedCPU(b, backend, func() {
			if err := store.RebuildRankVectors(ctx, y.AddDate(0, 0, -1), y); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("finish/all-2days", func(b *testing.B) {
		timedCPU(b, backend, func() {
			if err := store.RebuildSlotRollup(ctx, y.AddDate(0, 0, -1), y, revenue.RankRanges(y.AddDate(0, 0, 1))); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// backendCPU is the CPU time (user and system) the database backend pid
// has used, from /proc (zero when it is not on this machine).
func backendCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
}

// timedCPU is timed, also reporting the CPU time per iteration of the
// database backend pid (db-cpu-ms, 10 ms ticks) and of this process
// (go-cpu-ms: the ranking in Go, decoding, and whatever else runs).
func timedCPU(b *testing.B, pid int, fn func()) {
	db, proc := backendCPU(pid), processCPU() // processCPU: pagecost_bench_test.go
	timed(b, fn)
	n := float64(max(b.N, 1))
	b.ReportMetric(float64(backendCPU(pid)-db)/1e6/n, "db-cpu-ms")
	b.ReportMetric(float64(processCPU()-proc)/1e6/n, "go-cpu-ms")
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

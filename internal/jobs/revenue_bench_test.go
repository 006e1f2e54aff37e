package jobs_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// BenchmarkRevenuePull measures a day's pull of REV_N accounts (2000)
// against the zero-delay simulator over loopback, at REV_RATE calls/s
// (200), with REV_CONC chunks at once in each of REV_WORKERS worker
// processes (8, 1), chunks of RevenueChunkAccounts: the whole pipeline of
// queue, Postgres rate slots, WeChat client, store and rollup. The ideal
// time is the calls made over the configured rate; the figures are the
// span of the calls at the simulator and the whole pull (recorded to done)
// as ratios to it. Authorizer tokens are fetched before the clock starts,
// as the platform's token manager holds them ahead of expiry.
func BenchmarkRevenuePull(b *testing.B) {
	n, rate := envInt("REV_N", 2000), envInt("REV_RATE", 200)
	conc, workers := envInt("REV_CONC", 8), envInt("REV_WORKERS", 1)
	for range b.N {
		b.StopTimer()
		e := setup(b, n)
		for _, id := range e.apps {
			e.sim.MarkOpened(id, time.Now().AddDate(0, 0, -60))
		}
		day := time.Now().AddDate(0, 0, -2) // final figures (yesterday's are revised until noon)
		// The simulator sums the provider-wide replies over every account
		// under its one lock, once per range (ams_kept.go): at 100,000
		// accounts on a loaded machine that first sum can outlast the
		// client's default 15 s.
		e.wc = wechat.NewClient(wechat.Config{BaseURL: e.simURL, ComponentAppID: componentAppID, ComponentAppSecret: "secret",
			HTTPClient: &http.Client{Timeout: 2 * time.Minute}})
		e.revTokens = warmTokens(b, e)
		var cs []*jobs.Client
		var pullStore *postgres.RevenueStore
		for w := range workers {
			c, s := e.revenueWorker("bench-"+string(rune('a'+w)), float64(rate), 0, conc, nil)
			cs = append(cs, c)
			pullStore = s
		}
		b.StartTimer()
		start := time.Now()
		id, err := cs[0].StartRevenuePull(context.Background(), "daily", revenue.Day(day), revenue.Day(day), nil)
		require.NoError(b, err)
		for _, c := range cs {
			e.start(c)
		}
		p := waitPull(b, pullStore, id, 90*time.Minute)
		whole := time.Since(start)
		b.StopTimer()
		require.Equal(b, "done", p.State, p.LastError)
		require.Equal(b, n, p.AccountsDone)

		var calls []wechatsim.Call
		for _, c := range e.sim.CallLog() {
			if strings.Contains(c.Action, "adpos") || strings.Contains(c.Action, "settle") || strings.Contains(c.Action, "agency_ads") {
				calls = append(calls, c)
			}
		}
		ideal := time.Duration(float64(len(calls)) / float64(rate) * float64(time.Second))
		span := calls[len(calls)-1].At.Sub(calls[0].At)
		b.ReportMetric(float64(len(calls))/float64(n), "calls/account")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(span.Seconds(), "calls-span-s")
		b.ReportMetric(whole.Seconds(), "pull-s")
		b.ReportMetric(span.Seconds()/ideal.Seconds(), "span/ideal")
		b.ReportMetric(whole.Seconds()/ideal.Seconds(), "pull/ideal")
		b.ReportMetric(float64(len(calls)-1)/span.Seconds(), "calls/s")
		if os.Getenv("REV_VERBOSE") != "" {
			b.Logf("%d accounts, %d calls, rows %d, ideal %s, calls %s, pull %s", n, len(calls), p.Rows, ideal, span, whole)
		}
	}
}

// warmTokens fetches every account's authorizer token, 16 at a time.
func warmTokens(b *testing.B, e *env) *wechatsim.Tokens {
	ctx := context.Background()
	t := &wechatsim.Tokens{Sim: e.sim, Client: e.wc}
	var comp string
	require.NoError(b, t.WithComponentToken(ctx, func(tok string) error { comp = tok; return nil }))
	ids := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for id := range ids {
				au, _ := e.sim.Authorizer(id)
				at, err := e.wc.AuthorizerToken(ctx, comp, id, au.RefreshToken)
				require.NoError(b, err)
				t.Use(id, at.AccessToken)
			}
		})
	}
	for _, id := range e.apps {
		ids <- id
	}
	close(ids)
	wg.Wait()
	return t
}

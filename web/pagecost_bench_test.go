package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

const (
	pageCostAccounts = 3_000
	pageCostAttempts = 30_000
)

// BenchmarkPageCost measures what the console itself adds to a list or
// audit page beyond its store queries. Each iteration makes the page's
// request over loopback HTTP ("page"), the same request straight into the
// server's handler with no socket ("serve"), and the page's queries called
// directly as `trafficmaster load` runs them bare (the session row with
// its staff member, the page's own queries), in turn, so the machine's load
// weighs on all three alike. It reports each one's ns/op, the CPU time of
// this process (the console and the test's client, not Postgres) and
// allocs/op (heap objects of the whole process, the test's client included
// for "page"), page/bare, the ratio the load figures give, and
// serve-cpu/bare-cpu, the console's own CPU beside that of calling the store
// (on a loaded machine the elapsed times mostly measure waiting for a core).
func BenchmarkPageCost(b *testing.B) {
	e := newTrafficEnv(b)
	ctx := context.Background()
	if err := postgres.Generate(ctx, e.App.Pool, pageCostAccounts, pageCostAttempts, io.Discard); err != nil {
		b.Fatal(err)
	}
	c, staff := benchLogin(e)
	tokenHash, err := postgres.LatestSession(ctx, e.App.Pool, staff.Username)
	if err != nil {
		b.Fatal(err)
	}
	st := e.App.Attempts
	appid := postgres.GenAppID(pageCostAccounts / 3)
	list := func(f postgres.AccountFilter) func() error {
		f.Limit = 50
		return func() error { _, err := st.ListAccounts(ctx, f); return err }
	}
	audit := func(f postgres.AttemptFilter) func() error {
		f.Limit = 50
		return func() error { return auditBare(ctx, st, f) }
	}
	pages := []struct {
		name, path string
		bare       func() error
	}{
		{"list", "/", list(postgres.AccountFilter{})},
		{"list-status", "/?status=abnormal", list(postgres.AccountFilter{Status: "abnormal"})},
		{"list-state", "/?state=retry_later&sort=recent", list(postgres.AccountFilter{State: "retry_later", Sort: "recent"})},
		{"list-appid", "/?sort=appid", list(postgres.AccountFilter{Sort: "appid"})},
		{"audit", "/audit", audit(postgres.AttemptFilter{})},
		{"audit-account", "/audit?appid=" + appid + "&action=check", audit(postgres.AttemptFilter{AppID: appid, Action: traffic.ActionCheck})},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var page, serve, bare cost
			for b.Loop() {
				page.measure(func() { getDiscard(b, e, c, p.path) })
				serve.measure(func() { serveDiscard(b, e, c, p.path) })
				bare.measure(func() {
					if _, err := postgres.ReadSession(ctx, e.App.Pool, tokenHash); err != nil {
						b.Fatal(err)
					}
					if err := p.bare(); err != nil {
						b.Fatal(err)
					}
				})
			}
			n := float64(b.N)
			b.ReportMetric(float64(page.ns)/n, "page-ns/op")
			b.ReportMetric(float64(serve.ns)/n, "serve-ns/op")
			b.ReportMetric(float64(bare.ns)/n, "bare-ns/op")
			b.ReportMetric(float64(page.cpu)/n, "page-cpu-ns/op")
			b.ReportMetric(float64(serve.cpu)/n, "serve-cpu-ns/op")
			b.ReportMetric(float64(bare.cpu)/n, "bare-cpu-ns/op")
			b.ReportMetric(float64(page.allocs)/n, "page-allocs/op")
			b.ReportMetric(float64(serve.allocs)/n, "serve-allocs/op")
			b.ReportMetric(float64(bare.allocs)/n, "bare-allocs/op")
			b.ReportMetric(float64(page.ns)/float64(bare.ns), "page/bare")
			b.ReportMetric(float64(serve.ns)/float64(bare.ns), "serve/bare")
			b.ReportMetric(float64(serve.cpu)/float64(bare.cpu), "serve-cpu/bare-cpu")
		})
	}
}

// cost sums the time, this process's CPU time and the heap allocations of
// the calls it measures. The CPU time leaves out Postgres (another process)
// and the time spent waiting for a core on a loaded machine, which the
// elapsed time does not.
type cost struct{ ns, cpu, allocs uint64 }

func processCPU() uint64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return uint64(ru.Utime.Nano() + ru.Stime.Nano())
}

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}

func heapObjects() uint64 {
	metrics.Read(allocSample)
	return allocSample[0].Value.Uint64()
}

func (c *cost) measure(f func()) {
	a, cpu := heapObjects(), processCPU()
	start := time.Now()
	f()
	c.ns += uint64(time.Since(start))
	c.cpu += processCPU() - cpu
	c.allocs += heapObjects() - a
}

// serveDiscard sends the client's request for path straight to the server's
// handler, without HTTP or a socket, and discards the page.
func serveDiscard(b *testing.B, e *trafficEnv, c *webtest.Client, path string) {
	req := httptest.NewRequest(http.MethodGet, e.URL+path, nil)
	for _, ck := range c.HTTP.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	w := &discardWriter{h: http.Header{}}
	e.Server.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		b.Fatalf("%s: %d", path, w.status)
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}

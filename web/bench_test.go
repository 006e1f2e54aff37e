package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// BenchEnvURL names a database filled by `trafficmaster gen` (100,000
// accounts, 10,000,000 attempts). Without it the benchmarks generate a
// smaller one (benchAccounts, benchAttempts) so `go test -bench` runs alone.
const BenchEnvURL = "TRAFFICMASTER_BENCH_DATABASE_URL"

const (
	benchAccounts = 10_000
	benchAttempts = 200_000
)

func benchEnv(b *testing.B) (*trafficEnv, int) {
	b.Helper()
	var e *trafficEnv
	accounts := benchAccounts
	if u := os.Getenv(BenchEnvURL); u != "" {
		e = newTrafficEnv(b, webtest.Options{Env: map[string]string{"DATABASE_URL": u}})
		if err := e.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM authorizers WHERE component_appid = $1", postgres.GenComponentAppID).Scan(&accounts); err != nil {
			b.Fatal(err)
		}
	} else {
		e = newTrafficEnv(b)
		start := time.Now()
		if err := postgres.Generate(context.Background(), e.App.Pool, benchAccounts, benchAttempts, io.Discard); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d accounts and %d attempts in %s", benchAccounts, benchAttempts, time.Since(start).Round(time.Millisecond))
	}
	return e, accounts
}

// BenchmarkConsolePages measures each page through the whole stack (HTTP,
// session, CSRF, query, render) beside the same store queries run bare.
func BenchmarkConsolePages(b *testing.B) {
	e, accounts := benchEnv(b)
	c, _ := benchLogin(e)
	ctx := context.Background()
	st := e.App.Attempts
	// A deep page: the cursor of the account in the middle of the name order.
	var mid string
	if err := e.App.Pool.QueryRow(ctx, "SELECT nick_name FROM authorizer_state ORDER BY nick_name, appid OFFSET $1 LIMIT 1", accounts/2).Scan(&mid); err != nil {
		b.Fatal(err)
	}
	deepCursor := cursorAt(b, e, mid)
	var maxID int64
	if err := e.App.Pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM attempts").Scan(&maxID); err != nil {
		b.Fatal(err)
	}
	deepBefore := maxID / 2
	code := 1735
	from := time.Now().Add(-60 * 24 * time.Hour)
	to := from.Add(24 * time.Hour)
	searchApp := postgres.GenAppID(accounts / 3)

	pages := []struct {
		name string
		path string
		bare func() error
	}{
		{"apps/first", "/", func() error { _, err := st.ListAccounts(ctx, postgres.AccountFilter{Limit: 50}); return err }},
		{"apps/deep", "/?after=" + deepCursor, func() error {
			_, err := st.ListAccounts(ctx, postgres.AccountFilter{Limit: 50, After: deepCursor})
			return err
		}},
		{"apps/deep-back", "/?before=" + deepCursor, func() error {
			_, err := st.ListAccounts(ctx, postgres.AccountFilter{Limit: 50, Before: deepCursor})
			return err
		}},
		{"apps/search", "/?q=%E8%8A%B1%E9%97%B4&status=normal", func() error {
			_, err := st.ListAccounts(ctx, postgres.AccountFilter{Q: "花间", Status: "normal", Limit: 50})
			return err
		}},
		{"apps/search-broad", "/?q=%E8%8A%B1", func() error {
			_, err := st.ListAccounts(ctx, postgres.AccountFilter{Q: "花", Limit: 50})
			return err
		}},
		{"apps/state", "/?state=needs_merchant&sort=recent", func() error {
			_, err := st.ListAccounts(ctx, postgres.AccountFilter{State: "needs_merchant", Sort: "recent", Limit: 50})
			return err
		}},
		{"audit/first", "/audit", func() error { return auditBare(ctx, st, postgres.AttemptFilter{Limit: 50}) }},
		{"audit/deep", "/audit?before=" + strconv.FormatInt(deepBefore, 10), func() error {
			return auditBare(ctx, st, postgres.AttemptFilter{Limit: 50, Before: deepBefore})
		}},
		{"audit/filtered", "/audit?appid=" + searchApp + "&outcome=needs_merchant", func() error {
			return auditBare(ctx, st, postgres.AttemptFilter{Limit: 50, AppID: searchApp, Outcome: traffic.OutcomeNeedsMerchant})
		}},
		{"audit/group", "/audit?group=platform", func() error {
			return auditBare(ctx, st, postgres.AttemptFilter{Limit: 50, Group: traffic.GroupPlatform})
		}},
		{"audit/group-deep", "/audit?group=unknown&before=" + strconv.FormatInt(deepBefore, 10), func() error {
			return auditBare(ctx, st, postgres.AttemptFilter{Limit: 50, Group: traffic.GroupUnknown, Before: deepBefore})
		}},
		{"audit/code-and-time", fmt.Sprintf("/audit?code=1735&from=%s&to=%s", from.In(e.Server.Loc).Format("2006-01-02T15:04"), to.In(e.Server.Loc).Format("2006-01-02T15:04")), func() error {
			f, t := from.Truncate(time.Minute), to.Truncate(time.Minute)
			return auditBare(ctx, st, postgres.AttemptFilter{Limit: 50, Code: &code, From: &f, To: &t})
		}},
	}
	for _, p := range pages {
		b.Run(p.name+"/page", func(b *testing.B) {
			for b.Loop() {
				getDiscard(b, e, c, p.path)
			}
		})
		b.Run(p.name+"/bare", func(b *testing.B) {
			for b.Loop() {
				if err := sessionQueries(e, c); err != nil {
					b.Fatal(err)
				}
				if err := p.bare(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchLogin signs in a new operator; the name is unique per run because a
// generated database is reused across runs.
func benchLogin(e *trafficEnv) (*webtest.Client, *core.Staff) {
	st := e.CreateStaff(fmt.Sprintf("bench-%d", time.Now().UnixNano()), core.RoleOperator)
	c := e.Client()
	c.LoginAs(st.Username, webtest.Password)
	return c, st
}

// getDiscard fetches a page as a browser would, without parsing it, so the
// figure is the server's work and not the test client's.
func getDiscard(b *testing.B, e *trafficEnv, c *webtest.Client, path string) {
	req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d", path, resp.StatusCode)
	}
}

// sessionQueries runs the query every signed-in page makes before its own:
// loading the session with its staff member (which refreshes its idle time).
func sessionQueries(e *trafficEnv, c *webtest.Client) error {
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/", nil)
	for _, ck := range c.HTTP.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	sess, err := e.Server.Sessions.Get(req, "tm_session")
	if err != nil {
		return err
	}
	if e.Server.Sessions.Staff(sess) == nil {
		return fmt.Errorf("no staff in the session")
	}
	return nil
}

// auditBare runs the audit page's two queries (entries and the staff list).
func auditBare(ctx context.Context, st *postgres.TrafficStore, f postgres.AttemptFilter) error {
	if _, _, err := st.ListAttempts(ctx, f); err != nil {
		return err
	}
	_, err := st.StaffNames(ctx)
	return err
}

// cursorAt returns the list cursor (name order) just after the named account.
func cursorAt(b *testing.B, e *trafficEnv, nick string) string {
	p, err := e.App.Attempts.ListAccounts(context.Background(), postgres.AccountFilter{Q: nick, Limit: 1})
	if err != nil || len(p.Accounts) == 0 {
		b.Fatal("cursor", err)
	}
	return postgres.AccountCursor(p.Accounts[0])
}

// BenchmarkOpenAttempt measures the open click end to end against the
// simulator with no delay, the service alone, the bare upstream call, and a
// plain insert-then-update loop, all in the same run.
func BenchmarkOpenAttempt(b *testing.B) {
	e, _ := benchEnv(b)
	c, st := benchLogin(e)
	ctx := context.Background()
	// Unique per run: a generated database is reused across runs.
	app := e.addAccount(b, account{Name: "bench-open", AppID: fmt.Sprintf("wx%016x", uint64(time.Now().UnixNano()))})
	tok, err := e.tokens.AuthorizerAccessToken(ctx, app)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("click", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/apps/"+app+"/open", strings.NewReader("confirmed=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("HX-Request", "true")
			req.Header.Set("X-CSRF-Token", c.CSRF())
			resp, err := c.HTTP.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `class="result ok"`) {
				b.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "attempts/s")
	})
	b.Run("service", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := e.App.Traffic.Attempt(ctx, traffic.AttemptRequest{AppID: app, Action: traffic.ActionOpen, Staff: st}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("upstream", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.App.WeChat.CreatePublisher(ctx, tok); err != nil && !isAlreadyOpen(err) {
				b.Fatal(err)
			}
		}
	})
	b.Run("insert-update", func(b *testing.B) {
		for b.Loop() {
			var id int64
			if err := e.App.Pool.QueryRow(ctx, "INSERT INTO attempts (appid, action, status) VALUES ($1, 'open', 'pending') RETURNING id", app).Scan(&id); err != nil {
				b.Fatal(err)
			}
			if _, err := e.App.Pool.Exec(ctx, "UPDATE attempts SET status = 'completed', outcome = 'success', finished_at = now() WHERE id = $1 AND status = 'pending'", id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func isAlreadyOpen(err error) bool {
	code, ok := wechat.CodeOf(err)
	return ok && code == 2021
}

// BenchmarkAuditCSV streams the export of one outcome (a million rows at the
// generated scale: one attempt in ten) and reports the peak heap of the whole
// process (server and client) while it runs, to show the export is streamed.
func BenchmarkAuditCSV(b *testing.B) {
	e, _ := benchEnv(b)
	c, _ := benchLogin(e)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	rows := 0
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/audit.csv?outcome=success", nil)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(resp.Body)
		r.ReuseRecord = true
		rows = 0
		for {
			if _, err := r.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		resp.Body.Close()
	}
	close(done)
	b.ReportMetric(float64(rows-1), "rows")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(base.HeapInuse)/(1<<20), "heap-before-MiB")
}

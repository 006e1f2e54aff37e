package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func TestRequestIDsAreCheckedAndStoredFieldsCapped(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c := e.Client()
	lastEvent := func() core.SecurityEvent {
		ev, err := e.App.Staff.ListSecurity(context.Background(), 0, 1)
		require.NoError(t, err)
		return ev[0]
	}
	c.Get("/login")
	for _, bad := range []string{`=HYPERLINK("https://evil.example","x")`, strings.Repeat("a", 580_000), "-2+3", "a b", "ä"} {
		c.Header.Set("X-Request-Id", bad)
		r := c.PostForm("/login", url.Values{"username": {"nobody"}, "password": {"x-x-x-x-x-x"}})
		got := r.Header.Get("X-Request-Id")
		require.NotEqual(t, bad, got)
		require.Regexp(t, `^[0-9a-f]{32}$`, got, "a fresh ID replaces an unsafe one")
		require.Equal(t, got, lastEvent().RequestID)
	}
	c.Header.Set("X-Request-Id", "edge-7f3a.9_b")
	r := c.PostForm("/login", url.Values{"username": {"nobody"}, "password": {"x-x-x-x-x-x"}})
	require.Equal(t, "edge-7f3a.9_b", r.Header.Get("X-Request-Id"), "a short safe ID from the proxy is kept")
	require.Equal(t, "edge-7f3a.9_b", lastEvent().RequestID)

	c.Header.Del("X-Request-Id")
	c.PostForm("/login", url.Values{"username": {strings.Repeat("u", 100_000)}, "password": {"x-x-x-x-x-x"}})
	require.LessOrEqual(t, len([]rune(lastEvent().Username)), core.MaxStoredLen, "the username tried is capped")
}

func TestAuditCSVNeutralisesFormulasInEveryColumn(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	ctx := context.Background()
	viewer, _ := e.Login(core.RoleViewer)
	const evil = `=HYPERLINK("https://evil.example","x")`
	_, err := e.App.Pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ($1) ON CONFLICT DO NOTHING`, webtest.ComponentAppID)
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, nick_name) VALUES ($1, $2, $1)`, "+wxevil", webtest.ComponentAppID)
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, `INSERT INTO attempts (appid, action, request_id, client_ip, status, finished_at, outcome, code, message, transport_error)
		VALUES ('+wxevil', 'check', '@SUM(1+1)', '-1+1', 'completed', now(), 'failed', -1, $1, $1)`, evil)
	require.NoError(t, err)

	r := viewer.Get("/audit.csv")
	require.Equal(t, http.StatusOK, r.StatusCode)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rows), 2)
	found := false
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell == "" {
				continue
			}
			if _, err := strconv.ParseFloat(cell, 64); err == nil {
				continue
			}
			require.NotContains(t, "=+-@\t\r", cell[:1], "column %s: %q", rows[0][i], cell)
			if strings.Contains(cell, "wxevil") {
				found = true
			}
		}
	}
	require.True(t, found, "the hostile row is in the export")
}

func TestSignedInPagesAndExportsAreNotCached(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	admin, _ := e.Login(core.RoleAdmin)
	for _, path := range []string{"/", "/audit", "/audit.csv", "/staff", "/security-log", "/platform", "/no/such/page"} {
		r := admin.Get(path)
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"), path)
	}
	r := admin.HTMXPost("/platform/sync", nil)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"), "htmx partials too")
	href, ok := admin.Get("/staff").Doc.Find("link[rel=stylesheet]").Attr("href")
	require.True(t, ok)
	require.Contains(t, admin.Get(href).Header.Get("Cache-Control"), "immutable", "assets stay cacheable")
}

func TestNULAndInvalidUTF8InQueriesAndFormsGetAMessage(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	admin, _ := e.Login(core.RoleAdmin)
	for _, path := range []string{"/?q=%00", "/?q=a%00b", "/?state=%00", "/?after=%00", "/?q=%ff%fe", "/audit?appid=%00", "/audit?before=%00",
		"/audit.csv?appid=%00", "/audit?code=%00", "/runs?q=%00", "/security-log?before=%00", "/?%00=1"} {
		r := admin.Get(path)
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, path)
		require.Contains(t, r.Body, "NUL byte", path)
	}
	r := admin.PostForm("/runs", url.Values{"action": {"check"}, "q": {"x\x00y"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	r = admin.HTMXPost("/staff", url.Values{"username": {"a\x00b"}, "password": {"long-enough-password"}, "role": {"viewer"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Equal(t, http.StatusOK, admin.Get("/?q=ok").StatusCode, "clean input still works")
}

func TestProfileWithNULIsCleanedAndTheAccountKept(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	ctx := context.Background()
	const appID = "wx00000000bad00001"
	e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: appID, NickName: "坏\x00名字\x07", PrincipalName: "演示\x00公司", Signature: "sig\x00nature",
		UserName: "gh_bad\x00", MiniProgram: true, AccountStatus: 1})
	require.NoError(t, e.Sim.PushTicket(ctx))
	admin, _ := e.Login(core.RoleAdmin)
	require.Equal(t, http.StatusSeeOther, admin.PostForm("/platform/sync", nil).StatusCode)
	require.Equal(t, "Sync finished.", admin.Get("/platform").Text(".flash"))
	require.Equal(t, 1, countRows(t, e, `SELECT count(*) FROM authorizers WHERE appid = $1 AND nick_name = '坏名字' AND principal_name = '演示公司'
		AND is_mini_program AND info_synced_at IS NOT NULL AND raw_info->'authorizer_info'->>'signature' = 'signature'`, appID))
	require.Equal(t, 1, countRows(t, e, `SELECT count(*) FROM platforms WHERE (last_sync_result->>'failed')::int = 0`))
	r := admin.Get("/?q=" + url.QueryEscape("坏名字"))
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Body, appID, "listed as a Mini Program under its cleaned name")
}

func TestStaticDoesNotListDirectories(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c := e.Client()
	for _, path := range []string{"/static/", "/static/vendor/", "/static/img/", "/static/vendor", "/static/nope.js"} {
		r := c.Get(path)
		require.Equal(t, http.StatusNotFound, r.StatusCode, path)
		require.NotContains(t, r.Body, "htmx.min.js", path)
		require.NotContains(t, r.Body, "app.css", path)
	}
	require.Equal(t, http.StatusOK, c.Get("/static/app.css").StatusCode)
	require.Equal(t, http.StatusOK, c.Get("/static/vendor/htmx.min.js").StatusCode)
}

// A client that leaves before its page is ready (a tab closed, a page left
// while it loads, a load client's time bound) is not an internal error: the
// log says it went away, at info, and the access log records 499.
func TestAClientThatLeavesIsNotAnInternalError(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	e := webtest.New(t, webtest.Options{LogTo: logs})
	c, _ := e.Login(core.RoleViewer)
	ctx := context.Background()
	// The list's query waits for this lock, so the request is inside it
	// when its client leaves.
	tx, err := e.App.Pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // rolled back below; this covers a failure before
	_, err = tx.Exec(ctx, "LOCK TABLE authorizer_state IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, e.URL+"/", nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		resp, err := c.HTTP.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	require.Eventually(t, func() bool {
		var n int
		_ = e.App.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return n > 0
	}, 10*time.Second, 10*time.Millisecond, "the page's query waits for the lock")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.NoError(t, tx.Rollback(ctx))
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "msg=\"client went away\"") && strings.Contains(logs.String(), "status=499")
	}, 10*time.Second, 10*time.Millisecond, "%s", logs)
	require.NotContains(t, logs.String(), "level=ERROR")
}

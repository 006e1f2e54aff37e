package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// After a check from the list, the row's last attempt and the counts at the
// top are swapped out of band, for the list's own search.
func TestActionRefreshesRowAndCounts(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	var apps []string
	for range 3 {
		apps = append(apps, e.addAccount(t, account{Principal: "鲜果公司"}))
	}
	e.addAccount(t, account{Principal: "别家公司"})
	c, _ := e.Login(core.RoleOperator)
	list := c.Get("/?q=" + url.QueryEscape("鲜果"))
	require.Equal(t, "3", chip(list, "never"))
	require.Equal(t, "—", strings.TrimSpace(list.Doc.Find("#last-"+apps[0]).Text()))

	c.Header = http.Header{"HX-Current-URL": {e.URL + "/?q=" + url.QueryEscape("鲜果")}}
	r := c.HTMXPost("/apps/"+apps[0]+"/check", nil)
	a := resultOf(t, e, r)
	counts := r.Doc.Find(`#state-counts[hx-swap-oob="true"]`)
	require.Equal(t, 1, counts.Length(), r.Body)
	require.Equal(t, "2", strings.TrimSpace(counts.Find(`a[data-state=never] b`).Text()), "the counts follow, for the list's search")
	require.Equal(t, "1", strings.TrimSpace(counts.Find(`a[data-state=eligible] b`).Text()))
	require.Equal(t, "3", strings.TrimSpace(counts.Find(`a[data-state=""] b`).Text()))
	last := r.Doc.Find("#last-" + apps[0] + `[hx-swap-oob="true"]`)
	require.Equal(t, 1, last.Length(), r.Body)
	require.Equal(t, "/audit/"+strconv.FormatInt(a.ID, 10), last.Find("a").AttrOr("href", ""))

	// From the account's own page there are no chips to refresh.
	c.Header = http.Header{"HX-Current-URL": {e.URL + "/apps/" + apps[1]}}
	r = c.HTMXPost("/apps/"+apps[1]+"/check", nil)
	resultOf(t, e, r)
	require.Zero(t, r.Doc.Find("#state-counts, #last-"+apps[1]).Length())
	require.Equal(t, 1, r.Doc.Find("#state-"+apps[1]+"[hx-swap-oob]").Length())
}

// A bulk run's results are on the list when staff come back to it.
func TestBulkRunIsReflectedOnTheList(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "100"}})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, e.App.Jobs.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
	var ids []string
	for range 3 {
		ids = append(ids, e.addAccount(t, account{}))
	}
	e.Sim.Script(ids[2], wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735})
	c, _ := e.Login(core.RoleOperator)
	r := c.PostForm("/runs", url.Values{"action": {"open"}})
	r = c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`)))
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	waitRun(t, e, jobs.RunFinished)
	list := c.Get("/")
	require.Equal(t, "2", chip(list, "open"))
	require.Equal(t, "1", chip(list, "needs_merchant"))
	require.Equal(t, "0", chip(list, "never"))
	require.NotEqual(t, "—", strings.TrimSpace(list.Doc.Find("#last-"+ids[0]).Text()))
}

func waitRun(t *testing.T, e *trafficEnv, want jobs.RunStatus) *jobs.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := e.App.Jobs.Runs.List(context.Background(), 1, 0)
		require.NoError(t, err)
		if len(runs) == 1 && runs[0].Status == want {
			return runs[0]
		}
		require.True(t, time.Now().Before(deadline), "run did not reach %s", want)
		time.Sleep(50 * time.Millisecond)
	}
}

// Run counters add up to the total; a paused run shows no rate and no time left.
func TestRunCountersAddUp(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t) // no workers: the items stay pending
	var ids []string
	for range 4 {
		ids = append(ids, e.addAccount(t, account{}))
	}
	_, err := e.App.Pool.Exec(context.Background(), `UPDATE authorizer_state SET state = 'open' WHERE appid = $1`, ids[0])
	require.NoError(t, err)
	c, _ := e.Login(core.RoleOperator)
	r := c.PostForm("/runs", url.Values{"action": {"check"}})
	r = c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`)))
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	loc := r.Header.Get("Location")

	stat := func(p *goquery.Document, name string) string {
		return strings.TrimSpace(p.Find(`[data-stat="` + name + `"] b`).Text())
	}
	require.Equal(t, http.StatusSeeOther, c.PostForm(loc+"/pause", nil).StatusCode)
	p := c.Get(loc + "/progress").Doc
	require.Equal(t, "—", stat(p, "rate"), "a paused run has no rate")
	require.Equal(t, "—", stat(p, "time-left"), "nor time left")
	require.Equal(t, "3", stat(p, "remaining"))
	require.Equal(t, "1", stat(p, "skipped"))

	require.Equal(t, http.StatusSeeOther, c.PostForm(loc+"/cancel", nil).StatusCode)
	p = c.Get(loc + "/progress").Doc
	require.Equal(t, "3", stat(p, "cancelled"), "cancelled accounts have their own count")
	sum := 0
	for _, s := range []string{"called", "skipped", "cancelled", "remaining"} {
		n, err := strconv.Atoi(stat(p, s))
		require.NoError(t, err, s)
		sum += n
	}
	require.Equal(t, 4, sum, "the counters add up to the total")
}

// Submitting the same confirmation twice starts one run.
func TestRunStartsOnce(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	for range 2 {
		e.addAccount(t, account{})
	}
	c, _ := e.Login(core.RoleOperator)
	confirm := c.PostForm("/runs", url.Values{"action": {"check"}})
	form := formValues(confirm.Doc.Find(`form[action="/runs"]`))
	require.NotEmpty(t, form.Get("token"))
	first := c.PostForm("/runs", form)
	require.Equal(t, http.StatusSeeOther, first.StatusCode)
	again := c.PostForm("/runs", form) // a double click, or Back and submit again
	require.Equal(t, http.StatusSeeOther, again.StatusCode)
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
	var n int
	require.NoError(t, e.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM runs`).Scan(&n))
	require.Equal(t, 1, n)

	// A new confirmation is a new run.
	confirm = c.PostForm("/runs", url.Values{"action": {"check"}})
	require.Equal(t, http.StatusSeeOther, c.PostForm("/runs", formValues(confirm.Doc.Find(`form[action="/runs"]`))).StatusCode)
	require.NoError(t, e.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM runs`).Scan(&n))
	require.Equal(t, 2, n)

	// A confirmation without its token only asks again.
	form.Del("token")
	require.Equal(t, http.StatusOK, c.PostForm("/runs", form).StatusCode)

	// Buttons that call WeChat are disabled while their request is in flight.
	list := c.Get("/")
	list.Doc.Find("#apps form[hx-post]").Each(func(_ int, f *goquery.Selection) {
		require.Equal(t, "find button", f.AttrOr("hx-disabled-elt", ""), f.AttrOr("hx-post", ""))
	})
	require.Positive(t, list.Doc.Find("#apps form[hx-post]").Length())
	_, ok := confirm.Doc.Find(`form[action="/runs"]`).Attr("data-disable-on-submit")
	require.True(t, ok)
}

// The bulk Open confirmation names the accounts, says it cannot be undone,
// and above 50 accounts wants the count typed, which the server checks.
func TestBulkOpenConfirmation(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	for i := range 53 {
		e.addAccount(t, account{Name: "小程序 " + strconv.Itoa(100+i)})
	}
	c, _ := e.Login(core.RoleOperator)
	r := c.PostForm("/runs", url.Values{"action": {"open"}})
	require.Equal(t, 5, r.Doc.Find("#confirm-accounts [data-run-account]").Length())
	require.Contains(t, r.Text("#confirm-accounts li:first-child"), "小程序 100")
	require.Contains(t, r.Text("[data-run-more]"), "and 48 more")
	require.Contains(t, r.Text("[data-irreversible]"), "cannot be undone")
	require.Equal(t, 1, r.Doc.Find("input[name=typed_count]").Length())

	form := formValues(r.Doc.Find(`form[action="/runs"]`))
	form.Set("typed_count", "50")
	bad := c.PostForm("/runs", form)
	require.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode)
	require.Contains(t, bad.Text("#typed-count-error"), "53")
	require.Equal(t, "true", bad.Doc.Find("#typed-count").AttrOr("aria-invalid", ""))
	var n int
	require.NoError(t, e.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM runs`).Scan(&n))
	require.Zero(t, n)

	form.Set("typed_count", "53")
	require.Equal(t, http.StatusSeeOther, c.PostForm("/runs", form).StatusCode)

	// A check needs no typing; nor does a small open run.
	r = c.PostForm("/runs", url.Values{"action": {"check"}})
	require.Zero(t, r.Doc.Find("input[name=typed_count]").Length())
	require.Zero(t, r.Doc.Find("[data-irreversible]").Length())
}

// Empty states say what is true, and a reversed date range is a field error.
func TestAuditEmptyStatesAndDateRange(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	r := c.Get("/audit")
	require.Contains(t, r.Text(".panel"), "No attempts yet")
	require.Zero(t, r.Doc.Find("[data-clear-filters]").Length())

	app := e.addAccount(t, account{})
	resultOf(t, e, c.HTMXPost("/apps/"+app+"/check", nil))
	r = c.Get("/audit?action=open")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("#audit-empty"), "No attempt matches these filters")
	require.Equal(t, "/audit", r.Doc.Find("#audit-empty a[data-clear-filters]").AttrOr("href", ""))

	r = c.Get("/audit?from=2026-03-02T10:00&to=2026-03-01T10:00")
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Text("#to-error"), "must not be before")
	require.Equal(t, "true", r.Doc.Find("input[name=to]").AttrOr("aria-invalid", ""))
	require.Zero(t, r.Doc.Find("#attempts").Length(), "no list that ignores what was asked")
	require.Equal(t, http.StatusUnprocessableEntity, c.Get("/audit.csv?from=2026-03-02T10:00&to=2026-03-01T10:00").StatusCode)
}

// A run's attempt links open the audit entry, and the audit filters by run.
func TestRunAttemptLinksAndRunFilter(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "100"}})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, e.App.Jobs.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
	a1, a2 := e.addAccount(t, account{}), e.addAccount(t, account{})
	c, _ := e.Login(core.RoleOperator)
	other := resultOf(t, e, c.HTMXPost("/apps/"+a1+"/check", nil)) // not part of the run
	r := c.PostForm("/runs", url.Values{"action": {"check"}, "appid": {a1, a2}})
	r = c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`)))
	loc := r.Header.Get("Location")
	run := waitRun(t, e, jobs.RunFinished)

	page := c.Get(loc)
	links := page.Doc.Find("#run-items a[data-attempt-link]")
	require.Equal(t, 2, links.Length())
	href := links.First().AttrOr("href", "")
	entry := c.Get(href)
	require.Equal(t, http.StatusOK, entry.StatusCode)
	require.Contains(t, entry.Text("h1"), strings.TrimPrefix(links.First().Text(), "#"))

	audit := c.Get("/audit?run=" + strconv.FormatInt(run.ID, 10))
	require.Equal(t, http.StatusOK, audit.StatusCode)
	require.Equal(t, 2, audit.Doc.Find("#attempts tbody tr").Length())
	require.Zero(t, audit.Doc.Find("#attempt-"+strconv.FormatInt(other.ID, 10)).Length())
	require.Equal(t, strconv.FormatInt(run.ID, 10), audit.Doc.Find("input[name=run]").AttrOr("value", ""))
	require.Equal(t, http.StatusUnprocessableEntity, c.Get("/audit?run=abc").StatusCode)
}

// Words the server records are shown in the viewer's language.
func TestServerWordsAreTranslated(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ids := []string{e.addAccount(t, account{}), e.addAccount(t, account{}), e.addAccount(t, account{})}
	c, _ := e.Login(core.RoleOperator)
	start := func(v url.Values) {
		r := c.PostForm("/runs", v)
		require.Equal(t, http.StatusSeeOther, c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`))).StatusCode)
	}
	start(url.Values{"action": {"check"}})
	start(url.Values{"action": {"check"}, "appid": ids})
	start(url.Values{"action": {"check"}, "state": {"never"}, "q": {"wx"}})

	admin, _ := e.Login(core.RoleAdmin)
	admin.Header = http.Header{"Accept-Language": {"zh-CN"}}
	var sel []string
	admin.Get("/runs").Doc.Find("#runs [data-selection]").Each(func(_ int, s *goquery.Selection) { sel = append(sel, strings.TrimSpace(s.Text())) })
	require.Equal(t, []string{"状态：从未尝试；搜索：“wx”", "已选 3 个", "全部小程序"}, sel)
	require.Contains(t, admin.Get("/runs").Doc.Find(`#new-run select[name=state]`).Text(), "从未尝试")

	en, _ := e.Login(core.RoleViewer)
	require.Contains(t, en.Get("/runs").Text("#runs [data-selection]"), "state: Never tried")

	// Security-log details.
	bad := e.Client()
	bad.Get("/login")
	bad.PostForm("/login", url.Values{"username": {"nobody"}, "password": {"x"}})
	log := admin.Get("/security-log")
	require.Equal(t, http.StatusOK, log.StatusCode)
	found := false
	log.Doc.Find("[data-detail]").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("data-detail", "") == "unknown user" {
			found = true
			require.Equal(t, "用户不存在", strings.TrimSpace(s.Text()))
		}
	})
	require.True(t, found)

	// An audit entry's status.
	a := resultOf(t, e, c.HTMXPost("/apps/"+ids[0]+"/check", nil))
	d := admin.Get("/audit/" + strconv.FormatInt(a.ID, 10))
	require.Equal(t, "已完成", d.Text("[data-status]"))
}

// Opening is the secondary action, is not offered where WeChat would refuse
// it, and viewers get no empty Actions column.
func TestPerRowActions(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ok := e.addAccount(t, account{})
	frozen := e.addAccount(t, account{Status: 19})
	banned := e.addAccount(t, account{Status: 16})
	gone := e.addAccount(t, account{Status: 14})
	c, _ := e.Login(core.RoleOperator)
	r := c.Get("/")
	open := r.Doc.Find("#app-" + ok + " button[data-action=open]")
	require.Equal(t, 1, open.Length())
	require.False(t, open.HasClass("primary"), "opening cannot be undone: not the primary button")
	require.True(t, r.Doc.Find("#app-"+ok+" button[data-action=check]").HasClass("primary"))
	for app, why := range map[string]string{frozen: "frozen", banned: "banned", gone: "deregistered"} {
		row := r.Doc.Find("#app-" + app)
		require.Zero(t, row.Find("button[data-action=open]").Length(), why)
		require.Contains(t, row.Find("[data-open-refusal]").Text(), why)
		require.Equal(t, 1, row.Find("button[data-action=check]").Length(), "checking stays possible")
	}

	// A bulk open run skips them too, and its confirmation says so.
	conf := c.PostForm("/runs", url.Values{"action": {"open"}})
	require.Contains(t, conf.Text("[data-not-offered-count]"), "3 of them")
	require.Equal(t, http.StatusSeeOther, c.PostForm("/runs", formValues(conf.Doc.Find(`form[action="/runs"]`))).StatusCode)
	var skipped int
	require.NoError(t, e.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM run_items WHERE state = 'skipped' AND outcome = 'not_allowed' AND appid = ANY($1)`, []string{frozen, banned, gone}).Scan(&skipped))
	require.Equal(t, 3, skipped)

	v, _ := e.Login(core.RoleViewer)
	vr := v.Get("/")
	require.Zero(t, vr.Doc.Find("#apps form, #apps button").Length())
	headers := vr.Doc.Find("#apps thead th").Length()
	require.Equal(t, headers, vr.Doc.Find("#app-"+ok+" td").Length(), "a cell per column")
	require.NotContains(t, vr.Text("#apps thead"), "Actions")
}

// The rate shown is the rate of calls, which is what the configured rate
// limits: four calls spaced a tenth of a second apart are 10 a second, not
// the 13.3 that "calls over elapsed time" would claim.
func TestRunRateIsTheCallRate(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "10"}})
	ctx := context.Background()
	var ids []string
	for range 4 {
		ids = append(ids, e.addAccount(t, account{}))
	}
	c, _ := e.Login(core.RoleOperator)
	r := c.PostForm("/runs", url.Values{"action": {"check"}})
	r = c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`)))
	loc := r.Header.Get("Location")
	runID, err := strconv.ParseInt(strings.TrimPrefix(loc, "/runs/"), 10, 64)
	require.NoError(t, err)
	t0 := time.Now().Add(-time.Minute)
	for i, id := range ids {
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		_, err := e.App.Pool.Exec(ctx, `INSERT INTO attempts (appid, action, run_id, status, outcome, code, started_at, finished_at)
			VALUES ($1, 'check', $2, 'completed', 'success', 0, $3, $3)`, id, runID, at)
		require.NoError(t, err)
	}
	_, err = e.App.Pool.Exec(ctx, `UPDATE run_items SET state = 'done', finished_at = now() WHERE run_id = $1`, runID)
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, `UPDATE runs SET status = 'finished', finished_at = now() WHERE id = $1`, runID)
	require.NoError(t, err)
	p := c.Get(loc).Doc
	require.Equal(t, "10.0/s", strings.TrimSpace(p.Find(`[data-stat="rate"] b`).Text()))
	require.Contains(t, p.Find(`[data-stat="rate"]`).Text(), "limit 10/s")
}

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
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

var confirmed = url.Values{"confirmed": {"1"}}

// resultOf checks the htmx result partial and returns its audit row.
func resultOf(t *testing.T, e *trafficEnv, r *webtest.Response) *traffic.Attempt {
	t.Helper()
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	res := r.Doc.Find(".result")
	require.Equal(t, 1, res.Length(), r.Body)
	href, ok := res.Find("a[data-audit-link]").Attr("href")
	require.True(t, ok, r.Body)
	id, err := strconv.ParseInt(strings.TrimPrefix(href, "/audit/"), 10, 64)
	require.NoError(t, err)
	a := e.attemptRow(t, id)
	require.Equal(t, string(a.Outcome), res.AttrOr("data-outcome", ""))
	return a
}

func TestOpenOutcomeClasses(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, st := e.Login(core.RoleOperator)
	cases := []struct {
		name    string
		b       *wechatsim.Behavior // nil: the simulator's default (opens)
		outcome traffic.Outcome
		code    *int
		remedy  string
		state   string
	}{
		{"0", nil, traffic.OutcomeSuccess, ptr(0), "", "open"},
		{"2021", &wechatsim.Behavior{Ret: 2021}, traffic.OutcomeAlreadyDone, ptr(2021), "Nothing to do", "open"},
		{"-202", &wechatsim.Behavior{Ret: -202}, traffic.OutcomeRetryable, ptr(-202), "Retry after a while", "retry_later"},
		{"1735", &wechatsim.Behavior{Ret: 1735}, traffic.OutcomeNeedsMerchant, ptr(1735), "sign the agreement", "needs_merchant"},
		{"1737", &wechatsim.Behavior{Ret: 1737}, traffic.OutcomeRateLimited, ptr(1737), "Wait a minute", "retry_later"},
		{"1807", &wechatsim.Behavior{Ret: 1807}, traffic.OutcomeNeedsMerchant, ptr(1807), "Open the traffic master", "needs_merchant"},
		{"2013", &wechatsim.Behavior{Ret: 2013}, traffic.OutcomeNotYetEligible, ptr(2013), "Retry periodically", "below_threshold"},
		{"2056", &wechatsim.Behavior{Ret: 2056}, traffic.OutcomeProviderConfig, ptr(2056), "monetization account", "platform_setup"},
		{"48001", &wechatsim.Behavior{Ret: 48001, Shape: "errcode"}, traffic.OutcomeProviderConfig, ptr(48001), "Apply for the permission", "platform_setup"},
		{"1735-errcode", &wechatsim.Behavior{Ret: 1735, Shape: "errcode"}, traffic.OutcomeNeedsMerchant, ptr(1735), "sign the agreement", "needs_merchant"},
		{"2013-errcode", &wechatsim.Behavior{Ret: 2013, Shape: "errcode"}, traffic.OutcomeNotYetEligible, ptr(2013), "Retry periodically", "below_threshold"},
		{"-202-errcode", &wechatsim.Behavior{Ret: -202, Shape: "errcode"}, traffic.OutcomeRetryable, ptr(-202), "Retry after a while", "retry_later"},
		{"5xx", &wechatsim.Behavior{HTTPStatus: 502}, traffic.OutcomeFailed, nil, "Retry later", "our_bug"},
		{"garbage", &wechatsim.Behavior{Garbage: true}, traffic.OutcomeFailed, nil, "Retry later", "our_bug"},
		{"unknown-code", &wechatsim.Behavior{Ret: 99999}, traffic.OutcomeFailed, ptr(99999), "raw reply", "our_bug"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := e.addAccount(t, account{})
			if tc.b != nil {
				e.Sim.Script(app, wechatsim.ActionCreate, *tc.b)
			}
			r := c.HTMXPost("/apps/"+app+"/open", confirmed)
			a := resultOf(t, e, r)
			require.Equal(t, tc.outcome, a.Outcome)
			require.Equal(t, traffic.AttemptCompleted, a.Status)
			require.Equal(t, tc.code, a.Code)
			switch {
			case tc.code != nil && *tc.code == 0:
				require.Zero(t, r.Doc.Find(".result [data-code]").Length(), "a success reads as one, without its code 0")
			case tc.code != nil:
				require.Equal(t, strconv.Itoa(*tc.code), r.Text(".result code[data-code]"))
			}
			if tc.remedy != "" {
				require.Contains(t, r.Text("[data-remedy]"), tc.remedy)
			}
			require.Equal(t, "true", r.Doc.Find("#state-"+app).AttrOr("hx-swap-oob", ""), "the state badge is refreshed too")
			if tc.state == "open" {
				require.Equal(t, 1, r.Doc.Find("#open-"+app+"[hx-swap-oob] [data-open]").Length(), "an open account shows so instead of the button")
			} else {
				require.Equal(t, 1, r.Doc.Find("#open-"+app+"[hx-swap-oob] button[data-action=open]").Length(), "the open button stays offered")
			}
			require.Equal(t, tc.state, stateOf(t, e, app))
			// The audit row is complete.
			require.Equal(t, app, a.AppID)
			require.Equal(t, traffic.ActionOpen, a.Action)
			require.Equal(t, st.ID, *a.StaffID)
			require.NotEmpty(t, a.RequestID)
			require.NotEmpty(t, a.ClientIP)
			require.NotNil(t, a.FinishedAt)
			full := e.attemptRow(t, a.ID)
			require.NotEmpty(t, full.Raw, "the raw reply is kept")
			require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app))
		})
	}
}

func ptr(n int) *int { return &n }

func stateOf(t *testing.T, e *trafficEnv, appID string) string {
	a, err := e.App.Attempts.Account(context.Background(), appID)
	require.NoError(t, err)
	return string(a.State)
}

func TestOpenTimeoutIsUnknownNotFailed(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{HTTPClient: &http.Client{Timeout: 400 * time.Millisecond}})
	c, _ := e.Login(core.RoleOperator)
	app := e.addAccount(t, account{})
	e.Sim.Script(app, wechatsim.ActionCreate, wechatsim.Behavior{Hang: true})
	r := c.HTMXPost("/apps/"+app+"/open", confirmed)
	a := resultOf(t, e, r)
	require.Equal(t, traffic.OutcomeUnknown, a.Outcome)
	require.Equal(t, traffic.AttemptCompleted, a.Status)
	require.Nil(t, a.Code)
	require.NotEmpty(t, a.TransportError)
	require.GreaterOrEqual(t, a.LatencyMS, 350)
	require.Contains(t, r.Text(".result strong"), "may have reached WeChat")
	require.Equal(t, "unknown", stateOf(t, e, app))
}

func TestTokenRejectedIsRefreshedOnceAndRetriedOnce(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addAccount(t, account{})
	// A stale token the simulator rejects with 40001; the service must refresh and retry.
	e.tokens.Use(app, "stale-token")
	a := resultOf(t, e, c.HTMXPost("/apps/"+app+"/open", confirmed))
	require.Equal(t, traffic.OutcomeSuccess, a.Outcome)
	require.True(t, e.Sim.Opened(app))
}

func TestCheckEligibility(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleAdmin)
	can := e.addAccount(t, account{})
	cannot := e.addAccount(t, account{})
	e.Sim.Script(cannot, wechatsim.ActionCheck, wechatsim.Behavior{Status: 0})
	e.Sim.Script(can, wechatsim.ActionCheck, wechatsim.Behavior{Status: 1})

	a := resultOf(t, e, c.HTMXPost("/apps/"+can+"/check", nil))
	require.Equal(t, traffic.OutcomeSuccess, a.Outcome)
	require.Equal(t, 1, *a.CheckStatus)
	require.Equal(t, "eligible", stateOf(t, e, can))

	r := c.HTMXPost("/apps/"+cannot+"/check", nil)
	a = resultOf(t, e, r)
	require.Equal(t, 0, *a.CheckStatus)
	require.Contains(t, r.Text(".result strong"), "Not eligible")
	require.Equal(t, "not_eligible", stateOf(t, e, cannot))
	require.Equal(t, 0, e.Sim.Calls(wechatsim.ActionCreate, cannot), "a check never opens")
}

func TestRolesAndButtons(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	app := e.addAccount(t, account{Name: "鲜果日记"})
	viewer, vst := e.Login(core.RoleViewer)
	op, _ := e.Login(core.RoleOperator)

	r := viewer.Get("/")
	require.Equal(t, http.StatusOK, r.StatusCode)
	row := r.Doc.Find("#app-" + app)
	require.Equal(t, 1, row.Length())
	require.Equal(t, 0, row.Find("button").Length(), "viewers see no buttons")

	r = op.Get("/")
	row = r.Doc.Find("#app-" + app)
	require.Equal(t, "Check eligibility", strings.TrimSpace(row.Find("button[data-action=check]").Text()))
	require.Equal(t, "Open traffic master", strings.TrimSpace(row.Find("button[data-action=open]").Text()))
	require.NotEmpty(t, row.Find("form[hx-confirm]").AttrOr("hx-confirm", ""), "opening asks first")
	require.Equal(t, "/apps/"+app+"/open", row.Find("form[hx-confirm]").AttrOr("action", ""), "works without JavaScript")

	op.Header.Set("Accept-Language", "zh-CN")
	r = op.Get("/")
	row = r.Doc.Find("#app-" + app)
	require.Equal(t, "检查开通资格", strings.TrimSpace(row.Find("button[data-action=check]").Text()))
	require.Equal(t, "开通流量主", strings.TrimSpace(row.Find("button[data-action=open]").Text()))

	// A viewer posting anyway is refused by the server, and the refusal is audited.
	for _, path := range []string{"/apps/" + app + "/open", "/apps/" + app + "/check"} {
		r = viewer.HTMXPost(path, confirmed)
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "1", r.Header.Get("HX-Error"))
	}
	rows := e.attempts(t, app)
	require.Len(t, rows, 2)
	for _, a := range rows {
		require.Equal(t, traffic.AttemptRejected, a.Status)
		require.Equal(t, traffic.OutcomeNotAllowed, a.Outcome)
		require.Equal(t, vst.ID, *a.StaffID)
	}
	require.Equal(t, 0, e.Sim.Calls(wechatsim.ActionCreate, app)+e.Sim.Calls(wechatsim.ActionCheck, app))

	// The audit history is readable by every role.
	r = viewer.Get("/audit")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, 2, r.Doc.Find("#attempts tbody tr").Length())
}

func TestDoubleClickCallsWeChatOnce(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addAccount(t, account{})
	// The first click's call is held at WeChat until the second click has its
	// answer, so the two overlap for certain.
	gate := e.Sim.Hold(app, wechatsim.ActionCreate)
	t.Cleanup(gate.Release)
	responses := make(chan *webtest.Response, 2)
	for range 2 {
		go func() { responses <- c.HTMXPost("/apps/"+app+"/open", confirmed) }()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	secondCall := make(chan struct{})
	go func() {
		if gate.WaitArrived(ctx, 2) == nil {
			close(secondCall)
		}
	}()
	var results []*webtest.Response
	select {
	case r := <-responses:
		results = append(results, r)
	case <-secondCall:
		t.Fatal("both clicks reached WeChat")
	case <-ctx.Done():
		t.Fatal("neither click was answered while one call was held")
	}
	first := resultOf(t, e, results[0])
	require.Equal(t, traffic.OutcomeInProgress, first.Outcome, "the click that lost is told another attempt is in flight")
	require.Equal(t, traffic.AttemptRejected, first.Status)
	// The winner's call reaches WeChat (it may still have been fetching its
	// token when the loser was answered) and is held there.
	require.NoError(t, gate.WaitArrived(ctx, 1))
	require.Equal(t, 1, gate.Arrived())
	gate.Release()
	select {
	case r := <-responses:
		results = append(results, r)
	case <-ctx.Done():
		t.Fatal("the held click was not answered after the release")
	}
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app), "exactly one upstream call")
	outcomes := map[traffic.Outcome]int{}
	for _, r := range results {
		outcomes[resultOf(t, e, r).Outcome]++
	}
	require.Equal(t, map[traffic.Outcome]int{traffic.OutcomeSuccess: 1, traffic.OutcomeInProgress: 1}, outcomes)
	rows := e.attempts(t, app)
	require.Len(t, rows, 2)
	byStatus := map[traffic.AttemptStatus]int{}
	for _, a := range rows {
		byStatus[a.Status]++
	}
	require.Equal(t, map[traffic.AttemptStatus]int{traffic.AttemptCompleted: 1, traffic.AttemptRejected: 1}, byStatus)

	// Once open, the row says so instead of offering the button.
	row := c.Get("/").Doc.Find("#app-" + app)
	require.Equal(t, 0, row.Find("button[data-action=open]").Length())
	require.Equal(t, 1, row.Find("[data-open]").Length())
}

func TestRevokedAndOfficialAccountsCannotBeOpened(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	revoked := e.addAccount(t, account{Revoked: true})
	official := e.addAccount(t, account{Official: true})
	page := c.Get("/")
	for app, reason := range map[string]string{revoked: "revoked", official: "Official Accounts"} {
		row := page.Doc.Find("#app-" + app)
		require.Equal(t, 0, row.Find("button").Length())
		require.Contains(t, row.Find("[data-refusal]").Text(), reason)

		r := c.HTMXPost("/apps/"+app+"/open", confirmed)
		a := resultOf(t, e, r)
		require.Equal(t, traffic.AttemptRejected, a.Status)
		require.Equal(t, traffic.OutcomeNotAllowed, a.Outcome)
		require.Contains(t, r.Text(".result"), reason)
		require.Equal(t, 0, e.Sim.Calls(wechatsim.ActionCreate, app))
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addAccount(t, account{})

	r := c.HTMXPost("/apps/not-an-appid/open", confirmed)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Body, "not a valid appid")

	r = c.HTMXPost("/apps/wx00000000000000ff/open", confirmed)
	require.Equal(t, http.StatusNotFound, r.StatusCode)
	require.Contains(t, r.Body, "Mini Program not found")
	require.Equal(t, http.StatusNotFound, c.Get("/apps/wx00000000000000ff").StatusCode)
	require.Equal(t, http.StatusNotFound, c.Get("/apps/../etc").StatusCode)

	// A forged form (no CSRF token) is refused before anything is recorded or called.
	forger := *c
	forger.NoCSRF = true
	r = forger.PostForm("/apps/"+app+"/open", url.Values{"confirmed": {"1"}})
	require.Equal(t, http.StatusForbidden, r.StatusCode)
	require.Empty(t, e.attempts(t, app))
	require.Equal(t, 0, e.Sim.Calls(wechatsim.ActionCreate, app))
}

func TestWithoutJavaScript(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addAccount(t, account{})
	e.Sim.Script(app, wechatsim.ActionCheck, wechatsim.Behavior{Ret: 1735})

	r := c.PostForm("/apps/"+app+"/check", url.Values{"next": {"/?q=" + app}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "/?q="+app, r.Header.Get("Location"))
	page := c.Get("/?q=" + app)
	require.Contains(t, page.Text(".flash"), "1735")
	require.Contains(t, page.Text(".flash"), "sign the agreement")

	// Opening asks on a page first, then opens.
	r = c.PostForm("/apps/"+app+"/open", url.Values{"next": {"/"}})
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, 0, e.Sim.Calls(wechatsim.ActionCreate, app))
	require.Equal(t, "1", r.Doc.Find("form input[name=confirmed]").AttrOr("value", ""))
	r = c.PostForm("/apps/"+app+"/open", url.Values{"next": {"https://evil.example/"}, "confirmed": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "/", r.Header.Get("Location"), "redirects stay on the console")
	require.Contains(t, c.Get("/").Text(".flash"), "Traffic master opened")
}

func TestAppendOnlyTrigger(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	app := e.addAccount(t, account{})
	ctx := context.Background()
	db := e.App.Pool
	var id int64
	require.NoError(t, db.QueryRow(ctx, "INSERT INTO attempts (appid, action, status) VALUES ($1, 'open', 'pending') RETURNING id", app).Scan(&id))

	_, err := db.Exec(ctx, "DELETE FROM attempts WHERE id = $1", id)
	require.ErrorContains(t, err, "append-only")
	_, err = db.Exec(ctx, "TRUNCATE attempts")
	require.ErrorContains(t, err, "append-only")
	_, err = db.Exec(ctx, "UPDATE attempts SET appid = appid, started_at = started_at - interval '1 hour', status = 'completed' WHERE id = $1", id)
	require.ErrorContains(t, err, "append-only", "identity columns cannot change")
	_, err = db.Exec(ctx, "UPDATE attempts SET status = 'rejected' WHERE id = $1", id)
	require.ErrorContains(t, err, "append-only")

	_, err = db.Exec(ctx, "UPDATE attempts SET status = 'completed', outcome = 'success', finished_at = now() WHERE id = $1", id)
	require.NoError(t, err, "completing a pending row once is allowed")
	_, err = db.Exec(ctx, "UPDATE attempts SET outcome = 'failed' WHERE id = $1", id)
	require.ErrorContains(t, err, "append-only", "a completed row is final")
	_, err = db.Exec(ctx, "UPDATE attempts SET status = 'interrupted' WHERE id = $1", id)
	require.ErrorContains(t, err, "append-only")
}

func TestPendingRowsOfDeadInstancesBecomeInterrupted(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	dead := e.addAccount(t, account{})
	alive := e.addAccount(t, account{})
	own := e.addAccount(t, account{})
	release, err := postgres.HoldInstanceLock(ctx, e.App.Pool, "neighbour")
	require.NoError(t, err)
	defer release()
	ids := map[string]int64{}
	for app, inst := range map[string]string{dead: "gone", alive: "neighbour", own: e.App.InstanceID} {
		var id int64
		require.NoError(t, e.App.Pool.QueryRow(ctx, "INSERT INTO attempts (appid, action, status, instance_id) VALUES ($1, 'open', 'pending', $2) RETURNING id", app, inst).Scan(&id))
		ids[app] = id
	}
	n, err := e.App.Attempts.RecoverInterrupted(ctx, e.App.InstanceID)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Equal(t, traffic.AttemptInterrupted, e.attemptRow(t, ids[dead]).Status)
	require.Equal(t, traffic.OutcomeInterrupted, e.attemptRow(t, ids[dead]).Outcome)
	require.Equal(t, traffic.AttemptPending, e.attemptRow(t, ids[alive]).Status, "a live neighbour's call is left alone")
	require.Equal(t, traffic.AttemptPending, e.attemptRow(t, ids[own]).Status)

	// The neighbour dies: its row is recovered next time.
	release()
	// The server drops the lock when the backend exits, a moment after the close.
	require.Eventually(t, func() bool {
		n, err := e.App.Attempts.RecoverInterrupted(ctx, e.App.InstanceID)
		require.NoError(t, err)
		return n == 1
	}, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, traffic.AttemptInterrupted, e.attemptRow(t, ids[alive]).Status)

	// This instance's own row whose completion failed would block its
	// account for good; once older than any call can last, it is taken too.
	require.Equal(t, traffic.AttemptPending, e.attemptRow(t, ids[own]).Status)
	_, err = e.App.Pool.Exec(ctx, "ALTER TABLE attempts DISABLE TRIGGER attempts_append_only")
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, "UPDATE attempts SET started_at = now() - $2::interval WHERE id = $1", ids[own], (postgres.OwnPendingLimit + time.Minute).String())
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, "ALTER TABLE attempts ENABLE TRIGGER attempts_append_only")
	require.NoError(t, err)
	n, err = e.App.Attempts.RecoverInterrupted(ctx, e.App.InstanceID)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	row := e.attemptRow(t, ids[own])
	require.Equal(t, traffic.AttemptInterrupted, row.Status)
	require.Contains(t, row.Message, "could not be recorded")
	c, _ := e.Login(core.RoleOperator)
	// Its outcome is unknown, so opening it takes an explicit confirmation.
	require.Equal(t, traffic.OutcomeSuccess, resultOf(t, e, c.HTMXPost("/apps/"+own+"/open", url.Values{"confirmed": {"1"}, "unknown_ok": {"1"}})).Outcome, "the account is no longer blocked")
}

func TestMiniProgramsList(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleViewer)

	r := c.Get("/")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text(".empty h3"), "No Mini Programs yet")

	fruit := e.addAccount(t, account{Name: "鲜果日记", Principal: "深圳鲜果科技有限公司"})
	books := e.addAccount(t, account{Name: "Morning Books", Principal: "Dawn Ltd"})
	official := e.addAccount(t, account{Name: "Dawn News", Official: true, Principal: "Dawn Ltd"})
	for i := 0; i < 7; i++ {
		e.addAccount(t, account{Name: "Zeta " + strconv.Itoa(i)})
	}
	ids := func(r *webtest.Response) []string {
		var out []string
		r.Doc.Find("#apps tbody tr").Each(func(_ int, s *goquerySel) { out = append(out, s.AttrOr("data-appid", "")) })
		return out
	}
	require.Equal(t, []string{fruit}, ids(c.Get("/?q="+url.QueryEscape("鲜果"))), "search by name")
	require.Equal(t, []string{fruit}, ids(c.Get("/?q="+fruit[10:])), "search by appid")
	require.ElementsMatch(t, []string{books, official}, ids(c.Get("/?q=dawn+ltd")), "search by principal, any case")
	require.Equal(t, []string{official}, ids(c.Get("/?status=official")))
	r = c.Get("/?q=nothing-like-this")
	require.Contains(t, r.Text(".empty h3"), "No Mini Program matches")

	// Counts per state, as chips.
	op, _ := e.Login(core.RoleOperator)
	resultOf(t, e, op.HTMXPost("/apps/"+fruit+"/open", confirmed))
	r = c.Get("/")
	require.Equal(t, "1", r.Doc.Find(".counts a[data-state=open] b").Text())
	require.Equal(t, "9", r.Doc.Find(".counts a[data-state=never] b").Text())
	require.Equal(t, []string{fruit}, ids(c.Get("/?state=open")))
	require.Equal(t, fruit, ids(c.Get("/?sort=recent"))[0])
	require.Equal(t, 1, c.Get("/?state=open").Doc.Find("#app-"+fruit+" a[href^='/audit/']").Length(), "the last attempt links to its entry")

	// Keyset pagination stays stable while rows are added.
	var all []string
	page := c.Get("/?sort=appid")
	all = append(all, ids(page)...)
	require.Len(t, all, 10)
	// 3 per page through the store, to exercise the cursor.
	var got []string
	f := postgres.AccountFilter{Sort: "", Limit: 3}
	for i := 0; ; i++ {
		p, err := e.App.Attempts.ListAccounts(context.Background(), f)
		require.NoError(t, err)
		for _, a := range p.Accounts {
			got = append(got, a.AppID)
		}
		if i == 0 {
			e.addAccount(t, account{Name: "AAA added first"}) // sorts before the cursor: not seen
		}
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	require.Len(t, got, 10, "no row skipped or repeated")
	seen := map[string]bool{}
	for _, id := range got {
		require.False(t, seen[id])
		seen[id] = true
	}
}

func TestAppDetailAndAuditPages(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	op, st := e.Login(core.RoleOperator)
	app := e.addAccount(t, account{Name: "花间茶舍"})
	other := e.addAccount(t, account{})
	e.Sim.Script(app, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735})
	first := resultOf(t, e, op.HTMXPost("/apps/"+app+"/check", nil))
	second := resultOf(t, e, op.HTMXPost("/apps/"+app+"/open", confirmed))
	resultOf(t, e, op.HTMXPost("/apps/"+other+"/check", nil))

	r := op.Get("/apps/" + app)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "花间茶舍", r.Text("h1"))
	require.Equal(t, 2, r.Doc.Find("#attempts tbody tr").Length())
	require.Equal(t, "attempt-"+strconv.FormatInt(second.ID, 10), r.Doc.Find("#attempts tbody tr").First().AttrOr("id", ""), "newest first")

	viewer, _ := e.Login(core.RoleViewer)
	rows := func(q string) int { return viewer.Get("/audit" + q).Doc.Find("#attempts tbody tr").Length() }
	require.Equal(t, 3, rows(""))
	require.Equal(t, 2, rows("?appid="+app))
	require.Equal(t, 3, rows("?staff="+strconv.FormatInt(st.ID, 10)))
	require.Equal(t, 1, rows("?action=open"))
	require.Equal(t, 1, rows("?outcome=needs_merchant"))
	require.Equal(t, 1, rows("?code=1735"))
	require.Equal(t, 0, rows("?from=2001-01-01T00:00&to=2001-01-02T00:00"))
	require.Equal(t, 3, rows("?from=2001-01-01T00:00"))
	require.Equal(t, http.StatusUnprocessableEntity, viewer.Get("/audit?code=abc").StatusCode)

	d := viewer.Get("/audit/" + strconv.FormatInt(second.ID, 10))
	require.Equal(t, http.StatusOK, d.StatusCode)
	require.Contains(t, d.Text("#raw"), "1735")
	require.Equal(t, "completed", d.Doc.Find("[data-status]").AttrOr("data-status", ""))
	require.Equal(t, http.StatusNotFound, viewer.Get("/audit/99999999").StatusCode)
	require.Equal(t, http.StatusNotFound, viewer.Get("/audit/abc").StatusCode)

	csvResp := viewer.Get("/audit.csv?appid=" + app)
	require.Equal(t, http.StatusOK, csvResp.StatusCode)
	require.Contains(t, csvResp.Header.Get("Content-Type"), "text/csv")
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvResp.Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, strconv.FormatInt(second.ID, 10), recs[1][0])
	require.Equal(t, strconv.FormatInt(first.ID, 10), recs[2][0])
	require.Equal(t, "1735", recs[1][12])
}

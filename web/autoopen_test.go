package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// autoOpenEnv is a console with its queue running, a ticket, and opening on
// authorization switched as on says.
func autoOpenEnv(t *testing.T, on bool, vars map[string]string, beforeStart ...func(*webtest.Env)) *webtest.Env {
	t.Helper()
	e := webtest.New(t, webtest.Options{Env: vars})
	ctx := context.Background()
	require.NoError(t, e.Sim.PushTicket(ctx))
	if on {
		admin := e.CreateStaff("autoopen-admin", core.RoleAdmin)
		require.NoError(t, e.App.Platform.SetOpenOnAuthorization(ctx, admin, true, core.Meta{ClientIP: "test"}))
	}
	for _, f := range beforeStart {
		f(e)
	}
	jctx, cancel := context.WithCancel(ctx)
	require.NoError(t, e.App.Jobs.Start(jctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
	return e
}

// authorize has WeChat push `authorized` for a new Mini Program (through
// the console's event URL, encrypted); the push's reading of the profile
// brings its refresh token, so nothing else is needed. It returns the event.
func authorize(t *testing.T, e *webtest.Env, a wechatsim.Authorizer) []byte {
	t.Helper()
	ctx := context.Background()
	a.MiniProgram, a.AccountStatus = true, 1
	if a.RefreshToken == "" {
		a.RefreshToken = "refreshtoken@@@" + a.AppID
	}
	ev, err := e.Sim.Authorize(ctx, a)
	require.NoError(t, err, "the push was answered `success`")
	return ev
}

// autoOpenDone waits until the account's auto-open finished and returns its result.
func autoOpenDone(t *testing.T, e *webtest.Env, appID string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var state, result string
		err := e.App.Pool.QueryRow(context.Background(), "SELECT state, result FROM auto_opens WHERE appid = $1", appID).Scan(&state, &result)
		if err == nil && state == "done" {
			return result
		}
		if time.Now().After(deadline) {
			t.Fatalf("auto-open of %s not done within a minute: state %q err %v", appID, state, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type autoAttempt struct {
	Action, Outcome, RequestID string
	StaffID, RunID             *int64
}

func autoAttempts(t *testing.T, e *webtest.Env, appID string) []autoAttempt {
	t.Helper()
	rows, err := e.App.Pool.Query(context.Background(), "SELECT action, outcome, request_id, staff_id, run_id FROM attempts WHERE appid = $1 ORDER BY id", appID)
	require.NoError(t, err)
	defer rows.Close()
	var out []autoAttempt
	for rows.Next() {
		var a autoAttempt
		require.NoError(t, rows.Scan(&a.Action, &a.Outcome, &a.RequestID, &a.StaffID, &a.RunID))
		out = append(out, a)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestOpenOnAuthorizationIsOffByDefault(t *testing.T) {
	t.Parallel()
	e := autoOpenEnv(t, false, nil)
	app := "wx00000000a0ff0001"
	authorize(t, e, wechatsim.Authorizer{AppID: app, NickName: "默认关闭"})
	_, err := e.App.Platform.Sync(context.Background())
	require.NoError(t, err)
	// The auto-open is recorded in the push's own transaction, so none now
	// means none ever: no job, no call.
	require.Zero(t, countRows(t, e, "SELECT count(*) FROM auto_opens"))
	require.Zero(t, countRows(t, e, "SELECT count(*) FROM river_job WHERE kind = 'auto_open'"))
	require.Empty(t, autoAttempts(t, e, app))
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM authorizers WHERE appid = $1 AND is_mini_program AND refresh_token_enc IS NOT NULL", app), "the account itself is there")
}

func TestOpenOnAuthorizationChecksAndOpensOnce(t *testing.T) {
	t.Parallel()
	e := autoOpenEnv(t, true, nil)
	ctx := context.Background()
	app := "wx00000000a0ff0002"
	ev := authorize(t, e, wechatsim.Authorizer{AppID: app, NickName: "自动开通"})
	require.Equal(t, string(traffic.OutcomeSuccess), autoOpenDone(t, e, app))

	got := autoAttempts(t, e, app)
	require.Len(t, got, 2, "a check, then an open")
	for i, action := range []string{"check", "open"} {
		require.Equal(t, action, got[i].Action)
		require.Equal(t, "success", got[i].Outcome)
		require.Nil(t, got[i].StaffID, "made by the system")
		require.Nil(t, got[i].RunID, "not part of a run")
		require.Equal(t, jobs.AutoOpenRequestID, got[i].RequestID)
	}
	require.True(t, e.Sim.Opened(app))
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM authorizer_state WHERE appid = $1 AND state = 'open'", app))

	// WeChat repeats the push (re-encrypted, as it retries), and sends
	// another `authorized` for the same authorization: still one open.
	require.NoError(t, e.Sim.PushEvent(ctx, ev))
	_, err := e.Sim.Authorize(ctx, wechatsim.Authorizer{AppID: app, NickName: "自动开通", MiniProgram: true, RefreshToken: "refreshtoken@@@" + app})
	require.NoError(t, err)
	_, err = e.App.Platform.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM river_job WHERE kind = 'auto_open'"), "no second job")
	require.Equal(t, string(traffic.OutcomeSuccess), autoOpenDone(t, e, app))
	require.Len(t, autoAttempts(t, e, app), 2)
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app))

	// Revoking ends the authorization; authorizing again is a new one, with
	// its own check, and the account, open already, is not opened twice.
	require.NoError(t, e.Sim.Unauthorize(ctx, app))
	authorize(t, e, wechatsim.Authorizer{AppID: app, NickName: "自动开通"})
	require.Equal(t, string(traffic.OutcomeAlreadyDone), autoOpenDone(t, e, app))
	require.Equal(t, 2, e.Sim.Calls(wechatsim.ActionCheck, app))
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app))
	require.Equal(t, 2, countRows(t, e, "SELECT count(*) FROM river_job WHERE kind = 'auto_open'"))

	// The audit says who made them: the system, in both languages.
	c, _ := e.Login(core.RoleViewer)
	r := c.Get("/audit?appid=" + app)
	require.Equal(t, http.StatusOK, r.StatusCode)
	rows := r.Doc.Find("tr[id^=attempt-]")
	require.Equal(t, 3, rows.Length())
	require.Equal(t, 3, rows.Find("[data-by-system]").Length())
	require.Equal(t, "System", r.Text("tr[id^=attempt-] [data-by-system]"))
	id, _ := rows.First().Attr("id")
	d := c.Get("/audit/" + id[len("attempt-"):])
	require.Equal(t, "System", d.Text("[data-by-system]"))
	c.PostForm("/lang", url.Values{"lang": {"zh"}, "next": {"/audit"}})
	r = c.Get("/audit?appid=" + app)
	require.Equal(t, "系统", r.Text("tr[id^=attempt-] [data-by-system]"))
}

// A check that says "cannot open yet" ends the auto-open without an open,
// and so does an open WeChat refuses with 2013; the daily retry of accounts
// below the threshold takes both, and opens them when WeChat allows.
func TestOpenOnAuthorizationBelowThresholdIsLeftToTheDailyRetry(t *testing.T) {
	t.Parallel()
	e := autoOpenEnv(t, true, nil)
	ctx := context.Background()
	notYet, refused := "wx00000000a0ff0003", "wx00000000a0ff0004"
	e.Sim.Script(notYet, wechatsim.ActionCheck, wechatsim.Behavior{Status: 0, Times: 1})
	e.Sim.Script(refused, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 2013, Times: 1})
	authorize(t, e, wechatsim.Authorizer{AppID: notYet, NickName: "访问不足"})
	authorize(t, e, wechatsim.Authorizer{AppID: refused, NickName: "门槛未达"})

	require.Equal(t, jobs.AutoOpenNotEligible, autoOpenDone(t, e, notYet))
	got := autoAttempts(t, e, notYet)
	require.Len(t, got, 1, "the check only")
	require.Equal(t, "check", got[0].Action)
	require.Zero(t, e.Sim.Calls(wechatsim.ActionCreate, notYet))

	require.Equal(t, string(traffic.OutcomeNotYetEligible), autoOpenDone(t, e, refused))
	require.Len(t, autoAttempts(t, e, refused), 2)
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM authorizer_state WHERE appid = $1 AND state = 'below_threshold'", refused))

	// The daily retry picks both up and opens them (WeChat now allows it).
	below, err := (&webtestRuns{e}).belowThreshold(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{notYet, refused}, below)
	out, err := jobs.RetryBelowThreshold(24*time.Hour).Do(ctx, e.App.Jobs)
	require.NoError(t, err)
	require.Contains(t, out, "over 2 accounts")
	runs, err := e.App.Jobs.Runs.List(ctx, 1, 0)
	require.NoError(t, err)
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := e.App.Jobs.Runs.Get(ctx, runs[0].ID)
		require.NoError(t, err)
		if r.Status == jobs.RunFinished {
			require.Equal(t, 2, r.Outcomes[string(traffic.OutcomeSuccess)])
			break
		}
		require.True(t, time.Now().Before(deadline), "the retry run did not finish: %v", r.States)
		time.Sleep(20 * time.Millisecond)
	}
	require.True(t, e.Sim.Opened(notYet))
	require.True(t, e.Sim.Opened(refused))
}

// webtestRuns reads what the daily retry would select, through its store.
type webtestRuns struct{ e *webtest.Env }

func (w *webtestRuns) belowThreshold(ctx context.Context) ([]string, error) {
	return w.e.App.Jobs.Runs.Store.BelowThreshold(ctx)
}

// Opening on authorization takes its calls' slots from the global limiter,
// as a run does: every call one slot, and never more slots in a second than
// the rate.
func TestOpenOnAuthorizationTakesRateSlots(t *testing.T) {
	t.Parallel()
	const rate, accounts = 4, 6
	var mu sync.Mutex
	var slots []time.Time
	e := autoOpenEnv(t, true, map[string]string{"RATE_PER_SECOND": strconv.Itoa(rate)}, func(e *webtest.Env) {
		e.App.Jobs.Limiter.OnReserve = func(slot time.Time) {
			mu.Lock()
			slots = append(slots, slot)
			mu.Unlock()
		}
	})
	var apps []string
	for i := range accounts {
		app := fmt.Sprintf("wx00000000a0ff01%02d", i)
		apps = append(apps, app)
		authorize(t, e, wechatsim.Authorizer{AppID: app, NickName: fmt.Sprintf("限速 %d", i)})
	}
	for _, app := range apps {
		require.Equal(t, string(traffic.OutcomeSuccess), autoOpenDone(t, e, app))
	}
	calls := len(e.Sim.CallLog())
	require.Equal(t, 2*accounts, calls, "a check and an open each")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, slots, calls, "every call took one slot")
	sort.Slice(slots, func(i, j int) bool { return slots[i].Before(slots[j]) })
	for i := range slots {
		n := 0
		for j := i; j < len(slots) && slots[j].Sub(slots[i]) < time.Second; j++ {
			n++
		}
		require.LessOrEqual(t, n, rate, "slots in the second from slot %d", i)
	}
}

func TestOpenOnAuthorizationSetting(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	readers := map[core.Role]*webtest.Client{}
	for _, role := range []core.Role{core.RoleViewer, core.RoleOperator} {
		c, _ := e.Login(role)
		readers[role] = c
		for _, form := range []url.Values{{"on": {"1"}}, {"on": {"1"}, "confirmed": {"1"}}} {
			require.Equal(t, http.StatusForbidden, c.PostForm("/platform/open-on-authorization", form).StatusCode, role)
		}
		// They see the setting, read-only, where runs are.
		r := c.Get("/runs")
		require.Equal(t, "0", r.Doc.Find("#open-on-authorization-note").AttrOr("data-on", ""), role)
		require.Equal(t, 1, r.Doc.Find("#open-on-authorization-note [data-read-only]").Length(), role)
		require.Zero(t, r.Doc.Find("form[action='/platform/open-on-authorization']").Length(), role)
	}
	require.Zero(t, countRows(t, e, "SELECT count(*) FROM platform_settings"))

	c, admin := e.Login(core.RoleAdmin)
	r := c.Get("/platform")
	require.Equal(t, "0", r.Doc.Find("#open-on-authorization").AttrOr("data-on", ""), "off by default")
	require.Equal(t, "Switched off", r.Text("#open-on-authorization [data-setting-state]"))

	// The switch asks first; nothing changes until the confirmation.
	r = c.PostForm("/platform/open-on-authorization", url.Values{"on": {"1"}})
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, 1, r.Doc.Find("#open-on-authorization-confirm-button").Length())
	require.Equal(t, "1", r.Doc.Find("#open-on-authorization-confirm input[name=confirmed]").AttrOr("value", ""))
	require.Zero(t, countRows(t, e, "SELECT count(*) FROM platform_settings"))

	r = c.PostForm("/platform/open-on-authorization", url.Values{"on": {"1"}, "confirmed": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/platform")
	require.Contains(t, r.Text(".flash"), "Opening on authorization is on")
	require.Equal(t, "1", r.Doc.Find("#open-on-authorization").AttrOr("data-on", ""))
	require.Contains(t, r.Text("#open-on-authorization [data-setting-changed]"), admin.Username)
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM security_log WHERE event = 'platform_setting' AND actor_id = $1 AND detail = 'open_on_authorization: on'", admin.ID))
	for role, rc := range readers {
		require.Equal(t, "1", rc.Get("/runs").Doc.Find("#open-on-authorization-note").AttrOr("data-on", ""), role)
	}

	r = c.PostForm("/platform/open-on-authorization", url.Values{"on": {"0"}, "confirmed": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "0", c.Get("/platform").Doc.Find("#open-on-authorization").AttrOr("data-on", ""))
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM security_log WHERE event = 'platform_setting' AND actor_id = $1 AND detail = 'open_on_authorization: off'", admin.ID))
	r = c.Get("/security-log")
	require.Contains(t, r.Body, "Platform setting changed")
}

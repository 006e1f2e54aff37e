package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// A bulk run over 200 accounts, driven over HTTP as staff drive it, paused
// and resumed from its page, with everything real behind it: the accounts
// arrive by sync, every call gets its token from the platform's token manager
// (stored encrypted in Postgres), and WeChat is the simulator.
func TestBulkRunPauseAndResumeOverHTTPWithTheRealTokenManager(t *testing.T) {
	t.Parallel()
	const accounts = 200
	e := webtest.New(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "400", "WORKER_CONCURRENCY": "8"}})
	ctx := context.Background()
	apps := make([]string, accounts)
	for i := range apps {
		apps[i] = fmt.Sprintf("wx00000000%08x", 0xb0000+i)
		e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: apps[i], NickName: fmt.Sprintf("批量 %03d", i), MiniProgram: true})
	}
	require.NoError(t, e.Sim.PushTicket(ctx))
	_, err := e.App.Platform.Sync(ctx)
	require.NoError(t, err)
	_, authBefore := e.Sim.TokenIssues()

	// Every call waits at WeChat until the run has been paused, so the
	// pause always meets a run with accounts left.
	gate := e.Sim.Hold("", wechatsim.ActionCreate)
	t.Cleanup(gate.Release)
	jctx, cancel := context.WithCancel(ctx)
	require.NoError(t, e.App.Jobs.Start(jctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})

	c, op := e.Login(core.RoleOperator)
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Minute)
	defer wcancel()
	waitRun := func(id int64, until func(*jobs.Run) bool) *jobs.Run {
		t.Helper()
		for {
			got, err := e.App.Jobs.Runs.Get(ctx, id)
			require.NoError(t, err)
			if until(got) {
				return got
			}
			if wctx.Err() != nil {
				t.Fatalf("run %d: status %s states %v outcomes %v", id, got.Status, got.States, got.Outcomes)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	start := func(action string) (*jobs.Run, string) {
		t.Helper()
		// The confirmation page's form carries the one-time token; a large
		// opening also asks for the count to be typed.
		confirm := c.PostForm("/runs", url.Values{"action": {action}})
		form := formValues(confirm.Doc.Find(`form[action="/runs"]`))
		require.NotEmpty(t, form.Get("token"), confirm.Body)
		form.Set("typed_count", form.Get("count"))
		r := c.PostForm("/runs", form)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
		loc := r.Header.Get("Location")
		require.True(t, strings.HasPrefix(loc, "/runs/"), loc)
		runs, err := e.App.Jobs.Runs.List(ctx, 1, 0)
		require.NoError(t, err)
		require.Len(t, runs, 1)
		require.Equal(t, loc, fmt.Sprintf("/runs/%d", runs[0].ID))
		require.Equal(t, accounts, runs[0].Total)
		return runs[0], loc
	}

	// First every account is checked (the gate holds only openings).
	checked, _ := start("check")
	checked = waitRun(checked.ID, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished })
	require.Equal(t, accounts, checked.Outcomes[string(traffic.OutcomeSuccess)], "outcomes %v", checked.Outcomes)

	// Then opened, paused and resumed from the run's page.
	run, loc := start("open")
	require.NoError(t, gate.WaitArrived(wctx, 1))
	page := c.Get(loc)
	require.Equal(t, "running", page.Doc.Find("#run-status").AttrOr("data-status", ""))
	pause, ok := page.Doc.Find(`form[action$="/pause"]`).Attr("action")
	require.True(t, ok, "a running run offers Pause")
	require.Equal(t, loc+"/pause", pause)
	r := c.PostForm(pause, nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, loc, r.Header.Get("Location"))
	gate.Release()

	paused := waitRun(run.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemCalling] == 0 })
	require.Equal(t, jobs.RunPaused, paused.Status)
	require.Positive(t, paused.States[traffic.ItemPending], "the paused run has accounts left")
	calledAtPause := opens(e)
	require.Less(t, calledAtPause, accounts)
	page = c.Get(loc)
	require.Contains(t, page.Text(".flash"), "Run paused.")
	require.Equal(t, "paused", page.Doc.Find("#run-status").AttrOr("data-status", ""))
	require.Zero(t, page.Doc.Find(`form[action$="/pause"]`).Length())
	resume, ok := page.Doc.Find(`form[action$="/resume"]`).Attr("action")
	require.True(t, ok, "a paused run offers Resume")
	require.Equal(t, calledAtPause, opens(e), "nothing is called while paused")

	r = c.PostForm(resume, nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Contains(t, c.Get(loc).Text(".flash"), "Run resumed.")
	done := waitRun(run.ID, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished })
	require.Equal(t, accounts, done.Outcomes[string(traffic.OutcomeSuccess)], "outcomes %v", done.Outcomes)
	require.Equal(t, "finished", c.Get(loc).Doc.Find("#run-status").AttrOr("data-status", ""))

	// Each account was checked once and opened once, with one token the
	// manager fetched for its first call and reused for the second.
	for _, app := range apps {
		require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCheck, app), app)
		require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app), app)
		require.True(t, e.Sim.Opened(app), app)
	}
	_, authAfter := e.Sim.TokenIssues()
	require.Equal(t, accounts, authAfter-authBefore, "one authorizer token per account, reused by both runs")
	var stored, audited int
	require.NoError(t, e.App.Pool.QueryRow(ctx, `SELECT count(*) FROM authorizer_tokens`).Scan(&stored))
	require.Equal(t, accounts, stored, "the tokens are kept in Postgres for every instance")
	require.NoError(t, e.App.Pool.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE run_id = $1 AND staff_id = $2 AND status = 'completed' AND outcome = 'success'`, run.ID, op.ID).Scan(&audited))
	require.Equal(t, accounts, audited)
}

// opens counts the openings that reached WeChat.
func opens(e *webtest.Env) int {
	n := 0
	for _, c := range e.Sim.CallLog() {
		if c.Action == wechatsim.ActionCreate {
			n++
		}
	}
	return n
}

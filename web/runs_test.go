package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func TestBulkRunFromFilterToAudit(t *testing.T) {
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
	for range 5 {
		ids = append(ids, e.addAccount(t, account{}))
	}
	_, err := e.App.Pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE appid = $1`, ids[0])
	require.NoError(t, err)
	c, op := e.Login(core.RoleOperator)

	r := c.PostForm("/runs", url.Values{"action": {"open"}})
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("#confirm-count"), "5")
	require.Equal(t, 0, len(e.Sim.CallLog()), "nothing is called before the confirmation")

	r = c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`)))
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	loc := r.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/runs/"), loc)

	deadline := time.Now().Add(30 * time.Second)
	var run *jobs.Run
	for {
		runs, err := e.App.Jobs.Runs.List(ctx, 10, 0)
		require.NoError(t, err)
		require.Len(t, runs, 1)
		if run = runs[0]; run.Status == jobs.RunFinished || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, jobs.RunFinished, run.Status)
	require.Equal(t, 4, run.Outcomes[string(traffic.OutcomeSuccess)])
	require.Equal(t, 1, run.States[traffic.ItemSkipped])

	page := c.Get(loc)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, 4+1, page.Doc.Find("#run-items tbody tr").Length())
	prog := c.Get(loc + "/progress")
	_, polling := prog.Doc.Find("#run-progress").Attr("hx-get")
	require.False(t, polling, "a finished run stops polling")

	var n int
	require.NoError(t, e.App.Pool.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE run_id = $1 AND staff_id = $2 AND status = 'completed'`, run.ID, op.ID).Scan(&n))
	require.Equal(t, 4, n)
	for _, id := range ids[1:] {
		require.Equal(t, 1, e.Sim.Calls("agency_create_publisher", id))
	}

	list := c.Get("/runs")
	require.Contains(t, list.Text("#runs tbody tr"), op.Username)
	refused := c.PostForm(loc+"/cancel", nil)
	require.Equal(t, http.StatusSeeOther, refused.StatusCode)
	require.Equal(t, loc, refused.Header.Get("Location"))
	shown := c.Get(loc)
	require.Contains(t, shown.Text(".flash"), "Only a running or paused run can be cancelled.", "a finished run refuses with a message")
	require.Equal(t, jobs.RunFinished, e.runStatus(t, run.ID), "and stays finished")
	refused = c.PostForm(loc+"/resume", nil)
	require.Equal(t, http.StatusSeeOther, refused.StatusCode)
	require.Contains(t, c.Get(loc).Text(".flash"), "Only a paused run can be resumed.")

	v, _ := e.Login(core.RoleViewer)
	require.Equal(t, http.StatusOK, v.Get(loc).StatusCode)
	require.Equal(t, http.StatusForbidden, v.PostForm("/runs", url.Values{"action": {"open"}, "confirm": {"1"}}).StatusCode)
	require.Equal(t, http.StatusForbidden, v.Get("/jobs").StatusCode)
	a, _ := e.Login(core.RoleAdmin)
	jp := a.Get("/jobs")
	require.Equal(t, http.StatusOK, jp.StatusCode)
	require.Equal(t, 1, jp.Doc.Find(`#schedules tr[data-name="retry_below_threshold"]`).Length())
}

func TestBulkSelectionFromTheMiniProgramsPage(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	for range 3 {
		e.addAccount(t, account{})
	}
	e.addAccount(t, account{Status: 16, Name: "被封禁的小程序"})
	e.addAccount(t, account{Official: true, Name: "公众号"})

	viewer, _ := e.Login(core.RoleViewer)
	r := viewer.Get("/")
	require.Zero(t, r.Doc.Find("form#bulk, input[name=appid]").Length(), "viewers get no selection")

	c, _ := e.Login(core.RoleOperator)
	r = c.Get("/")
	require.Equal(t, 1, r.Doc.Find("form#bulk").Length())
	boxes := r.Doc.Find(`input[type=checkbox][name=appid][form=bulk]`)
	require.Equal(t, 4, boxes.Length(), "the Official Account cannot be selected")
	picked := url.Values{"action": {"check"}}
	boxes.Slice(0, 2).Each(func(_ int, s *goquery.Selection) { picked.Add("appid", s.AttrOr("value", "")) })
	r = c.PostForm("/runs", picked)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("#confirm-count"), "for 2 Mini Programs")
	require.Equal(t, 2, r.Doc.Find(`input[type=hidden][name=appid]`).Length(), "the confirmation carries the selection")

	// Nothing selected: everything matching the page's filter, account status included.
	r = c.PostForm("/runs", url.Values{"action": {"check"}, "status": {"normal"}})
	require.Contains(t, r.Text("#confirm-count"), "for 3 Mini Programs")
	r = c.PostForm("/runs", url.Values{"action": {"check"}, "status": {"abnormal"}})
	require.Contains(t, r.Text("#confirm-count"), "for 1 Mini Programs")
	require.Empty(t, e.Sim.CallLog(), "nothing is called before the confirmation")
}

func (e *trafficEnv) runStatus(t *testing.T, id int64) jobs.RunStatus {
	t.Helper()
	r, err := e.App.Jobs.Runs.Get(context.Background(), id)
	require.NoError(t, err)
	return r.Status
}

package web_test

import (
	"context"
	"fmt"
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
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// amsEnv is a console with n synced Mini Programs whose traffic master is
// open (at WeChat and in the console), one that is not, and running workers.
func amsEnv(t *testing.T, n int) (*webtest.Env, []string, string) {
	t.Helper()
	e := webtest.New(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "200"}})
	ctx := context.Background()
	var opened []string
	for i := range n {
		id := fmt.Sprintf("wx00000000000a%04x", i)
		opened = append(opened, id)
		e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: fmt.Sprintf("广告 %02d", i), MiniProgram: true})
		e.Sim.MarkOpened(id, time.Now().AddDate(0, -1, 0))
	}
	closed := "wx00000000000affff"
	e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: closed, NickName: "未开通", MiniProgram: true})
	require.NoError(t, e.Sim.PushTicket(ctx))
	_, err := e.App.Platform.Sync(ctx)
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE appid = ANY($1)`, opened)
	require.NoError(t, err)
	jctx, cancel := context.WithCancel(ctx)
	require.NoError(t, e.App.Jobs.Start(jctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
	return e, opened, closed
}

// amsFormValues reads the fields of the form sel as the browser would submit them.
func amsFormValues(doc *goquery.Document, sel string) url.Values {
	v := url.Values{}
	doc.Find(sel + " input").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if name == "" {
			return
		}
		if typ, _ := s.Attr("type"); typ == "checkbox" || typ == "radio" {
			if _, on := s.Attr("checked"); !on {
				return
			}
		}
		val, _ := s.Attr("value")
		v.Add(name, val)
	})
	return v
}

func TestBulkAdOperationFormConfirmAndRun(t *testing.T) {
	t.Parallel()
	e, opened, closed := amsEnv(t, 6)
	op, _ := e.Login(core.RoleOperator)
	sel := url.Values{"appid": append(append([]string{}, opened...), closed)}

	// From the Mini Programs page: the form, over the rows selected.
	r := op.PostForm("/runs/ams", sel)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("#ams-run-count"), "7 Mini Programs selected")
	require.Equal(t, 6, r.Doc.Find(`#ams-run fieldset.op-choice`).Length())

	// Settings WeChat would refuse are caught once, beside their field.
	bad := amsFormValues(r.Doc, "#ams-run")
	bad.Set("op", "unit_create")
	bad.Set("unit_slot", wechat.SlotRewardVideo)
	bad.Set("unit_name", "激励视频")
	bad.Set("video_min", "6")
	bad.Set("video_max", "20")
	r = op.PostForm("/runs/ams", bad)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Text("#f-video_max-error"), "15, 30 or 60")
	require.Equal(t, "true", r.Doc.Find("#f-video_max").AttrOr("aria-invalid", ""))
	bad.Set("video_max", "30")
	bad.Set("unit_name", "")
	r = op.PostForm("/runs/ams", bad)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.NotEmpty(t, r.Text("#f-unit_name-error"))

	// Good settings: the confirmation says what, to how many, how fast.
	bad.Set("unit_name", "激励视频")
	r = op.PostForm("/runs/ams", bad)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "Create ad unit “激励视频”: Rewarded video, videos of 6 to 30 seconds", r.Text("#confirm-op"))
	require.Equal(t, "7 Mini Programs, at 200 calls per second: about 1 s.", r.Text("#confirm-count"))
	confirm := amsFormValues(r.Doc, `form[action="/runs/ams"]`)
	require.Equal(t, "1", confirm.Get("confirm"))

	r = op.PostForm("/runs/ams", confirm)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	loc := r.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/runs/"), loc)
	// Submitting the confirmation again leads to the same run.
	r = op.PostForm("/runs/ams", confirm)
	require.Equal(t, loc, r.Header.Get("Location"))
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/runs/"), 10, 64)
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		run, err := e.App.Jobs.Runs.Get(context.Background(), id)
		require.NoError(t, err)
		return run.Status == jobs.RunFinished
	}, time.Minute, 50*time.Millisecond)
	page := op.Get(loc)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Contains(t, page.Text("h1"), "Create ad unit “激励视频”: Rewarded video")
	require.Equal(t, "finished", page.Doc.Find("#run-status").AttrOr("data-status", ""))
	require.Equal(t, "6", page.Text(`[data-stat=called] b`))
	require.Equal(t, "1", page.Text(`[data-stat=skipped] b`), "the account not open is skipped")
	for _, id := range opened {
		require.Equal(t, 1, e.Sim.Calls(wechat.ActionCreateAdUnit, id), id)
	}
	require.Zero(t, e.Sim.Calls(wechat.ActionCreateAdUnit, closed))
	// The account's page lists the run with what it did there.
	acct := op.Get("/apps/" + opened[0])
	require.Equal(t, "Create ad unit", strings.TrimSpace(acct.Doc.Find("#run-"+strconv.FormatInt(id, 10)+" td").Eq(2).Text()))
	// The audit's run filter, with the operation's action, finds its attempts.
	audit := op.Get(fmt.Sprintf("/audit?run=%d&action=unit_create", id))
	require.Equal(t, http.StatusOK, audit.StatusCode)
	require.Equal(t, 6, audit.Doc.Find("#attempts tbody tr").Length())

	// The same in Chinese.
	op.PostForm("/lang", url.Values{"lang": {"zh"}, "next": {loc}})
	page = op.Get(loc)
	require.Contains(t, page.Text("h1"), "创建广告单元“激励视频”：激励视频")
}

func TestBulkAdOperationIsForOperators(t *testing.T) {
	t.Parallel()
	e, opened, _ := amsEnv(t, 1)
	viewer, _ := e.Login(core.RoleViewer)
	vals := url.Values{"appid": opened, "step": {"settings"}, "op": {"cover_status"}, "cover_on": {"0"}}
	r := viewer.PostForm("/runs/ams", vals)
	require.Equal(t, http.StatusForbidden, r.StatusCode)
	vals.Set("confirm", "1")
	vals.Set("token", "t")
	vals.Set("count", "1")
	vals.Set("params", `{"on":false}`)
	r = viewer.PostForm("/runs/ams", vals)
	require.Equal(t, http.StatusForbidden, r.StatusCode)
	runs, err := e.App.Jobs.Runs.List(context.Background(), 10, 0)
	require.NoError(t, err)
	require.Empty(t, runs)
	// The list offers the ad operations to operators only.
	require.Zero(t, viewer.Get("/").Doc.Find("[data-ams-run]").Length())
	op, _ := e.Login(core.RoleOperator)
	require.Equal(t, 1, op.Get("/").Doc.Find("[data-ams-run]").Length())
}

// TestBulkAdOperationOverTheFilter: "all matching the filter" takes the rows
// the list shows for it, through the form and the confirmation to the run.
func TestBulkAdOperationOverTheFilter(t *testing.T) {
	t.Parallel()
	e, opened, _ := amsEnv(t, 5)
	op, _ := e.Login(core.RoleOperator)
	list := op.Get("/?state=open")
	require.Equal(t, len(opened), list.Doc.Find(`#apps input[name=appid]`).Length())
	r := op.PostForm("/runs/ams", url.Values{"all": {"1"}, "state": {"open"}, "appid": {opened[0]}})
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("#ams-run-count"), "5 Mini Programs selected", "all matching wins over the rows ticked")
	v := amsFormValues(r.Doc, "#ams-run")
	v.Set("op", "cover_status")
	v.Set("cover_on", "0")
	r = op.PostForm("/runs/ams", v)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "Switch cover ads off", r.Text("#confirm-op"))
	confirm := amsFormValues(r.Doc, `form[action="/runs/ams"]`)
	require.Equal(t, "5", confirm.Get("count"))
	r = op.PostForm("/runs/ams", confirm)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	id, err := strconv.ParseInt(strings.TrimPrefix(r.Header.Get("Location"), "/runs/"), 10, 64)
	require.NoError(t, err)
	run, err := e.App.Jobs.Runs.Get(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, 5, run.Total)
	require.Equal(t, "state=open", run.Description)
}

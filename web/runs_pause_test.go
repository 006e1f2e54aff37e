package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// TestRunPausedByPlatformWideErrorSaysWhy: the platform's server IP is not
// on WeChat's allow-list (61004). The run pauses itself and its page says
// why, with what to do, in the reader's language.
func TestRunPausedByPlatformWideErrorSaysWhy(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "100", "WORKER_CONCURRENCY": "1"}})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, e.App.Jobs.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
	var ids []string
	for range 6 {
		id := e.addAccount(t, account{})
		e.Sim.Script(id, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 61004, Shape: "errcode"})
		ids = append(ids, id)
	}
	_, op := e.Login(core.RoleOperator)
	run, err := e.App.Jobs.Runs.Create(ctx, op, traffic.ActionOpen, ids, "test")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r, err := e.App.Jobs.Runs.Get(ctx, run.ID)
		require.NoError(t, err)
		return r.Status == jobs.RunPaused && r.States[traffic.ItemCalling] == 0
	}, 30*time.Second, 50*time.Millisecond)
	require.Less(t, len(e.Sim.CallLog()), len(ids), "the run does not burn through every account")

	c, _ := e.Login(core.RoleViewer)
	page := c.Get("/runs/" + itoa(run.ID))
	require.Equal(t, http.StatusOK, page.StatusCode)
	banner := page.Doc.Find("#run-paused")
	require.Equal(t, 1, banner.Length())
	require.Equal(t, "61004", banner.AttrOr("data-code", ""))
	require.Contains(t, banner.Text(), "paused itself")
	require.Contains(t, banner.Text(), "allow-list")

	cz := c
	cz.Header = http.Header{"Accept-Language": {"zh-CN,zh;q=0.9"}}
	zpage := cz.Get("/runs/" + itoa(run.ID) + "/progress")
	require.Contains(t, zpage.Doc.Find("#run-paused").Text(), "任务已自动暂停")
	require.Contains(t, zpage.Doc.Find("#run-paused").Text(), "白名单")
}

package web_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// waitSchedule waits until the latest queue job of the named schedule completed
// and returns its summary.
func waitSchedule(t *testing.T, e *webtest.Env, name string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var state, output string
		err := e.App.Pool.QueryRow(context.Background(), `SELECT state, coalesce(metadata->>'output', '') FROM river_job
			WHERE kind = 'schedule' AND args->>'name' = $1 ORDER BY id DESC LIMIT 1`, name).Scan(&state, &output)
		if err == nil && state == "completed" {
			return output
		}
		if time.Now().After(deadline) {
			t.Fatalf("schedule %s: not completed (state %q, err %v)", name, state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The scheduled work of a started console: the authorizer sync brings in an
// account that authorized since the last sync, and the token refresh renews
// exactly the tokens that expire within the refresh margin (ahead of the 5
// minutes a call needs) and that a call used within their last lifetime,
// leaving the others alone; its renewal is not a use.
// Both run once at start, then every period; the Jobs page lists them.
func TestScheduledSyncAndTokenRefresh(t *testing.T) {
	t.Parallel()
	e := webtest.New(t, webtest.Options{Env: map[string]string{"SYNC_INTERVAL": "17m"}})
	ctx := context.Background()
	apps := map[string]string{}
	for i, name := range []string{"soon", "later", "fresh", "idle"} {
		apps[name] = fmt.Sprintf("wx00000000000d%04d", i)
		syncAccount(t, e, wechatsim.Authorizer{AppID: apps[name], NickName: name, MiniProgram: true})
	}
	type stored struct{ ExpiresAt, RefreshedAt, UsedAt time.Time }
	read := func(app string) (st stored) {
		t.Helper()
		require.NoError(t, e.App.Pool.QueryRow(ctx, `SELECT expires_at, refreshed_at, used_at FROM authorizer_tokens WHERE appid = $1`, app).Scan(&st.ExpiresAt, &st.RefreshedAt, &st.UsedAt))
		return st
	}
	before := map[string]stored{}
	for name, app := range apps {
		_, err := e.App.TokenManager.AuthorizerAccessToken(ctx, app)
		require.NoError(t, err)
		expires := map[string]string{"soon": "10 minutes", "later": "60 minutes", "fresh": "110 minutes", "idle": "10 minutes"}[name]
		// The idle one's last call was three hours ago, past its lifetime;
		// the one expiring soon was used half an hour ago.
		used := map[string]string{"idle": "3 hours", "soon": "30 minutes"}[name]
		_, err = e.App.Pool.Exec(ctx, `UPDATE authorizer_tokens SET expires_at = now() + $2::interval, used_at = now() - $3::interval WHERE appid = $1`,
			app, expires, cmp.Or(used, "0 seconds"))
		require.NoError(t, err)
		before[name] = read(app)
	}
	// A Mini Program authorizes while the console is down.
	newcomer := "wx00000000000d0099"
	e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: newcomer, NickName: "新来的", MiniProgram: true})
	_, issuedBefore := e.Sim.TokenIssues()

	jctx, cancel := context.WithCancel(ctx)
	require.NoError(t, e.App.Jobs.Start(jctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})

	require.Equal(t, "1 authorizer tokens refreshed", waitSchedule(t, e, "token_refresh"))
	after := map[string]stored{}
	for name, app := range apps {
		after[name] = read(app)
	}
	require.True(t, after["soon"].RefreshedAt.After(before["soon"].RefreshedAt), "the token expiring within the margin is renewed")
	require.True(t, after["soon"].ExpiresAt.After(time.Now().Add(time.Hour)), "for a full lifetime: %s", after["soon"].ExpiresAt)
	require.Equal(t, before["soon"].UsedAt, after["soon"].UsedAt, "renewed, not used")
	for _, name := range []string{"later", "fresh", "idle"} {
		require.Equal(t, before[name], after[name], name)
	}
	// A call uses the token: the idle one is renewed ahead again from then on.
	_, err := e.App.TokenManager.AuthorizerAccessToken(ctx, apps["idle"])
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), read(apps["idle"]).UsedAt, time.Minute, "used now")
	_, issuedAfter := e.Sim.TokenIssues()
	require.Equal(t, 1, issuedAfter-issuedBefore, "one token was asked of WeChat")

	require.NotEmpty(t, waitSchedule(t, e, "authorizer_sync"))
	require.Equal(t, "0 month partitions created", waitSchedule(t, e, "attempt_months"), "the migration made the window; the daily run keeps it")
	var name string
	require.NoError(t, e.App.Pool.QueryRow(ctx, `SELECT nick_name FROM authorizers WHERE appid = $1`, newcomer).Scan(&name))
	require.Equal(t, "新来的", name, "the sync ran on start")

	// The schedules, their periods and their last runs are on the Jobs page.
	list, err := e.App.Jobs.Schedules(ctx)
	require.NoError(t, err)
	every := map[string]time.Duration{}
	last := map[string]string{}
	for _, s := range list {
		every[s.Name] = s.Every
		last[s.Name] = s.LastState
	}
	require.Equal(t, map[string]time.Duration{"retry_below_threshold": 24 * time.Hour, "authorizer_sync": 17 * time.Minute, "token_refresh": 5 * time.Minute, "attempt_months": 24 * time.Hour, "revenue_daily": 6 * time.Hour, "revenue_state_fold": 10 * time.Second, "revenue_principals": 24 * time.Hour}, every)
	require.Equal(t, "completed", last["token_refresh"])
	require.Equal(t, "completed", last["authorizer_sync"])
	admin, _ := e.Login(core.RoleAdmin)
	page := admin.Get("/jobs")
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Contains(t, page.Text(`#schedules tr[data-name="token_refresh"]`), "1 authorizer tokens refreshed")
}

package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// queueAutoOpen records an auto-open in state and queues its job in the
// same transaction, as the platform store does.
func (e *env) queueAutoOpen(c *jobs.Client, appID, state string) {
	e.t.Helper()
	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	require.NoError(e.t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, "INSERT INTO auto_opens (appid, state, authorized_at, queued_at) VALUES ($1, $2, now(), now())", appID, state)
	require.NoError(e.t, err)
	require.NoError(e.t, c.QueueAutoOpen(ctx, tx, appID))
	require.NoError(e.t, tx.Commit(ctx))
}

func (e *env) autoOpenResult(appID string) (result string, tries int) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var state string
		err := e.pool.QueryRow(context.Background(), "SELECT state, result, tries FROM auto_opens WHERE appid = $1", appID).Scan(&state, &result, &tries)
		require.NoError(e.t, err)
		if state == "done" {
			return result, tries
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("auto-open of %s still %s after a minute", appID, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The auto-open job retries what WeChat asks to retry, never calls again
// after a claimed open whose outcome nobody knows, and calls nothing for an
// account that left, is already open (beyond the check), or when the
// setting was switched off before its turn.
func TestAutoOpenJob(t *testing.T) {
	t.Parallel()
	e := setup(t, 6)
	ctx := context.Background()
	_, err := e.pool.Exec(ctx, "INSERT INTO platform_settings (component_appid, open_on_authorization) VALUES ($1, true)", componentAppID)
	require.NoError(t, err)
	c := e.worker(1000, 4, func(cfg *jobs.Config) {
		cfg.AutoOpens = &postgres.PlatformStore{Pool: cfg.Pool}
		cfg.MaxTries = 3
	})
	e.start(c)
	retried, crashed, left, stubborn, open, late := e.apps[0], e.apps[1], e.apps[2], e.apps[3], e.apps[4], e.apps[5]
	e.sim.Script(retried, wechatsim.ActionCheck, wechatsim.Behavior{Ret: -202, Times: 1})
	e.sim.Script(stubborn, wechatsim.ActionCreate, wechatsim.Behavior{Ret: -202})
	_, err = e.pool.Exec(ctx, "UPDATE authorizers SET revoked_at = now() WHERE appid = $1", left)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, "INSERT INTO authorizer_state (appid, state) VALUES ($1, 'open') ON CONFLICT (appid) DO UPDATE SET state = 'open'", open)
	require.NoError(t, err)

	e.queueAutoOpen(c, retried, "queued")
	e.queueAutoOpen(c, crashed, "opening")
	e.queueAutoOpen(c, left, "queued")
	e.queueAutoOpen(c, stubborn, "queued")
	e.queueAutoOpen(c, open, "queued")

	res, tries := e.autoOpenResult(retried)
	require.Equal(t, string(traffic.OutcomeSuccess), res)
	require.Equal(t, 3, tries, "the check again after -202, then the open")
	require.Equal(t, 2, e.sim.Calls(wechatsim.ActionCheck, retried))
	require.Equal(t, 1, e.sim.Calls(wechatsim.ActionCreate, retried))

	res, _ = e.autoOpenResult(crashed)
	require.Equal(t, string(traffic.OutcomeInterrupted), res)
	require.Zero(t, e.callsPerApp()[crashed], "a claimed open may have reached WeChat: never again")

	res, _ = e.autoOpenResult(left)
	require.Equal(t, jobs.AutoOpenRevoked, res)
	require.Zero(t, e.callsPerApp()[left])

	res, tries = e.autoOpenResult(stubborn)
	require.Equal(t, string(traffic.OutcomeRetryable), res)
	require.Equal(t, 3, tries, "bounded by MaxTries")
	require.Equal(t, 2, e.sim.Calls(wechatsim.ActionCreate, stubborn))

	res, _ = e.autoOpenResult(open)
	require.Equal(t, string(traffic.OutcomeAlreadyDone), res)
	require.Equal(t, 1, e.sim.Calls(wechatsim.ActionCheck, open))
	require.Zero(t, e.sim.Calls(wechatsim.ActionCreate, open), "nothing beyond the check")

	_, err = e.pool.Exec(ctx, "UPDATE platform_settings SET open_on_authorization = false")
	require.NoError(t, err)
	e.queueAutoOpen(c, late, "queued")
	res, _ = e.autoOpenResult(late)
	require.Equal(t, jobs.AutoOpenSwitchedOff, res)
	require.Zero(t, e.callsPerApp()[late])

	// Every call was the system's, outside any run.
	var withStaff int
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM attempts WHERE staff_id IS NOT NULL OR run_id IS NOT NULL OR request_id <> $1", jobs.AutoOpenRequestID).Scan(&withStaff))
	require.Zero(t, withStaff)
}

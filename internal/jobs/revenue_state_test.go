package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// The fold of state changes runs on the queue and leaves every account
// counted under its state now, with no move left.
func TestRevenueStateFoldSchedule(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	ctx := context.Background()
	_, err := e.pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE appid = $1`, e.apps[0])
	require.NoError(t, err)
	var moves int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(DISTINCT appid) FROM revenue_state_moves`).Scan(&moves))
	require.Equal(t, 1, moves, "one account opened")

	fold := jobs.RevenueStateFold(time.Minute, &postgres.RevenueStore{Pool: e.pool, ComponentAppID: componentAppID})
	require.Equal(t, "revenue_state_fold", fold.Name)
	fold.RunOnStart = true
	e.start(e.worker(100, 1, func(cfg *jobs.Config) { cfg.Schedules = []jobs.Schedule{fold} }))
	require.Equal(t, "1 accounts moved to another state", e.waitJob("revenue_state_fold", time.Minute))

	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM revenue_state_moves`).Scan(&moves))
	require.Zero(t, moves)
	var state string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT state FROM revenue_state_members WHERE appid = $1`, e.apps[0]).Scan(&state))
	require.Equal(t, "open", state)
}

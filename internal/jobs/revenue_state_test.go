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
// counted under its state now, with no move left; it folds the three
// authorizers added too.
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
	require.Equal(t, "1 accounts moved to another state, 3 authorizers added or renamed, 0 days summed per principal", e.waitJob("revenue_state_fold", time.Minute))

	require.NoError(t, e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM revenue_state_moves) + (SELECT count(*) FROM revenue_principal_moves)`).Scan(&moves))
	require.Zero(t, moves)
	var state string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT state FROM revenue_state_members WHERE appid = $1`, e.apps[0]).Scan(&state))
	require.Equal(t, "open", state)
}

// The choice of the principals kept runs on the queue: two accounts of
// 花间有限公司 and one of 山川有限公司 keep the 21 parts of 花间有限公司 in two
// groups (those held by both names, 有限公司's 10, select all three).
func TestRevenuePrincipalsSchedule(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	ctx := context.Background()
	_, err := e.pool.Exec(ctx, `UPDATE authorizers SET principal_name = CASE WHEN appid = $1 THEN '山川有限公司' ELSE '花间有限公司' END`, e.apps[0])
	require.NoError(t, err)

	choose := jobs.RevenuePrincipals(time.Minute, &postgres.RevenueStore{Pool: e.pool, ComponentAppID: componentAppID, FewAccounts: 1})
	require.Equal(t, "revenue_principals", choose.Name)
	choose.RunOnStart = true
	e.start(e.worker(100, 1, func(cfg *jobs.Config) { cfg.Schedules = []jobs.Schedule{choose} }))
	require.Equal(t, "21 texts of principals kept in 2 groups", e.waitJob("revenue_principals", time.Minute))
	var members int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM revenue_principal_members m JOIN revenue_principal_terms t
		ON t.term = '花间' AND t.canon = m.canon`).Scan(&members))
	require.Equal(t, 2, members)
}

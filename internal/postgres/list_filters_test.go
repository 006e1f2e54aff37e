package postgres_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// The list filtered by a rare account status (abnormal: about one generated
// account in fifty) in name order, or by a rare state (not eligible: one in
// thirty) most recent first, reads the rows of its page, not an index of the
// whole list with every other class or state skipped (at 5,000 accounts
// about 1,100 and 800 rows for a page of 20 past the first; at a million
// 2,600 and 1,500 for a page of 50), on the first page, a later one and back.
func TestListOfARareFilterReadsItsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, postgres.Generate(ctx, pool, 5_000, 10_000, io.Discard))
	tracer := &allQueries{}
	tpool := tracedPool(t, pool.Config().ConnString(), tracer, 0)
	store := &postgres.TrafficStore{Pool: tpool}

	bounded := func(label string) {
		t.Helper()
		sqls, args := tracer.take()
		require.NotEmpty(t, sqls)
		for i, sql := range sqls {
			plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args[i], label)
			read := listRead(plan)
			assert.LessOrEqual(t, read, 250.0, "%s: statement %d reads %v rows:\n%s\n%s", label, i, read, sql, outline(plan, 0))
		}
	}
	for _, f := range []postgres.AccountFilter{
		{Status: "abnormal"},
		{State: traffic.StateNotEligible, Sort: "recent"},
	} {
		label := fmt.Sprintf("%+v", f)
		f.Limit = 20
		first, err := store.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		bounded(label + " first page")
		require.Len(t, first.Accounts, 20, label)
		require.Greater(t, first.Matching, 60, label)
		for _, a := range first.Accounts {
			if f.Status != "" {
				require.NotEqual(t, 1, a.AccountStatus, "%s: %s is abnormal", label, a.AppID)
			} else {
				require.Equal(t, f.State, a.State, "%s: %s", label, a.AppID)
			}
		}
		f.After, f.Pos = first.Next, 21
		second, err := store.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		bounded(label + " second page")
		require.Len(t, second.Accounts, 20, label)
		require.Equal(t, 21, second.Start, label)
		f.After, f.Before, f.Pos = "", second.Prev, 20
		back, err := store.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		bounded(label + " back")
		require.Equal(t, first.Accounts, back.Accounts, label)
	}
}

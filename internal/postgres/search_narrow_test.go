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
)

// A narrow query made of broad characters (花间日记 1: each of its
// characters in one generated account in sixteen or more, the query in about
// one in 2,300) is read through the bigram index, not by walking its first
// character's entries in name order looking for matches that are not there:
// here the walk read all 1,500 entries of 花 and their list rows, at a million
// accounts 10,000 of each (0.2-0.5 s). No statement reads more than 600 rows
// or index entries of the list's tables, and the page and its counts are the
// exact search's. A broad character beside a rare status (花间, abnormal) gives
// the exact search's page and counts too.
func TestNarrowSearchOfBroadCharactersSkipsTheWalk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, postgres.Generate(ctx, pool, 24_000, 0, io.Discard))
	tracer := &allQueries{}
	tpool := tracedPool(t, pool.Config().ConnString(), tracer, 0)
	capped := &postgres.TrafficStore{Pool: tpool, SearchCap: 50}
	exact := &postgres.TrafficStore{Pool: pool, SearchCap: 1_000_000}

	appids := func(p *postgres.AccountPage) []string {
		var s []string
		for _, a := range p.Accounts {
			s = append(s, a.AppID)
		}
		return s
	}
	for _, c := range []struct {
		f       postgres.AccountFilter
		bounded bool
	}{
		{postgres.AccountFilter{Q: "花间日记 1"}, true},
		{postgres.AccountFilter{Q: "花间日记 1", Status: "normal"}, true},
		{postgres.AccountFilter{Q: "花间", Status: "abnormal"}, false},
	} {
		f := c.f
		label := fmt.Sprintf("%+v", f)
		f.Limit = 50
		got, err := capped.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		sqls, args := tracer.take()
		if c.bounded {
			for i, sql := range sqls {
				plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args[i], label)
				read := listRead(plan)
				assert.LessOrEqual(t, read, 600.0, "%s: statement %d reads %v rows:\n%s\n%s", label, i, read, sql, outline(plan, 0))
			}
		}
		want, err := exact.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		require.NotEmpty(t, want.Accounts, label)
		require.Less(t, want.Total, 50, "%s is narrow", label)
		require.False(t, got.Capped, label)
		require.Equal(t, appids(want), appids(got), label)
		require.Equal(t, want.Counts, got.Counts, label)
		sc, err := capped.CountStates(ctx, f)
		require.NoError(t, err, label)
		require.Equal(t, want.Counts, sc.Counts, label)
	}
}

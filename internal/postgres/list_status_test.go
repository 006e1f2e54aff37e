package postgres_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// The list filtered by a rare account status (abnormal: about one generated
// account in fifty) reads the rows of its page, not the name index with
// every other class skipped (about 1,100 rows for a page of 20 past the
// first at 5,000 accounts; 2,600 for a page of 50 at a million), on the
// first page, a later one and back.
func TestListOfARareStatusReadsItsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, postgres.Generate(ctx, pool, 5_000, 0, io.Discard))
	tracer := &allQueries{}
	cfg, err := pgxpool.ParseConfig(pool.Config().ConnString())
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = tracer
	tpool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer tpool.Close()
	store := &postgres.TrafficStore{Pool: tpool}

	bounded := func(label string) {
		t.Helper()
		sqls, args := tracer.take()
		require.NotEmpty(t, sqls)
		for i, sql := range sqls {
			var out []byte
			require.NoError(t, pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args[i]...).Scan(&out), label)
			var plans []struct {
				Plan planNode `json:"Plan"`
			}
			require.NoError(t, json.Unmarshal(out, &plans), label)
			read := listRead(plans[0].Plan)
			assert.LessOrEqual(t, read, 250.0, "%s: statement %d reads %v rows:\n%s\n%s", label, i, read, sql, outline(plans[0].Plan, 0))
		}
	}
	f := postgres.AccountFilter{Status: "abnormal", Limit: 20}
	first, err := store.ListAccounts(ctx, f)
	require.NoError(t, err)
	bounded("first page")
	require.Len(t, first.Accounts, 20)
	require.Greater(t, first.Matching, 60)
	for _, a := range first.Accounts {
		require.NotEqual(t, 1, a.AccountStatus, "%s is abnormal", a.AppID)
	}
	f.After, f.Pos = first.Next, 21
	second, err := store.ListAccounts(ctx, f)
	require.NoError(t, err)
	bounded("second page")
	require.Len(t, second.Accounts, 20)
	require.Equal(t, 21, second.Start)
	f.After, f.Before, f.Pos = "", second.Prev, 20
	back, err := store.ListAccounts(ctx, f)
	require.NoError(t, err)
	bounded("back")
	require.Equal(t, first.Accounts, back.Accounts)
}

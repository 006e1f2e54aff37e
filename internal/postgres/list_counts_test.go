package postgres_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// bufNode is a plan node with the pages it read.
type bufNode struct {
	NodeType string    `json:"Node Type"`
	Relation string    `json:"Relation Name"`
	Hit      float64   `json:"Shared Hit Blocks"`
	Read     float64   `json:"Shared Read Blocks"`
	Plans    []bufNode `json:"Plans"`
}

// pagesOf sums the pages the plan's scans of table read (-1 when none scans it).
func pagesOf(n bufNode, table string) float64 {
	pages := -1.0
	if n.Relation == table {
		pages = n.Hit + n.Read
	}
	for _, c := range n.Plans {
		if p := pagesOf(c, table); p >= 0 {
			pages = max(pages, 0) + p
		}
	}
	return pages
}

// keptCounts are the kept counts per status class and state, and a recount
// of the list rows.
func keptCounts(t *testing.T, pool *pgxpool.Pool) (kept, recount map[string]int64) {
	t.Helper()
	read := func(q string) map[string]int64 {
		rows, err := pool.Query(context.Background(), q)
		require.NoError(t, err)
		defer rows.Close()
		m := map[string]int64{}
		for rows.Next() {
			var class, state string
			var n int64
			require.NoError(t, rows.Scan(&class, &state, &n))
			m[class+"/"+state] = n
		}
		require.NoError(t, rows.Err())
		return m
	}
	return read("SELECT status_class, state, sum(n)::bigint FROM account_state_counts GROUP BY 1, 2 HAVING sum(n) <> 0"),
		read("SELECT status_class, state, count(*) FROM authorizer_state GROUP BY 1, 2")
}

// A list page without a search reads the kept counts per state in a page or
// two after a bulk load. trafficmaster gen inserted a million list rows and
// then changed their states, each in one statement, and every change
// appended a delta row that nothing could reclaim before the statement
// ended: every such page then read millions of dead rows (34-85 ms at a
// million accounts, where it had been 1.1 ms). The counts still equal a
// recount after the load and still follow a change made after it.
func TestPlainListReadsKeptCountsInAFewPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, postgres.Generate(ctx, pool, 5_000, 5_000, io.Discard))
	tracer := &allQueries{}
	tpool := tracedPool(t, pool.Config().ConnString(), tracer, 0)
	store := &postgres.TrafficStore{Pool: tpool}

	for _, f := range []postgres.AccountFilter{
		{},
		{Status: "abnormal"},
		{State: "retry_later", Sort: "recent"},
		{Sort: "appid"},
	} {
		label := fmt.Sprintf("%+v", f)
		f.Limit = 50
		page, err := store.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		require.NotEmpty(t, page.Accounts, label)
		sqls, args := tracer.take()
		counted := false
		for i, sql := range sqls {
			plan := explainPlan[bufNode](t, pool, "ANALYZE, BUFFERS", sql, args[i], label)
			if pages := pagesOf(plan, "account_state_counts"); pages >= 0 {
				counted = true
				assert.LessOrEqual(t, pages, 2.0, "%s: the counts read %v pages:\n%s", label, pages, sql)
			}
		}
		require.True(t, counted, "%s reads the kept counts", label)
	}

	kept, recount := keptCounts(t, pool)
	require.NotEmpty(t, recount)
	require.Equal(t, recount, kept, "after the load")
	// The load turned the count triggers back on: a later change is counted.
	_, err := pool.Exec(ctx, "UPDATE authorizers SET account_status = 16 WHERE appid = $1 AND account_status <> 16", postgres.GenAppID(1))
	require.NoError(t, err)
	kept2, recount2 := keptCounts(t, pool)
	require.NotEqual(t, recount, recount2, "the change moved an account")
	require.Equal(t, recount2, kept2, "after a change")

	// The platform page's counts too (paused during the load, then counted).
	requirePlatformCounts(t, pool, postgres.GenComponentAppID)
	_, err = pool.Exec(ctx, "UPDATE authorizers SET revoked_at = now() WHERE appid = $1", postgres.GenAppID(2))
	require.NoError(t, err)
	requirePlatformCounts(t, pool, postgres.GenComponentAppID)
}

package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// lastQuery records the SQL and arguments of the pool's latest query.
type lastQuery struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (l *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sql, l.args = d.SQL, d.Args
	return ctx
}

func (l *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// planNode is the part of EXPLAIN (ANALYZE, FORMAT JSON) this test reads.
type planNode struct {
	NodeType       string     `json:"Node Type"`
	Relation       string     `json:"Relation Name"`
	Index          string     `json:"Index Name"`
	ActualRows     float64    `json:"Actual Rows"`
	Loops          float64    `json:"Actual Loops"`
	RemovedFilter  float64    `json:"Rows Removed by Filter"`
	RemovedRecheck float64    `json:"Rows Removed by Index Recheck"`
	Plans          []planNode `json:"Plans"`
}

// outline is a plan as one line per node: type, relation or index, rows.
func outline(n planNode, depth int) string {
	s := fmt.Sprintf("%s%s %s %s rows=%v×%v removed=%v\n", strings.Repeat("  ", depth), n.NodeType, n.Relation, n.Index, n.ActualRows, n.Loops, n.RemovedFilter+n.RemovedRecheck)
	for _, c := range n.Plans {
		s += outline(c, depth+1)
	}
	return s
}

// attemptsRead sums the attempts rows and index entries a plan read
// (returned or filtered away), and says whether it scanned the table whole.
func attemptsRead(n planNode) (read float64, seq bool) {
	// The table or one of its month partitions (attempts_2026_05, attempts_default).
	onAttempts := n.Relation == "attempts" || (strings.HasPrefix(n.Relation, "attempts_") && n.Relation != "attempts_in_flight") ||
		strings.HasPrefix(n.Index, "attempts")
	if onAttempts {
		if n.NodeType == "Seq Scan" && n.ActualRows+n.RemovedFilter > 0 { // an empty month costs nothing
			seq = true
		}
		if n.NodeType != "Bitmap Index Scan" || n.Relation == "" {
			read += (n.ActualRows + n.RemovedFilter + n.RemovedRecheck) * max(n.Loops, 1)
		}
	}
	for _, c := range n.Plans {
		r, s := attemptsRead(c)
		read += r
		seq = seq || s
	}
	return read, seq
}

// partitionsRead lists the month partitions of attempts a plan reads.
func partitionsRead(n planNode, into map[string]bool) {
	if strings.HasPrefix(n.Relation, "attempts_") && n.Relation != "attempts_in_flight" {
		into[n.Relation] = true
	}
	for _, c := range n.Plans {
		partitionsRead(c, into)
	}
}

// monthsOf names the month partitions a time range [from, to) lies in.
func monthsOf(from, to time.Time) map[string]bool {
	m := map[string]bool{}
	for d := time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC); d.Before(to); d = d.AddDate(0, 1, 0) {
		m["attempts_"+d.Format("2006_01")] = true
	}
	return m
}

// Every audit filter the form offers (account, staff, action, outcome, what
// to do next, run, WeChat code, dates) alone and in every pair, with values that occur
// together often, rarely and never, is served by an index newest first or by
// a bounded scan: no plan scans attempts whole, and none reads more than a
// few hundred rows or index entries to fill a page. Against
// TRAFFICMASTER_BENCH_DATABASE_URL (a generated database, see BENCHMARKS.md)
// it checks that one instead of generating 100,000 rows. A filter with dates
// reads only the month partitions of its dates (pruned when it is planned).
func TestEveryAuditFilterPairIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var dsn string
	if url := os.Getenv("TRAFFICMASTER_BENCH_DATABASE_URL"); url != "" {
		dsn = url
	} else {
		pool := pgtest.Pool(t)
		require.NoError(t, postgres.Generate(ctx, pool, 500, 100_000, io.Discard))
		dsn = pool.Config().ConnString()
	}
	tracer := &lastQuery{}
	pool := tracedPool(t, dsn, tracer, 1)
	store := &postgres.TrafficStore{Pool: pool}

	var staff0 int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT min(id) FROM staff WHERE username LIKE 'gen-operator-%'").Scan(&staff0))
	var runs []int64
	rows, err := pool.Query(ctx, "SELECT id FROM runs WHERE description = 'generated' ORDER BY id OFFSET (SELECT count(*) / 2 FROM runs) LIMIT 2")
	require.NoError(t, err)
	runs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Len(t, runs, 2)
	now := time.Now()
	day := func(d int) *time.Time { v := now.Add(time.Duration(d) * 24 * time.Hour); return &v }

	type setter func(*postgres.AttemptFilter)
	dims := map[string][]setter{
		"account": {
			func(f *postgres.AttemptFilter) { f.AppID = postgres.GenAppID(7) },
			func(f *postgres.AttemptFilter) { f.AppID = postgres.GenAppID(250) },
		},
		"staff": {
			func(f *postgres.AttemptFilter) { f.StaffID = staff0 },
			func(f *postgres.AttemptFilter) { f.StaffID = staff0 + 7 },
		},
		"action": {
			func(f *postgres.AttemptFilter) { f.Action = traffic.ActionCheck },
			func(f *postgres.AttemptFilter) { f.Action = traffic.ActionOpen },
		},
		"run": {
			func(f *postgres.AttemptFilter) { f.RunID = runs[0] },
			func(f *postgres.AttemptFilter) { f.RunID = runs[1] },
		},
		"dates": {
			func(f *postgres.AttemptFilter) { f.From, f.To = day(-180), day(-179) },
			func(f *postgres.AttemptFilter) { f.From, f.To = day(-300), day(-10) },
		},
	}
	// 1735 is common; 45009 never occurs in generated data; 0 is the only
	// code the first generated operator has.
	for _, c := range []int{1735, 45009, 0} {
		dims["code"] = append(dims["code"], func(f *postgres.AttemptFilter) { f.Code = &c })
	}
	for _, o := range []string{"success", "already_done", "retryable", "needs_merchant", "rate_limited", "not_yet_eligible", "provider_config", "failed", "unknown", "interrupted", "pending"} {
		dims["outcome"] = append(dims["outcome"], func(f *postgres.AttemptFilter) { f.Outcome = traffic.Outcome(o) })
	}
	for _, g := range traffic.Groups {
		dims["group"] = append(dims["group"], func(f *postgres.AttemptFilter) { f.Group = g.Group })
	}
	names := make([]string, 0, len(dims))
	for n := range dims {
		names = append(names, n)
	}
	sort.Strings(names)

	worst := map[string]float64{}
	check := func(label string, f postgres.AttemptFilter) {
		t.Helper()
		tracer.mu.Lock()
		tracer.sql = ""
		tracer.mu.Unlock()
		_, _, err := store.ListAttempts(ctx, f)
		require.NoError(t, err, label)
		tracer.mu.Lock()
		sql, args := tracer.sql, tracer.args
		tracer.mu.Unlock()
		if strings.HasPrefix(sql, "SELECT coalesce((SELECT id FROM attempts WHERE started_at") {
			sql = "" // the dates' id range alone: nothing else to read
		}
		if sql == "" {
			return // answered without reading attempts
		}
		plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args, label)
		read, seq := attemptsRead(plan)
		assert.False(t, seq, "%s scans attempts whole:\n%s", label, outline(plan, 0))
		assert.LessOrEqual(t, read, 2500.0, "%s reads %v rows of attempts:\n%s", label, read, outline(plan, 0))
		if f.From != nil {
			read := map[string]bool{}
			partitionsRead(plan, read)
			want := monthsOf(*f.From, *f.To)
			for p := range read {
				assert.True(t, want[p] || p == "attempts_default", "%s reads %s, outside its dates:\n%s", label, p, outline(plan, 0))
			}
		}
		key := strings.SplitN(label, "#", 2)[0]
		worst[key] = max(worst[key], read)
	}
	for i, a := range names {
		for ai, sa := range dims[a] {
			var f postgres.AttemptFilter
			sa(&f)
			check(fmt.Sprintf("%s#%d", a, ai), f)
			for _, b := range names[i+1:] {
				for bi, sb := range dims[b] {
					f := postgres.AttemptFilter{}
					sa(&f)
					sb(&f)
					check(fmt.Sprintf("%s+%s#%d.%d", a, b, ai, bi), f)
				}
			}
		}
	}
	keys := make([]string, 0, len(worst))
	for k := range worst {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-16s at most %6.0f rows and index entries of attempts read", k, worst[k])
	}
}

// The audit keeps its month partitions AttemptMonthsAhead ahead, no more:
// every statement that dates do not prune is planned over all of them and
// their indexes, so months made years ahead cost every such page.
func TestAttemptMonthsAheadAreFew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	var ahead int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'attempts'::regclass AND c.relname ~ '^attempts_[0-9]{4}_[0-9]{2}$'
		  AND to_date(substr(c.relname, 10), 'YYYY_MM') > date_trunc('month', now())`).Scan(&ahead))
	require.Equal(t, postgres.AttemptMonthsAhead, ahead, "months after this one")
	require.LessOrEqual(t, postgres.AttemptMonthsAhead, 3)
}

// allQueries records the SQL and arguments of every query of a pool.
type allQueries struct {
	mu   sync.Mutex
	sqls []string
	args [][]any
}

func (l *allQueries) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sqls, l.args = append(l.sqls, d.SQL), append(l.args, d.Args)
	return ctx
}

func (l *allQueries) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *allQueries) take() ([]string, [][]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, a := l.sqls, l.args
	l.sqls, l.args = nil, nil
	return s, a
}

// listRead sums the rows and index entries of the list's tables a plan read
// (returned or filtered away, bitmap index entries included).
func listRead(n planNode) float64 {
	var read float64
	for _, p := range []string{"authorizer_state", "account_search_chars", "authorizers"} {
		if n.Relation == p || strings.HasPrefix(n.Index, p) {
			read += (n.ActualRows + n.RemovedFilter + n.RemovedRecheck) * max(n.Loops, 1)
			break
		}
	}
	for _, c := range n.Plans {
		read += listRead(c)
	}
	return read
}

// A search matching more accounts than it counts (here 50; one common
// character matches one account in sixteen of generated data) is bounded:
// its counts stop at the cap and its page walks the entries of its
// character in name order from the cursor, so no statement reads all of its
// matches, wherever they lie in name order (花间's are one block after
// 312,500 names at a million accounts). Its pages are the pages of the
// exact search, forward and back.
func TestBroadSearchIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, postgres.Generate(ctx, pool, 24_000, 0, io.Discard))
	tracer := &allQueries{}
	tpool := tracedPool(t, pool.Config().ConnString(), tracer, 1)
	capped := &postgres.TrafficStore{Pool: tpool, SearchCap: 50}
	exact := &postgres.TrafficStore{Pool: pool, SearchCap: 1_000_000}

	appids := func(p *postgres.AccountPage) []string {
		var s []string
		for _, a := range p.Accounts {
			s = append(s, a.AppID)
		}
		return s
	}
	bounded := func(label string) {
		t.Helper()
		sqls, args := tracer.take()
		require.NotEmpty(t, sqls)
		for i, sql := range sqls {
			plan := explainPlan[planNode](t, pool, "ANALYZE", sql, args[i], label)
			read := listRead(plan)
			assert.LessOrEqual(t, read, 1500.0, "%s: statement %d reads %v rows:\n%s\n%s", label, i, read, sql, outline(plan, 0))
		}
	}
	for _, f := range []postgres.AccountFilter{
		{Q: "花"},
		{Q: "花间", Status: "normal"},
		{Q: "鲜果"},
		{Q: "花", State: "never"},
		{Q: "花", Sort: "appid"},
	} {
		label := fmt.Sprintf("%+v", f)
		f.Limit = 50
		first, err := capped.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		bounded(label + " first page")
		want, err := exact.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		require.True(t, first.Capped, "%s matches more than 50", label)
		require.False(t, want.Capped, label)
		require.Len(t, first.Accounts, 50, label)
		require.Equal(t, appids(want), appids(first), label)
		require.Greater(t, first.Total, 50, label)
		require.LessOrEqual(t, first.Total, 51, "%s counts 51 at most", label)

		g := f
		g.After, g.Pos = first.Next, 51
		second, err := capped.ListAccounts(ctx, g)
		require.NoError(t, err, label)
		bounded(label + " second page")
		want2, err := exact.ListAccounts(ctx, g)
		require.NoError(t, err, label)
		require.Equal(t, appids(want2), appids(second), label)
		require.Equal(t, 51, second.Start, label)
		require.NotEmpty(t, second.Prev, label)

		h := f
		h.Before, h.Pos = second.Prev, 50
		back, err := capped.ListAccounts(ctx, h)
		require.NoError(t, err, label)
		bounded(label + " back")
		require.Equal(t, appids(first), appids(back), label)
		require.Equal(t, 1, back.Start, label)
	}
}

// tracedPool opens a pool on dsn whose queries pass through tracer, with at
// most maxConns connections (0: the default), closed when the test ends.
func tracedPool(t *testing.T, dsn string, tracer pgx.QueryTracer, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = tracer
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// explainPlan runs a traced statement again under EXPLAIN (options, FORMAT
// JSON) and returns its plan's root, decoded into N.
func explainPlan[N any](t *testing.T, pool *pgxpool.Pool, options, sql string, args []any, label string) N {
	t.Helper()
	var out []byte
	require.NoError(t, pool.QueryRow(context.Background(), "EXPLAIN ("+options+", FORMAT JSON) "+sql, args...).Scan(&out), label)
	var plans []struct {
		Plan N `json:"Plan"`
	}
	require.NoError(t, json.Unmarshal(out, &plans), label)
	require.NotEmpty(t, plans, label)
	return plans[0].Plan
}

// A dated audit page is planned for its dates every time, never prepared
// and cached on its connection: after five runs of one range Postgres may
// keep a generic plan, which prunes no month at planning and does not know
// how narrow the dates are (at 50,000,000 rows one staff member's day read
// the whole day and sorted it, 200 times slower). An undated page is
// prepared as usual, which shows the check can see a prepared statement.
func TestDatedAuditPagesAreNeverPrepared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Every query on one connection, whose prepared statements are listed below.
	pool := tracedPool(t, pgtest.Pool(t).Config().ConnString(), nil, 1)
	seed(t, pool, account{appid: "wx00000000000d0001", name: "甲"})
	store := &postgres.TrafficStore{Pool: pool}
	a := &traffic.Attempt{AppID: "wx00000000000d0001", Action: traffic.ActionCheck, StartedAt: time.Now().Add(-time.Hour)}
	require.NoError(t, store.BeginAttempt(ctx, a, "instance-1"))

	from, to := time.Now().Add(-2*time.Hour), time.Now()
	for _, f := range []postgres.AttemptFilter{
		{From: &from, To: &to},
		{From: &from, To: &to, Action: traffic.ActionCheck},
		{From: &from},
		{To: &to, AppID: a.AppID},
		{From: &from, To: &to, Group: traffic.GroupPending},
	} {
		for range 6 {
			list, _, err := store.ListAttempts(ctx, f)
			require.NoError(t, err)
			require.Len(t, list, 1, "%+v", f)
		}
	}
	list, _, err := store.ListAttempts(ctx, postgres.AttemptFilter{Action: traffic.ActionCheck})
	require.NoError(t, err)
	require.Len(t, list, 1)

	// Every attempts query selects t.started_at; a dated one compares it.
	var dated, undated int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE statement ~ 't\.started_at [<>]'),
			count(*) FILTER (WHERE statement LIKE '%FROM attempts t %' AND statement !~ 't\.started_at [<>]')
		FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%'`).Scan(&dated, &undated))
	require.Zero(t, dated, "a dated page's statement was prepared")
	require.Equal(t, 1, undated, "the undated page's statement is prepared")
}

// An export's first rows come from a small first batch, the rest from
// batches of EachBatch: the first byte need not wait for 10,000 rows read
// from disk.
func TestExportsFirstBatchIsSmall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tracer := &allQueries{}
	pool := tracedPool(t, pgtest.Pool(t).Config().ConnString(), tracer, 1)
	n := postgres.FirstEachBatch + postgres.EachBatch + 3
	require.NoError(t, postgres.Generate(ctx, pool, 5, n, io.Discard))
	limits := map[int]string{}
	rows := 0
	require.NoError(t, (&postgres.TrafficStore{Pool: pool}).EachAttempt(ctx, postgres.AttemptFilter{}, func(*traffic.Attempt) error {
		switch rows {
		case 0, postgres.FirstEachBatch, postgres.FirstEachBatch + postgres.EachBatch:
			// The batch just read is the latest statement with a limit.
			sqls, _ := tracer.take()
			for _, q := range slices.Backward(sqls) {
				if i := strings.LastIndex(q, "LIMIT"); i >= 0 && strings.Contains(q, "FROM attempts t ") {
					limits[rows] = q[i:]
					break
				}
			}
		}
		rows++
		return nil
	}))
	require.Equal(t, n, rows)
	require.Equal(t, map[int]string{
		0:                       fmt.Sprintf("LIMIT %d", postgres.FirstEachBatch+1),
		postgres.FirstEachBatch: fmt.Sprintf("LIMIT %d", postgres.EachBatch+1),
		postgres.FirstEachBatch + postgres.EachBatch: fmt.Sprintf("LIMIT %d", postgres.EachBatch+1),
	}, limits)
}

package postgres_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// entriesOff counts the search entries (account_search_chars) that differ
// from what the list rows say they are, either way: a missing or extra
// entry, or one with another state, status class or following characters.
func entriesOff(ctx context.Context, t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(ctx, `WITH want AS (
			SELECT c.ch, s.nick_name, s.appid, s.state, s.status_class, c.nexts FROM authorizer_state s, tm_search_chars(s.search_grams) c),
		got AS (SELECT ch, nick_name, appid, state, status_class, nexts FROM account_search_chars)
		SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM got) x)
		     + (SELECT count(*) FROM (SELECT * FROM got EXCEPT ALL SELECT * FROM want) y)`).Scan(&n))
	return n
}

// A broad search's entries carry their account's state and status class,
// which its counts and filters read instead of the list rows: every kind of
// change to a list row keeps them equal, in the same statement. Checked
// after finished, interrupted and checking attempts, each way an account's
// status changes (revoked, abnormal, an Official Account, back to normal),
// a new name and principal, a new account, and changes made concurrently.
func TestSearchEntriesFollowTheListRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := &postgres.TrafficStore{Pool: pool}
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name, account_status) VALUES
		('wx00000000000000c1', 'wxcomponent0000001', true, '花间日记 1', '上海鲜果科技有限公司', 1),
		('wx00000000000000c2', 'wxcomponent0000001', true, '鲜果优选', '北京花间科技有限公司', 1),
		('wx00000000000000c3', 'wxcomponent0000001', true, '晨光书店', '杭州晨光科技有限公司', 1)`)
	require.NoError(t, err)
	require.Zero(t, entriesOff(ctx, t, pool), "after the accounts")
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM account_search_chars WHERE ch = '花' AND nexts = '间'").Scan(&n))
	require.Equal(t, 2, n, "花 is followed by 间 in two accounts")

	finish := func(appID string, action traffic.Action, outcome traffic.Outcome, check *int) {
		t.Helper()
		a := &traffic.Attempt{AppID: appID, Action: action, StartedAt: time.Now()}
		require.NoError(t, store.BeginAttempt(ctx, a, "live-instance"))
		now := time.Now()
		a.Status, a.Outcome, a.FinishedAt, a.CheckStatus = traffic.AttemptCompleted, outcome, &now, check
		_, err := store.CompleteAttempt(ctx, a)
		require.NoError(t, err)
	}
	finish("wx00000000000000c1", traffic.ActionOpen, traffic.OutcomeSuccess, nil)
	require.Zero(t, entriesOff(ctx, t, pool), "after an account opened")
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM account_search_chars WHERE appid = 'wx00000000000000c1' AND state = 'open'").Scan(&n))
	require.Positive(t, n)
	finish("wx00000000000000c2", traffic.ActionCheck, traffic.OutcomeSuccess, ptr(0))
	require.Zero(t, entriesOff(ctx, t, pool), "after a check")
	finish("wx00000000000000c2", traffic.ActionOpen, traffic.OutcomeRateLimited, nil)
	require.Zero(t, entriesOff(ctx, t, pool), "after a retryable outcome")

	dead := &traffic.Attempt{AppID: "wx00000000000000c3", Action: traffic.ActionOpen, StartedAt: time.Now()}
	require.NoError(t, store.BeginAttempt(ctx, dead, "dead-instance"))
	_, err = store.RecoverInterrupted(ctx, "live-instance")
	require.NoError(t, err)
	require.Zero(t, entriesOff(ctx, t, pool), "after an interrupted attempt")

	for _, change := range []string{
		"UPDATE authorizers SET revoked_at = now() WHERE appid = 'wx00000000000000c1'",
		"UPDATE authorizers SET account_status = 16 WHERE appid = 'wx00000000000000c2'",
		"UPDATE authorizers SET is_mini_program = false WHERE appid = 'wx00000000000000c3'",
		"UPDATE authorizers SET revoked_at = NULL, account_status = 1, is_mini_program = true",
		"UPDATE authorizers SET nick_name = '花园日记' WHERE appid = 'wx00000000000000c1'",
		"UPDATE authorizers SET principal_name = '深圳云端科技有限公司', account_status = 19 WHERE appid = 'wx00000000000000c2'",
		`INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name, account_status, revoked_at)
			VALUES ('wx00000000000000c4', 'wxcomponent0000001', true, '花花', '花间', 1, now())`,
		"UPDATE authorizer_state SET state = 'needs_merchant', nick_name = '花间' WHERE appid = 'wx00000000000000c4'",
	} {
		_, err := pool.Exec(ctx, change)
		require.NoError(t, err, change)
		require.Zero(t, entriesOff(ctx, t, pool), "after %s", change)
	}

	// Changes to the same accounts at once serialise on their list rows.
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			var err error
			for i := range 40 {
				appid := fmt.Sprintf("wx00000000000000c%d", 1+(w+i)%4)
				state := []string{"open", "retry_later", "eligible", "unknown"}[(w*7+i)%4]
				if _, err = pool.Exec(ctx, "UPDATE authorizer_state SET state = $2 WHERE appid = $1", appid, state); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	require.Zero(t, entriesOff(ctx, t, pool), "after concurrent changes")
}

// A broad search's counts read its entries alone, not a list row for each
// (one common character or pair: the counts' walk of 1,001 entries read
// about 4,000 buffers of list rows at a million accounts), and its page
// reads only the list rows it shows. Here, at 24,000 accounts, cap 50 and
// pages of 10: the counts read no list row and the pages at most 22 (the
// page and the one after it, with its account); without the entries' own
// state, status and following characters the counts read 51 or more. The
// pages are the exact search's, including a pair (光科) whose second
// character follows the first in some of the first's entries and not in
// others.
func TestBroadSearchCountsReadTheEntriesAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, postgres.Generate(ctx, pool, 24_000, 0, io.Discard))
	tracer := &allQueries{}
	tpool := tracedPool(t, pool.Config().ConnString(), tracer, 1)
	capped := &postgres.TrafficStore{Pool: tpool, SearchCap: 50}
	exact := &postgres.TrafficStore{Pool: pool, SearchCap: 1_000_000}

	const limit = 10
	listRows := func(n planNode) float64 {
		var read float64
		var walk func(n planNode)
		walk = func(n planNode) {
			if n.Relation == "authorizer_state" {
				read += (n.ActualRows + n.RemovedFilter + n.RemovedRecheck) * max(n.Loops, 1)
			}
			for _, c := range n.Plans {
				walk(c)
			}
		}
		walk(n)
		return read
	}
	reads := func(label string, most float64) {
		t.Helper()
		sqls, args := tracer.take()
		require.NotEmpty(t, sqls, label)
		for i, sql := range sqls {
			p := explainPlan[struct {
				planNode
				Hit  float64 `json:"Shared Hit Blocks"`
				Read float64 `json:"Shared Read Blocks"`
			}](t, pool, "ANALYZE, BUFFERS", sql, args[i], label)
			rows := listRows(p.planNode)
			t.Logf("%s: statement %d: %v list rows, %v buffers", label, i, rows, p.Hit+p.Read)
			assert.LessOrEqual(t, rows, most, "%s: statement %d reads %v list rows:\n%s\n%s", label, i, rows, sql, outline(p.planNode, 0))
		}
	}
	appids := func(p *postgres.AccountPage) []string {
		var s []string
		for _, a := range p.Accounts {
			s = append(s, a.AppID)
		}
		return s
	}
	for _, f := range []postgres.AccountFilter{
		{Q: "花"},
		{Q: "花间", Status: "normal"},
		{Q: "鲜果"},
		{Q: "光科"},
		{Q: "花", State: "never"},
		{Q: "花", Sort: "appid"},
	} {
		label := fmt.Sprintf("%+v", f)
		f.Limit = limit
		sc, err := capped.CountStates(ctx, f)
		require.NoError(t, err, label)
		reads(label+" counts", 0)
		require.True(t, sc.Capped, label)
		require.Equal(t, 51, sc.Total, label)
		if f.Sort == "appid" {
			continue // its page walks the list's own appid index
		}
		first, err := capped.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		reads(label+" first page", 2*(limit+1))
		want, err := exact.ListAccounts(ctx, f)
		require.NoError(t, err, label)
		require.Len(t, first.Accounts, limit, label)
		require.Equal(t, appids(want), appids(first), label)
		require.Equal(t, sc.Counts, first.Counts, label)

		g := f
		g.After, g.Pos = first.Next, limit+1
		second, err := capped.ListAccounts(ctx, g)
		require.NoError(t, err, label)
		reads(label+" second page", 2*(limit+1))
		want2, err := exact.ListAccounts(ctx, g)
		require.NoError(t, err, label)
		require.Equal(t, appids(want2), appids(second), label)
	}
}

package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// Every connection of the console's pool has a statement timeout
// (STATEMENT_TIMEOUT, default 10s); migrations and generation do without.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := webtest.New(t)
	var v string
	require.NoError(t, e.App.Pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&v))
	require.Equal(t, "10s", v)
	untimed, err := postgres.Untimed(ctx, e.App.Pool)
	require.NoError(t, err)
	defer untimed.Close()
	require.NoError(t, untimed.QueryRow(ctx, "SHOW statement_timeout").Scan(&v))
	require.Equal(t, "0", v)

	short := webtest.New(t, webtest.Options{Env: map[string]string{"STATEMENT_TIMEOUT": "200ms"}})
	require.NoError(t, short.App.Pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&v))
	require.Equal(t, "200ms", v)
	_, err = short.App.Pool.Exec(ctx, "SELECT pg_sleep(30)")
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, "57014", pe.Code, "query_canceled by the statement timeout")
}

// The CSV export reads in keyset batches and gives the connection back
// between them: with a pool of one connection, the export's consumer can
// still query, and every row comes once, newest first.
func TestExportStreamsInBatchesWithoutHoldingAConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTrafficEnv(t)
	n := postgres.EachBatch*2 + 17
	require.NoError(t, postgres.Generate(ctx, e.App.Pool, 5, n, io.Discard))
	cfg := e.App.Pool.Config()
	cfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer one.Close()
	st := &postgres.TrafficStore{Pool: one}

	var ids []int64
	err = st.EachAttempt(ctx, postgres.AttemptFilter{}, func(a *traffic.Attempt) error {
		if len(ids)%postgres.EachBatch == 0 {
			qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if _, err := one.Exec(qctx, "SELECT 1"); err != nil {
				return err
			}
		}
		ids = append(ids, a.ID)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, ids, n)
	for i := 1; i < len(ids); i++ {
		require.Less(t, ids[i], ids[i-1])
	}
}

// Rendered pages go out in one write with their length, not in chunks.
func TestRenderedPagesAreBuffered(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	for i := 0; i < 60; i++ {
		e.addAccount(t, account{})
	}
	c, _ := e.Login(core.RoleViewer)
	for _, path := range []string{"/", "/audit"} {
		r := c.Get(path)
		require.Equal(t, 200, r.StatusCode)
		require.Greater(t, len(r.Body), 2048, path) // net/http itself sets the length of smaller bodies
		require.Equal(t, int64(len(r.Body)), r.ContentLength, "%s has a Content-Length", path)
		require.Empty(t, r.TransferEncoding, path)
	}
}

// stateCountsAgree fails unless the maintained counts per state and status
// class (account_state_counts) equal a recount of the list rows, both read
// in one snapshot: the queue's schedules may change states meanwhile.
func stateCountsAgree(t *testing.T, e *trafficEnv, when string) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.App.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	read := func(q string) map[string]int64 {
		rows, err := tx.Query(ctx, q)
		require.NoError(t, err)
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
	kept := read("SELECT status_class, state, sum(n)::bigint FROM account_state_counts GROUP BY 1, 2 HAVING sum(n) <> 0")
	recount := read("SELECT status_class, state, count(*) FROM authorizer_state GROUP BY 1, 2")
	require.NotEmpty(t, recount, when)
	require.Equal(t, recount, kept, when)
}

// The counts per state that a list page without a search reads are kept by
// the transactions that change states: clicks, bulk runs, an unauthorized
// push and a sync each leave them equal to a recount, folded or not, and the
// page shows them.
func TestStateCountsFollowEveryChange(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	e := newTrafficEnv(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "100"}})
	require.NoError(t, e.App.Jobs.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
	var ids []string
	for i := range 12 {
		ids = append(ids, e.addAccount(t, account{Status: map[bool]int{true: 16}[i == 11]}))
	}
	ids = append(ids, e.addAccount(t, account{Official: true}), e.addAccount(t, account{Revoked: true}))
	stateCountsAgree(t, e, "after adding accounts")

	// Clicks: one check, three opens with different answers.
	c, _ := e.Login(core.RoleOperator)
	e.Sim.Script(ids[1], wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735})
	e.Sim.Script(ids[2], wechatsim.ActionCreate, wechatsim.Behavior{Ret: -202})
	require.Equal(t, http.StatusOK, c.HTMXPost("/apps/"+ids[0]+"/check", nil).StatusCode)
	for _, id := range ids[:3] {
		require.Equal(t, http.StatusOK, c.HTMXPost("/apps/"+id+"/open", confirmed).StatusCode)
	}
	stateCountsAgree(t, e, "after clicks")

	// A bulk run over every account of the list.
	r := c.PostForm("/runs", url.Values{"action": {"check"}})
	require.Equal(t, http.StatusOK, r.StatusCode)
	r = c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`)))
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := e.App.Jobs.Runs.List(ctx, 10, 0)
		require.NoError(t, err)
		require.Len(t, runs, 1)
		if runs[0].Status == jobs.RunFinished {
			break
		}
		require.True(t, time.Now().Before(deadline), "the run finishes")
		time.Sleep(50 * time.Millisecond)
	}
	stateCountsAgree(t, e, "after a bulk run")

	// An unauthorized push revokes an account; a sync changes another's status.
	require.NoError(t, e.Sim.PushTicket(ctx))
	require.NoError(t, e.Sim.Unauthorize(ctx, ids[3]))
	var revoked int
	require.NoError(t, e.App.Pool.QueryRow(ctx, "SELECT count(*) FROM authorizer_state WHERE appid = $1 AND status_class = 'revoked'", ids[3]).Scan(&revoked))
	require.Equal(t, 1, revoked)
	stateCountsAgree(t, e, "after an unauthorized push")
	a4, ok := e.Sim.Authorizer(ids[4])
	require.True(t, ok)
	a4.AccountStatus = 19
	e.Sim.AddAuthorizer(a4)
	// A sync re-reads an unchanged account's profile once it is a day old
	// (InfoMaxAge): age this one's, or a sync that ran just before the change
	// (the one the schedule starts with) leaves it fresh and unread.
	_, err := e.App.Pool.Exec(ctx, "UPDATE authorizers SET info_synced_at = now() - interval '2 days' WHERE appid = $1", ids[4])
	require.NoError(t, err)
	admin, _ := e.Login(core.RoleAdmin)
	// The scheduled sync may hold the sync's lock at that moment: sync again
	// until one has run after the change.
	deadline = time.Now().Add(60 * time.Second)
	for abnormal := 0; abnormal == 0; {
		require.Equal(t, http.StatusSeeOther, admin.PostForm("/platform/sync", nil).StatusCode)
		require.NoError(t, e.App.Pool.QueryRow(ctx, "SELECT count(*) FROM authorizer_state WHERE appid = $1 AND status_class = 'abnormal'", ids[4]).Scan(&abnormal))
		require.True(t, abnormal == 1 || time.Now().Before(deadline), "the sync stores the new status: %s", admin.Get("/platform").Text(".flash"))
		if abnormal == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	stateCountsAgree(t, e, "after a sync")

	// Folding changes nothing, and the page shows the kept counts.
	_, err = e.App.Pool.Exec(ctx, "SELECT tm_fold_state_counts()")
	require.NoError(t, err)
	stateCountsAgree(t, e, "after folding")
	var rows int
	require.NoError(t, e.App.Pool.QueryRow(ctx, "SELECT count(*) FROM account_state_counts").Scan(&rows))
	var keys int
	require.NoError(t, e.App.Pool.QueryRow(ctx, "SELECT count(DISTINCT (status_class, state)) FROM authorizer_state").Scan(&keys))
	require.Equal(t, keys, rows, "one row per key once folded")
	sc, err := e.App.Attempts.CountStates(ctx, postgres.AccountFilter{})
	require.NoError(t, err)
	require.Equal(t, len(ids), sc.Total)
	sc, err = e.App.Attempts.CountStates(ctx, postgres.AccountFilter{Status: "revoked"})
	require.NoError(t, err)
	require.NoError(t, e.App.Pool.QueryRow(ctx, "SELECT count(*) FROM authorizer_state WHERE status_class = 'revoked'").Scan(&revoked))
	require.Equal(t, revoked, sc.Total)
	require.Positive(t, sc.Total)
	page := c.Get("/")
	require.Equal(t, http.StatusOK, page.StatusCode)
}

// A search matching more accounts than the list counts (postgres.SearchCountCap)
// says so: the counts are shown as lower bounds with a plus and a sentence
// saying why, and the pages still follow one another in name order.
func TestBroadSearchShowsLowerBounds(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	n := postgres.SearchCountCap + 60
	_, err := e.App.Pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, user_name, principal_name, account_status, authorized_at)
		SELECT 'wx' || lpad(to_hex(x'cd0000'::int + g), 16, '0'), $1, true, '花园' || lpad(g::text, 5, '0'), '', '', 1, now()
		FROM generate_series(1, $2) g`, webtest.ComponentAppID, n)
	require.NoError(t, err)
	c, _ := e.Login(core.RoleViewer)
	cap := strconv.Itoa(postgres.SearchCountCap)

	r := c.Get("/?q=" + url.QueryEscape("花"))
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, cap+"+", r.Text(`#state-counts [data-state=""] b`))
	require.NotEmpty(t, r.Text("[data-capped]"))
	require.Contains(t, r.Text("[data-position]"), "1–50 of 1,000+")
	first := r.Doc.Find("#apps tbody tr").First().AttrOr("data-appid", "")
	require.Equal(t, "wx0000000000cd0001", first, "the first in name order")
	next, ok := r.Doc.Find(`a[data-page="next"]`).Attr("href")
	require.True(t, ok)
	r = c.Get(next)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("[data-position]"), "51–100 of 1,000+")
	require.Equal(t, "wx0000000000cd0033", r.Doc.Find("#apps tbody tr").First().AttrOr("data-appid", ""), "the 51st")

	// A narrower search counts exactly, without the sentence.
	r = c.Get("/?q=" + url.QueryEscape("花园0001"))
	require.Equal(t, "10", r.Text(`#state-counts [data-state=""] b`))
	require.Zero(t, r.Doc.Find("[data-capped]").Length())
}

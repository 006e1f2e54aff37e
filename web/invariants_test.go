package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// Completing a pending audit row may fill in the result, but never change who,
// what, when or where it started: each identity column is tried on its own.
func TestCompletionCannotChangeIdentityColumns(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	db := e.App.Pool
	app := e.addAccount(t, account{})
	other := e.addAccount(t, account{})
	_, first := e.Login(core.RoleOperator)
	_, second := e.Login(core.RoleAdmin)

	var id int64
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO attempts (appid, action, status, staff_id, run_id, request_id, client_ip, instance_id)
		VALUES ($1, 'open', 'pending', $2, 7, 'req-1', '192.0.2.1', 'instance-1') RETURNING id`, app, first.ID).Scan(&id))

	complete := "status = 'completed', outcome = 'success', finished_at = now()"
	changes := map[string]string{
		"id":          "id = id + 1000000",
		"appid":       "appid = '" + other + "'",
		"action":      "action = 'check'",
		"params":      `params = '{"name":"other"}'`,
		"staff_id":    "staff_id = " + strconv.FormatInt(second.ID, 10),
		"staff_id to": "staff_id = NULL",
		"run_id":      "run_id = 8",
		"run_id to":   "run_id = NULL",
		"request_id":  "request_id = 'req-2'",
		"client_ip":   "client_ip = '198.51.100.1'",
		"instance_id": "instance_id = 'instance-2'",
		"started_at":  "started_at = started_at - interval '1 hour'",
	}
	for column, set := range changes {
		_, err := db.Exec(ctx, "UPDATE attempts SET "+complete+", "+set+" WHERE id = $1", id)
		require.ErrorContains(t, err, "append-only", "completion may not change %s", column)
		_, err = db.Exec(ctx, "UPDATE attempts SET "+set+" WHERE id = $1", id)
		require.ErrorContains(t, err, "append-only", "a pending row's %s cannot change either", column)
	}
	// The row is as it was, and completing it alone is still allowed.
	a := e.attemptRow(t, id)
	require.Equal(t, app, a.AppID)
	require.Equal(t, traffic.ActionOpen, a.Action)
	require.Equal(t, first.ID, *a.StaffID)
	require.EqualValues(t, 7, *a.RunID)
	require.Equal(t, "req-1", a.RequestID)
	require.Equal(t, "192.0.2.1", a.ClientIP)
	require.Equal(t, traffic.AttemptPending, a.Status)
	_, err := db.Exec(ctx, "UPDATE attempts SET "+complete+" WHERE id = $1", id)
	require.NoError(t, err)
}

// The partial unique index is the per-account lock: a second pending row for
// the same account is refused, whoever inserts it, while other accounts and
// finished rows are unaffected.
func TestSecondPendingAttemptIsRefused(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	app := e.addAccount(t, account{})
	other := e.addAccount(t, account{})
	begin := func(appID string) (*traffic.Attempt, error) {
		a := &traffic.Attempt{AppID: appID, Action: traffic.ActionOpen, StartedAt: time.Now()}
		return a, e.App.Attempts.BeginAttempt(ctx, a, e.App.InstanceID)
	}

	held, err := begin(app)
	require.NoError(t, err)
	_, err = begin(app)
	require.ErrorIs(t, err, traffic.ErrInFlight, "the store refuses a second pending attempt")
	_, err = e.App.Pool.Exec(ctx, "INSERT INTO attempts (appid, action, status) VALUES ($1, 'check', 'pending')", app)
	require.ErrorContains(t, err, "attempts_one_pending", "so does the database, for any writer and either action")
	_, err = begin(other)
	require.NoError(t, err, "another account is not blocked")
	_, err = e.App.Pool.Exec(ctx, "INSERT INTO attempts (appid, action, status) VALUES ($1, 'unit_create', 'pending')", app)
	require.NoError(t, err, "an ad-operation write has a lane of its own")
	_, err = e.App.Pool.Exec(ctx, "INSERT INTO attempts (appid, action, status) VALUES ($1, 'unit_create', 'pending')", app)
	require.ErrorContains(t, err, "attempts_one_pending", "but two of the same write are one too many")

	now := time.Now()
	held.Status, held.Outcome, held.FinishedAt = traffic.AttemptCompleted, traffic.OutcomeSuccess, &now
	_, err = e.App.Attempts.CompleteAttempt(ctx, held)
	require.NoError(t, err)
	_, err = begin(app)
	require.NoError(t, err, "once completed, the account may be tried again")
	var pending int
	require.NoError(t, e.App.Pool.QueryRow(ctx, "SELECT count(*) FROM attempts WHERE appid = $1 AND status = 'pending' AND action IN ('check', 'open')", app).Scan(&pending))
	require.Equal(t, 1, pending)
}

// The audit history pages through every matching entry, newest first, each
// exactly once, and the next-page link keeps the filter.
func TestAuditPagesThroughEveryEntry(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	app := e.addAccount(t, account{})
	other := e.addAccount(t, account{})
	var mine, all []int64
	for i := range 130 {
		appID := app
		if i%3 == 2 {
			appID = other
		}
		var id int64
		require.NoError(t, e.App.Pool.QueryRow(ctx, `INSERT INTO attempts (appid, action, status, outcome, finished_at) VALUES ($1, 'check', 'completed', 'success', now()) RETURNING id`, appID).Scan(&id))
		all = append([]int64{id}, all...)
		if appID == app {
			mine = append([]int64{id}, mine...)
		}
	}
	c, _ := e.Login(core.RoleViewer)
	walk := func(path string) (pages [][]int64) {
		t.Helper()
		for path != "" {
			r := c.Get(path)
			require.Equal(t, http.StatusOK, r.StatusCode, path)
			var ids []int64
			r.Doc.Find("#attempts tbody tr").Each(func(_ int, s *goquerySel) {
				id, err := strconv.ParseInt(strings.TrimPrefix(s.AttrOr("id", ""), "attempt-"), 10, 64)
				require.NoError(t, err)
				ids = append(ids, id)
			})
			pages = append(pages, ids)
			require.Less(t, len(pages), 10, "the pages end")
			path = r.Doc.Find(`a[rel=next]`).AttrOr("href", "")
		}
		return pages
	}
	flat := func(pages [][]int64) (out []int64) {
		for _, p := range pages {
			out = append(out, p...)
		}
		return out
	}

	pages := walk("/audit")
	require.GreaterOrEqual(t, len(pages), 3, "130 entries take more than two pages")
	require.NotEqual(t, pages[0], pages[1], "page two is not page one again")
	require.Equal(t, all, flat(pages), "every entry once, newest first")
	for _, p := range pages[:len(pages)-1] {
		require.Len(t, p, len(pages[0]), "only the last page is short")
	}

	pages = walk("/audit?appid=" + app)
	require.GreaterOrEqual(t, len(pages), 2)
	require.Equal(t, mine, flat(pages), "the filter holds on every page")
}

package postgres_test

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// queued records what CreateRun and ResumeRun hand to the queue.
type queued struct{ items []jobs.PendingItem }

func (q *queued) fn(_ context.Context, tx pgx.Tx, pending []jobs.PendingItem) error {
	if tx == nil {
		return errors.New("no transaction")
	}
	q.items = append(q.items, pending...)
	return nil
}

func (q *queued) appIDs() []string {
	var out []string
	for _, it := range q.items {
		out = append(out, it.AppID)
	}
	sort.Strings(out)
	return out
}

var runAccounts = []account{
	{appid: "wx000000000000r001", name: "一", state: traffic.StateNever},
	{appid: "wx000000000000r002", name: "二", state: traffic.StateOpen},
	{appid: "wx000000000000r003", name: "三", state: traffic.StateEligible, status: 19},
	{appid: "wx000000000000r004", name: "四", state: traffic.StateNeedsMerchant},
	{appid: "wx000000000000r005", name: "五", state: traffic.StateNever},
}

// A run is created with one item per known account: already open, in
// flight and (for open) frozen accounts are skipped with their reason,
// unknown appids dropped; the pending ones are queued in the same
// transaction. A token starts one run only; a run over no known account is
// not written.
func TestCreateRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	seed(t, pool, runAccounts...)
	inflight := &traffic.Attempt{AppID: "wx000000000000r004", Action: traffic.ActionCheck, StartedAt: time.Now()}
	require.NoError(t, (&postgres.TrafficStore{Pool: pool}).BeginAttempt(ctx, inflight, "instance-1"))
	store := &postgres.RunStore{Pool: pool}

	staffID := int64(0)
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO staff (username, password_hash, role) VALUES ('op', 'x', 'operator') RETURNING id`).Scan(&staffID))
	var q queued
	run := &jobs.Run{Action: traffic.ActionOpen, Status: jobs.RunRunning, Description: "state=never", CreatedBy: &staffID, CreatedByName: "op"}
	ids := []string{"wx000000000000r001", "wx000000000000r002", "wx000000000000r003", "wx000000000000r004", "wx000000000000r005", "wx000000000000r005", "wx000000000000zzzz"}
	require.NoError(t, store.CreateRun(ctx, run, ids, "token-1", q.fn))
	require.NotZero(t, run.ID)
	require.Equal(t, 5, run.Total, "unknown dropped, duplicates once")
	require.Equal(t, []string{"wx000000000000r001", "wx000000000000r005"}, q.appIDs())
	for _, it := range q.items {
		require.Equal(t, run.ID, it.RunID)
		require.Nil(t, it.NotBefore)
	}

	got, err := store.Run(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunRunning, got.Status)
	require.Equal(t, traffic.ActionOpen, got.Action)
	require.Equal(t, "state=never", got.Description)
	require.Equal(t, staffID, *got.CreatedBy)
	require.Equal(t, 5, got.Total)
	require.NoError(t, store.CountItems(ctx, []*jobs.Run{got}, true))
	require.Equal(t, map[traffic.ItemState]int{traffic.ItemPending: 2, traffic.ItemSkipped: 3}, got.States)
	require.Equal(t, map[string]int{string(traffic.OutcomeAlreadyDone): 1, string(traffic.OutcomeInProgress): 1, string(traffic.OutcomeNotAllowed): 1}, got.Outcomes)
	items, err := store.Items(ctx, run.ID, 10)
	require.NoError(t, err)
	reasons := map[string]string{}
	for _, it := range items {
		reasons[it.AppID] = it.Outcome
	}
	require.Equal(t, map[string]string{"wx000000000000r002": "already_done", "wx000000000000r003": "not_allowed", "wx000000000000r004": "in_progress"}, reasons)

	// The same token again: the run exists; nothing new is written.
	var again queued
	require.ErrorIs(t, store.CreateRun(ctx, &jobs.Run{Action: traffic.ActionOpen}, ids, "token-1", again.fn), jobs.ErrRunExists)
	require.Empty(t, again.items)
	id, err := store.RunIDByToken(ctx, "token-1")
	require.NoError(t, err)
	require.Equal(t, run.ID, id)

	// A check does not skip the frozen account; no known account, no run.
	check := &jobs.Run{Action: traffic.ActionCheck}
	require.NoError(t, store.CreateRun(ctx, check, []string{"wx000000000000r003"}, "", q.fn))
	require.Equal(t, 1, check.Total)
	none := &jobs.Run{Action: traffic.ActionCheck}
	require.NoError(t, store.CreateRun(ctx, none, []string{"wx000000000000zzzz"}, "", q.fn))
	require.Zero(t, none.Total)
	list, err := store.ListRuns(ctx, 10, 0)
	require.NoError(t, err)
	require.Len(t, list, 2, "the run over nothing was not written")
	require.Equal(t, check.ID, list[0].ID, "newest first")

	// A run whose accounts are all skipped is finished at once.
	done := &jobs.Run{Action: traffic.ActionOpen}
	require.NoError(t, store.CreateRun(ctx, done, []string{"wx000000000000r002"}, "", q.fn))
	got, err = store.Run(ctx, done.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunFinished, got.Status)
	require.NotNil(t, got.FinishedAt)

	_, err = store.Run(ctx, 1<<40)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
}

// An item is claimed once, only while its run is running; a retry puts it
// back with its backoff, which a resume hands to the queue; pause, resume
// and cancel change only the runs they apply to; finishing the last item
// finishes the run; a platform-wide error pauses it with its code.
func TestRunItemLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	seed(t, pool, runAccounts...)
	store := &postgres.RunStore{Pool: pool}
	attempts := &postgres.TrafficStore{Pool: pool}
	var q queued
	run := &jobs.Run{Action: traffic.ActionCheck}
	require.NoError(t, store.CreateRun(ctx, run, []string{"wx000000000000r001", "wx000000000000r004", "wx000000000000r005"}, "", q.fn))
	a1, a4, a5 := "wx000000000000r001", "wx000000000000r004", "wx000000000000r005"

	w, err := store.WorkItem(ctx, run.ID, a1)
	require.NoError(t, err)
	require.Equal(t, jobs.WorkItem{RunStatus: jobs.RunRunning, Action: traffic.ActionCheck, State: traffic.ItemPending}, *w)
	_, err = store.WorkItem(ctx, run.ID+1, a1)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))

	open, err := store.AccountOpen(ctx, "wx000000000000r002")
	require.NoError(t, err)
	require.True(t, open)
	open, err = store.AccountOpen(ctx, a1)
	require.NoError(t, err)
	require.False(t, open)

	ok, err := store.ClaimItem(ctx, run.ID, a1, 77)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = store.ClaimItem(ctx, run.ID, a1, 78)
	require.NoError(t, err)
	require.False(t, ok, "claimed once")
	w, err = store.WorkItem(ctx, run.ID, a1)
	require.NoError(t, err)
	require.Equal(t, traffic.ItemCalling, w.State)
	require.EqualValues(t, 77, *w.ClaimedJob)

	// The call's attempt, then a retry later.
	last, err := store.LastRunAttempt(ctx, run.ID, a1)
	require.NoError(t, err)
	require.Zero(t, last.Count)
	at := &traffic.Attempt{AppID: a1, Action: traffic.ActionCheck, RunID: &run.ID, StartedAt: time.Now()}
	require.NoError(t, attempts.BeginAttempt(ctx, at, "instance-1"))
	now := time.Now()
	code := -1
	at.Status, at.Outcome, at.Code, at.Message, at.FinishedAt = traffic.AttemptCompleted, traffic.OutcomeRetryable, &code, "system error", &now
	_, err = attempts.CompleteAttempt(ctx, at)
	require.NoError(t, err)
	last, err = store.LastRunAttempt(ctx, run.ID, a1)
	require.NoError(t, err)
	require.Equal(t, jobs.RunAttempt{Count: 1, ID: at.ID, Status: "completed", Outcome: "retryable", Code: &code, Message: "system error"}, last)
	notBefore := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	require.NoError(t, store.RetryItem(ctx, run.ID, a1, 1, notBefore, at))
	w, err = store.WorkItem(ctx, run.ID, a1)
	require.NoError(t, err)
	require.Equal(t, traffic.ItemPending, w.State)
	require.Nil(t, w.ClaimedJob)
	require.Equal(t, 1, w.Tries)

	// Paused, nothing is claimed; pausing twice is refused, as is resuming a running run.
	changed, err := store.ResumeRun(ctx, run.ID, q.fn)
	require.NoError(t, err)
	require.False(t, changed)
	changed, err = store.PauseRun(ctx, run.ID)
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = store.PauseRun(ctx, run.ID)
	require.NoError(t, err)
	require.False(t, changed)
	ok, err = store.ClaimItem(ctx, run.ID, a4, 79)
	require.NoError(t, err)
	require.False(t, ok, "no claim while paused")

	q.items = nil
	changed, err = store.ResumeRun(ctx, run.ID, q.fn)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, []string{a1, a4, a5}, q.appIDs(), "every pending account is queued again")
	for _, it := range q.items {
		if it.AppID == a1 {
			require.True(t, notBefore.Equal(*it.NotBefore), "no earlier than its backoff")
		} else {
			require.Nil(t, it.NotBefore)
		}
	}

	// A platform-wide error pauses the run with its code, the item back to pending.
	ok, err = store.ClaimItem(ctx, run.ID, a4, 80)
	require.NoError(t, err)
	require.True(t, ok)
	code48001 := 48001
	pa := &traffic.Attempt{ID: at.ID, Outcome: traffic.OutcomeProviderConfig, Code: &code48001, Message: "api unauthorized"}
	paused, err := store.PauseForPlatform(ctx, run.ID, a4, 1, pa)
	require.NoError(t, err)
	require.True(t, paused)
	got, err := store.Run(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunPaused, got.Status)
	require.Equal(t, 48001, *got.PauseCode)
	require.Equal(t, "api unauthorized", got.PauseMessage)
	w, err = store.WorkItem(ctx, run.ID, a4)
	require.NoError(t, err)
	require.Equal(t, traffic.ItemPending, w.State)
	paused, err = store.PauseForPlatform(ctx, run.ID, a4, 1, pa)
	require.NoError(t, err)
	require.False(t, paused, "already paused")

	// Resumed, two accounts finish; the last one finishes the run.
	_, err = store.ResumeRun(ctx, run.ID, q.fn)
	require.NoError(t, err)
	require.NoError(t, store.FinishItem(ctx, run.ID, a1, jobs.ItemResult{State: traffic.ItemDone, Tries: 2, AttemptID: &at.ID, Outcome: "success", Message: "ok"}))
	require.NoError(t, store.FinishItem(ctx, run.ID, a4, jobs.ItemResult{State: traffic.ItemSkipped, Outcome: "already_done"}))
	got, err = store.Run(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunRunning, got.Status, "one account is left")
	require.NoError(t, store.FinishItem(ctx, run.ID, a1, jobs.ItemResult{State: traffic.ItemSkipped, Outcome: "not_allowed"}))
	items, err := store.Items(ctx, run.ID, 10)
	require.NoError(t, err)
	require.Len(t, items, 2)
	for _, it := range items {
		if it.AppID == a1 {
			require.Equal(t, "success", it.Outcome, "a finished item is not finished again")
			require.Equal(t, 2, it.Tries)
			require.Equal(t, at.ID, *it.AttemptID)
		}
	}
	require.NoError(t, store.FinishItem(ctx, run.ID, a5, jobs.ItemResult{State: traffic.ItemDone, Outcome: "success"}))
	got, err = store.Run(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunFinished, got.Status)
	changed, err = store.CancelRun(ctx, run.ID)
	require.NoError(t, err)
	require.False(t, changed, "a finished run is not cancelled")
}

// Cancelling marks the accounts not yet called cancelled, leaves the one
// being called to finish, and a retry that comes back after the cancel
// cancels its item rather than queueing it again.
func TestCancelRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	seed(t, pool, runAccounts...)
	store := &postgres.RunStore{Pool: pool}
	var q queued
	run := &jobs.Run{Action: traffic.ActionCheck}
	require.NoError(t, store.CreateRun(ctx, run, []string{"wx000000000000r001", "wx000000000000r005"}, "", q.fn))
	ok, err := store.ClaimItem(ctx, run.ID, "wx000000000000r001", 1)
	require.NoError(t, err)
	require.True(t, ok)
	changed, err := store.CancelRun(ctx, run.ID)
	require.NoError(t, err)
	require.True(t, changed)
	got, err := store.Run(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunCancelled, got.Status)
	require.NoError(t, store.CountItems(ctx, []*jobs.Run{got}, false))
	require.Equal(t, map[traffic.ItemState]int{traffic.ItemCalling: 1, traffic.ItemCancelled: 1}, got.States)
	require.True(t, got.Active(), "the call in progress still finishes")

	code := -1
	require.NoError(t, store.RetryItem(ctx, run.ID, "wx000000000000r001", 1, time.Now(), &traffic.Attempt{Outcome: traffic.OutcomeRetryable, Code: &code}))
	require.NoError(t, store.CountItems(ctx, []*jobs.Run{got}, false))
	require.Equal(t, map[traffic.ItemState]int{traffic.ItemCancelled: 2}, got.States)
	changed, err = store.CancelRun(ctx, run.ID)
	require.NoError(t, err)
	require.False(t, changed)
}

// The confirmation's helpers: names in name order, and the cautions before
// opening.
func TestRunConfirmationQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	seed(t, pool, filterAccounts...)
	store := &postgres.RunStore{Pool: pool}
	names, err := store.Names(ctx, []string{"wx000000000000f004", "wx000000000000f008", "wx000000000000f001", "wx000000000000zzzz"}, 2)
	require.NoError(t, err)
	// The names are in the database's order (not pinyin): 花 before 茶.
	require.Equal(t, []jobs.Named{{AppID: "wx000000000000f001", Name: "花间茶舍"}, {AppID: "wx000000000000f008", Name: "茶"}}, names)
	unknown, notOffered, err := store.OpenCautions(ctx, []string{"wx000000000000f003", "wx000000000000f008", "wx000000000000f001"})
	require.NoError(t, err)
	require.Equal(t, 1, unknown)
	require.Equal(t, 2, notOffered)

	below, err := store.BelowThreshold(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"wx000000000000f007"}, below)
	_, err = pool.Exec(ctx, `UPDATE authorizers SET retry_below_threshold = false WHERE appid = 'wx000000000000f007'`)
	require.NoError(t, err)
	below, err = store.BelowThreshold(ctx)
	require.NoError(t, err)
	require.Empty(t, below)
}

package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// The audit is partitioned by month; each partition keeps the audit's rules
// (no delete, no truncate, no change but completing a pending row once), one
// attempt per account is in flight across all of them, and a date filter
// reads only its months.
func TestAttemptsArePartitionedByMonthWithTheirRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := &postgres.TrafficStore{Pool: pool}
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, account_status) VALUES
		('wx00000000000000p1', 'wxcomponent0000001', true, 'a', 1)`)
	require.NoError(t, err)
	var kind string
	require.NoError(t, pool.QueryRow(ctx, "SELECT relkind::text FROM pg_class WHERE relname = 'attempts'").Scan(&kind))
	require.Equal(t, "p", kind, "attempts is a partitioned table")

	// An attempt two months ago, finished, lands in its month's partition.
	old := time.Now().AddDate(0, -2, 0).UTC()
	a := &traffic.Attempt{AppID: "wx00000000000000p1", Action: traffic.ActionCheck, StartedAt: old}
	require.NoError(t, store.BeginAttempt(ctx, a, "i1"))
	var part string
	require.NoError(t, pool.QueryRow(ctx, "SELECT tableoid::regclass::text FROM attempts WHERE id = $1", a.ID).Scan(&part))
	require.Equal(t, "attempts_"+old.Format("2006_01"), part)
	// One in flight per account, whatever the month.
	err = store.BeginAttempt(ctx, &traffic.Attempt{AppID: a.AppID, Action: traffic.ActionOpen, StartedAt: time.Now()}, "i1")
	require.ErrorIs(t, err, traffic.ErrInFlight)
	fin := old.Add(time.Second)
	a.Status, a.Outcome, a.FinishedAt = traffic.AttemptCompleted, traffic.OutcomeSuccess, &fin
	_, err = store.CompleteAttempt(ctx, a)
	require.NoError(t, err)
	_, err = store.CompleteAttempt(ctx, a)
	require.ErrorIs(t, err, traffic.ErrNotPending, "once")
	b := &traffic.Attempt{AppID: a.AppID, Action: traffic.ActionOpen, StartedAt: time.Now()}
	require.NoError(t, store.BeginAttempt(ctx, b, "i1"), "completed, the account may be tried again")

	// The partition itself refuses what the audit refuses.
	for _, sql := range []string{
		"DELETE FROM " + part,
		"TRUNCATE " + part,
		"TRUNCATE attempts",
		"UPDATE " + part + " SET outcome = 'unknown'",
		"UPDATE attempts SET started_at = started_at + interval '40 days' WHERE id = " + strconv.FormatInt(a.ID, 10),
	} {
		_, err := pool.Exec(ctx, sql)
		require.ErrorContains(t, err, "append-only", sql)
	}

	// A date filter reads its months only.
	var plan string
	from, to := old.Add(-time.Hour), old.Add(time.Hour)
	require.NoError(t, pool.QueryRow(ctx, "EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) SELECT id FROM attempts WHERE started_at >= $1 AND started_at < $2", from, to).Scan(&plan))
	require.NotContains(t, plan, "attempts_"+time.Now().UTC().Format("2006_01"), "this month is not read")
	list, _, err := store.ListAttempts(ctx, postgres.AttemptFilter{From: &from, To: &to})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, a.ID, list[0].ID)
}

// The daily schedule keeps months ahead: AddAttemptMonths makes the
// window's missing months (and only those), so an attempt then lands in its month, not in the default
// partition every date filter reads.
func TestAttemptMonthsAreAddedAhead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := &postgres.TrafficStore{Pool: pool}
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, account_status) VALUES
		('wx00000000000000p2', 'wxcomponent0000001', true, 'a', 1)`)
	require.NoError(t, err)
	made, err := store.AddAttemptMonths(ctx, time.Now())
	require.NoError(t, err)
	require.Zero(t, made, "the migration made this window already")

	later := time.Now().AddDate(0, 30, 0).UTC()
	made, err = store.AddAttemptMonths(ctx, later)
	require.NoError(t, err)
	require.Equal(t, postgres.AttemptMonthsAhead+1, made, "the month of %s and the %d after it", later.Format("2006-01"), postgres.AttemptMonthsAhead)
	again, err := store.AddAttemptMonths(ctx, later)
	require.NoError(t, err)
	require.Zero(t, again, "months that exist are left alone")

	a := &traffic.Attempt{AppID: "wx00000000000000p2", Action: traffic.ActionCheck, StartedAt: later}
	require.NoError(t, store.BeginAttempt(ctx, a, "i1"))
	var part string
	require.NoError(t, pool.QueryRow(ctx, "SELECT tableoid::regclass::text FROM attempts WHERE id = $1", a.ID).Scan(&part))
	require.Equal(t, "attempts_"+later.Format("2006_01"), part)
}

package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func openPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	p, err := postgres.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// TestLivenessSurvivesDatabaseRestart restarts the real server under two
// live instances: recovery must never take the call in flight of the other,
// during the restart or after it, and must take it a lease after its death.
func TestLivenessSurvivesDatabaseRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts a PostgreSQL cluster of its own")
	}
	t.Parallel()
	cluster, dsn := pgtest.Restartable(t)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	poolA, poolB := openPool(t, dsn), openPool(t, dsn)
	_, err := poolA.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001')`)
	require.NoError(t, err)
	_, err = poolA.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program) VALUES ('wx0000000000live01', 'wxcomponent0000001', true)`)
	require.NoError(t, err)

	const lease = 2 * time.Second
	a, err := postgres.StartLiveness(ctx, poolA, "instance-a", lease, quiet)
	require.NoError(t, err)
	t.Cleanup(a.Stop)
	b, err := postgres.StartLiveness(ctx, poolB, "instance-b", lease, quiet)
	require.NoError(t, err)
	t.Cleanup(b.Stop)
	var id int64
	require.NoError(t, poolA.QueryRow(ctx, `INSERT INTO attempts (appid, action, status, instance_id) VALUES ('wx0000000000live01', 'open', 'pending', 'instance-a') RETURNING id`).Scan(&id))
	status := func() string {
		var s string
		require.NoError(t, poolB.QueryRow(ctx, `SELECT status FROM attempts WHERE id = $1`, id).Scan(&s))
		return s
	}
	store := &postgres.TrafficStore{Pool: poolB}
	n, err := store.RecoverInterrupted(ctx, "instance-b")
	require.NoError(t, err)
	require.Zero(t, n)

	require.NoError(t, cluster.Restart(ctx))

	// B's recovery runs as often as it can while the server comes back and
	// for three leases after its first success: A is alive throughout.
	var firstOK time.Time
	for firstOK.IsZero() || time.Since(firstOK) < 3*lease {
		n, err := store.RecoverInterrupted(ctx, "instance-b")
		if err == nil {
			require.Zero(t, n, "a live instance's call was taken after the restart")
			if firstOK.IsZero() {
				firstOK = time.Now()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, "pending", status())

	// A dies as a killed process does: its call is an orphan one lease later.
	a.Kill()
	require.Eventually(t, func() bool {
		n, err := store.RecoverInterrupted(ctx, "instance-b")
		return err == nil && n == 1
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "interrupted", status())
}

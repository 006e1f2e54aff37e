package postgres_test

import (
	"context"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestMigrateFromEmptyIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	// The template was migrated already; running again must be a no-op.
	require.NoError(t, postgres.Migrate(ctx, pool))
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('staff','sessions','security_log','river_job')").Scan(&n))
	require.Equal(t, 4, n)
}

func TestSecurityLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, "INSERT INTO security_log (event, success, username) VALUES ('login', false, 'x')")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "UPDATE security_log SET success = true")
	require.ErrorContains(t, err, "append-only")
	_, err = pool.Exec(ctx, "DELETE FROM security_log")
	require.ErrorContains(t, err, "append-only")
	_, err = pool.Exec(ctx, "TRUNCATE security_log")
	require.ErrorContains(t, err, "append-only")
}

// Instances starting together migrate one at a time: each waits for the
// migration lock, both succeed, and every migration is applied once.
func TestConcurrentMigrationsTakeTurnsUnderTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.EmptyURL(t)
	holder, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer holder.Close(ctx)
	// This connection holds the lock first, so both migrators must wait.
	_, err = holder.Exec(ctx, "SELECT pg_advisory_lock($1)", postgres.MigrateLockID)
	require.NoError(t, err)

	done := make(chan error, 2)
	for range 2 {
		pool, err := postgres.Open(ctx, dsn)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		go func() { done <- postgres.Migrate(ctx, pool) }()
	}
	waiting := func() int {
		var n int
		require.NoError(t, holder.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND objid::bigint = $1 AND objsubid = 1
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, postgres.MigrateLockID).Scan(&n))
		return n
	}
	deadline := time.Now().Add(time.Minute)
	for waiting() < 2 {
		select {
		case err := <-done:
			t.Fatalf("a migration ran without waiting for the lock (err %v)", err)
		default:
		}
		require.False(t, time.Now().After(deadline), "both migrators wait for the lock")
		time.Sleep(20 * time.Millisecond)
	}
	var tables int
	require.NoError(t, holder.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables))
	require.Zero(t, tables, "nothing is applied while the lock is held")

	_, err = holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", postgres.MigrateLockID)
	require.NoError(t, err)
	for range 2 {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(2 * time.Minute):
			t.Fatal("a migrator did not finish after the lock was released")
		}
	}

	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	var versions, rows int
	require.NoError(t, holder.QueryRow(ctx, "SELECT count(DISTINCT version_id), count(*) FROM goose_db_version WHERE version_id > 0").Scan(&versions, &rows))
	require.Equal(t, len(files), versions, "every migration is applied")
	require.Equal(t, versions, rows, "each exactly once")
	var riverVersions, riverRows int
	require.NoError(t, holder.QueryRow(ctx, "SELECT count(DISTINCT version), count(*) FROM river_migration").Scan(&riverVersions, &riverRows))
	require.Positive(t, riverVersions)
	require.Equal(t, riverVersions, riverRows, "River's migrations once too")
	require.NoError(t, holder.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('staff','attempts','runs','river_job')").Scan(&tables))
	require.Equal(t, 4, tables)
}

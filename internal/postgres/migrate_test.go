package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
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

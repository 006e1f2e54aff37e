package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/pgcluster"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// Restartable starts a cluster of the test's own, with one migrated database,
// for tests that stop and restart the server under the program (the shared
// server cannot be restarted under other tests). It returns the cluster and
// the database's connection string; the cluster is removed at cleanup.
func Restartable(t testing.TB) (*pgcluster.Cluster, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "tm-pgrestart-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// The server may run as the postgres user, which must reach the data folder.
	_ = os.Chmod(dir, 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: dir + "/data", Fast: true})
	if err != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	admin, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE tm"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dsn := c.DSN("tm")
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return c, dsn
}

// Package pgtest gives each test its own migrated PostgreSQL database, cloned
// from a template on a real server that the harness starts itself.
//
// Every test package calls pgtest.Main from TestMain. When
// TRAFFICMASTER_TEST_DATABASE_URL names a server (make test starts one for the
// whole run) that server is used; otherwise a private cluster is started in a
// temporary directory and stopped when the package's tests end.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/pgcluster"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/migrations"
)

// EnvURL names an already running server to use instead of starting one.
const EnvURL = "TRAFFICMASTER_TEST_DATABASE_URL"

var (
	adminURL string // connection to the maintenance database
	template string
	once     sync.Once
	onceErr  error
	counter  atomic.Int64
)

// Main starts the server if needed, runs the tests and stops it.
func Main(m *testing.M) int {
	var cluster *pgcluster.Cluster
	if u := os.Getenv(EnvURL); u != "" {
		adminURL = u
	} else {
		dir, err := os.MkdirTemp("", "tm-pgtest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		defer func() {
			if err := os.RemoveAll(dir); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest: remove the data folder:", err)
			}
		}()
		// The server may run as the postgres user, which must reach the data folder.
		_ = os.Chmod(dir, 0o755)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cluster, err = pgcluster.Start(ctx, pgcluster.Options{DataDir: dir + "/data", Fast: true})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: start PostgreSQL:", err)
			return 1
		}
		adminURL = cluster.DSN("postgres")
	}
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// URL returns a connection string for a new, freshly migrated database that is
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	if adminURL == "" {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	once.Do(func() { onceErr = prepareTemplate() })
	if onceErr != nil {
		t.Fatalf("pgtest: prepare template: %v", onceErr)
	}
	return newDatabase(t, "t", template)
}

// EmptyURL returns a connection string for a new database with no schema at
// all (not cloned from the migrated template), dropped when the test ends.
func EmptyURL(t testing.TB) string {
	t.Helper()
	if adminURL == "" {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	return newDatabase(t, "e", "template0")
}

// newDatabase creates a database named with prefix, cloned from the template
// database from, drops it when the test ends and returns its connection string.
func newDatabase(t testing.TB, prefix, from string) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), counter.Add(1), time.Now().UnixNano()%1e6)
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, from)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(name) })
	return withDB(adminURL, name)
}

func dropDatabase(name string) {
	c, err := pgx.Connect(context.Background(), adminURL)
	if err != nil {
		return
	}
	defer c.Close(context.Background())
	_, _ = c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
}

// Pool returns a pool on a new, freshly migrated database, closed at cleanup.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func withDB(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// prepareTemplate migrates a template database named after the migrations'
// content, so parallel test binaries share it and a schema change makes a new one.
func prepareTemplate() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := sha256.New()
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(migrations.FS, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	template = "tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7421002)"); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(7421002)") //nolint:errcheck // closing admin releases the lock too
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, _ = admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", template))
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", template)); err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, withDB(adminURL, template))
	if err != nil {
		return err
	}
	err = postgres.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return err
	}
	_, err = admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s WITH is_template = true", template))
	return err
}

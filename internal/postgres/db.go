// Package postgres implements the core's stores on PostgreSQL with pgx.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/trafficmaster/trafficmaster/migrations"
)

// DefaultStatementTimeout ends any statement of the console's pool that runs
// longer, so one unlucky query cannot hold a connection and a core for
// minutes. Migrations, data generation and exports set their own.
const DefaultStatementTimeout = 10 * time.Second

// Open connects a pool with DefaultStatementTimeout and checks the database answers.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	return OpenTimeout(ctx, dsn, DefaultStatementTimeout)
}

// OpenTimeout connects a pool whose every connection has statement_timeout
// set to timeout (0: none) and checks the database answers.
func OpenTimeout(ctx context.Context, dsn string, timeout time.Duration) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if cfg.MaxConns < 20 {
		cfg.MaxConns = 20
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "trafficmaster"
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// Untimed returns a small pool to the same database as pool whose statements
// never time out, for work that is long by nature (migrations, generating
// benchmark data). The caller closes it.
func Untimed(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config()
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "0"
	cfg.MaxConns, cfg.MinConns = 4, 0
	return pgxpool.NewWithConfig(ctx, cfg)
}

// migrateLockID serialises migrations across every instance starting at once.
const migrateLockID = 7_421_001

// Migrate applies our migrations and River's under one advisory lock.
func Migrate(ctx context.Context, timed *pgxpool.Pool) error {
	// A migration may rewrite a large table: no statement timeout.
	pool, err := Untimed(ctx, timed)
	if err != nil {
		return err
	}
	defer pool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockID); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrateLockID) //nolint:errcheck // releasing the connection ends its session locks too

	db := stdlib.OpenDBFromPool(pool)
	defer func() { _ = db.Close() }() // the pool, not this wrapper, owns the connections
	if err := gooseUp(ctx, db); err != nil {
		return err
	}
	// Migration 00099's backfill: the running-total vectors of the days
	// stored before it, carried in Go (a no-op once built).
	if err := BackfillRankVectors(ctx, pool); err != nil {
		return fmt.Errorf("revenue rank vectors: %w", err)
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

func gooseUp(ctx context.Context, db *sql.DB) error {
	// Numbers are given out in ranges to work done side by side, so a lower
	// number can arrive after a higher one has been applied: it is applied
	// then, not refused.
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// isUniqueViolation reports a unique-constraint failure.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// notFound maps pgx.ErrNoRows to nothing else; callers turn it into a core error.
func notFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// querier is what both the pool and a transaction offer, so one store method
// serves inside and outside a transaction. It is the one executor type of
// the stores.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in one transaction of pool: committed when fn returns nil,
// rolled back when it fails or panics. It is the one way the stores write
// in a transaction.
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op once committed; a failed rollback ends the connection
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// EnsureDatabase creates the database name on the server adminDSN connects
// to, unless it exists: the dev command's private cluster.
func EnsureDatabase(ctx context.Context, adminDSN, name string) error {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	}
	return err
}

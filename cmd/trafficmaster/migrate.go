package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "migrate", "migrate\n\nApplies the database migrations (DATABASE_URL) and exits. Safe to run from\nseveral instances at once: a lock in Postgres serialises them.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dsn := e.getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is required")
	}
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

package main

import (
	"context"
	"fmt"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "migrate", "migrate\n\nApplies the database migrations (DATABASE_URL) and exits. Safe to run from\nseveral instances at once: a lock in Postgres serialises them.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := openDB(ctx, e)
	if err != nil {
		return err
	}
	defer pool.Close()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	usage := "migrate\n\nApplies the database migrations (DATABASE_URL) and exits. Safe to run from\nseveral instances at once: a lock in Postgres serialises them."
	if err := newFlags(e, "migrate", usage).Parse(args); err != nil {
		return err
	}
	return withDB(ctx, e, func(*pgxpool.Pool) error {
		fmt.Fprintln(e.stdout, "migrations applied")
		return nil
	})
}

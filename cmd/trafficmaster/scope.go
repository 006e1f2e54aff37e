package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/app"
)

// withDB runs f on a migrated pool on DATABASE_URL and closes the pool after,
// for the commands that need only the database.
func withDB(ctx context.Context, e env, f func(*pgxpool.Pool) error) error {
	pool, err := openDB(ctx, e)
	if err != nil {
		return err
	}
	defer pool.Close()
	return f(pool)
}

// withApp runs f on the whole program wired from the environment's
// configuration (logging to stderr as log makes it) and closes it after.
func withApp(ctx context.Context, e env, log func(io.Writer) *slog.Logger, f func(*app.App) error) error {
	a, _, err := loadApp(ctx, e, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return f(a)
}

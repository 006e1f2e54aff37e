package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func cmdGen(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "gen", "gen [-accounts N] [-attempts N]\n\nFills an empty database (DATABASE_URL) with generated accounts and audit\nrows for the benchmarks in BENCHMARKS.md. Never point it at production.")
	accounts := fs.Int("accounts", 100_000, "number of authorized accounts")
	attempts := fs.Int("attempts", 10_000_000, "number of audit rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *accounts <= 0 || *attempts < 0 {
		return errors.New("-accounts must be positive and -attempts not negative")
	}
	return withDB(ctx, e, func(pool *pgxpool.Pool) error {
		start := time.Now()
		if err := postgres.Generate(ctx, pool, *accounts, *attempts, e.stdout); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "generated %d accounts and %d attempts in %s\n", *accounts, *attempts, time.Since(start).Round(time.Second))
		return nil
	})
}

package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func cmdGenRevenue(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "gen-revenue", "gen-revenue [-accounts N] [-days D] [-slot-days S]\n\nFills a database (DATABASE_URL) with generated ad data for the revenue\nbenchmarks in BENCHMARKS.md: D days ending yesterday for N accounts, their\nrollups, and the per slot rows of the last S days. It generates the accounts\nfirst (as gen does, without audit rows) when the database has none. Never\npoint it at production.")
	accounts := fs.Int("accounts", 100_000, "number of Mini Programs with ad data")
	days := fs.Int("days", 365, "days of ad data, ending yesterday")
	slotDays := fs.Int("slot-days", 7, "days of per slot rows, ending yesterday")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *accounts <= 0 || *days <= 0 || *slotDays < 0 {
		return errors.New("-accounts and -days must be positive and -slot-days not negative")
	}
	return withDB(ctx, e, func(pool *pgxpool.Pool) error {
		start := time.Now()
		var have int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM authorizers WHERE component_appid = $1", postgres.GenComponentAppID).Scan(&have); err != nil {
			return err
		}
		if have == 0 {
			if err := postgres.Generate(ctx, pool, *accounts, 0, e.stdout); err != nil {
				return err
			}
		} else if have < *accounts {
			return fmt.Errorf("the database has %d generated accounts, fewer than -accounts %d", have, *accounts)
		}
		if err := postgres.GenerateRevenue(ctx, pool, *accounts, *days, *slotDays, e.stdout); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "generated %d days of ad data for %d accounts (%d days of slot rows) in %s\n", *days, *accounts, min(*slotDays, *days), time.Since(start).Round(time.Second))
		return nil
	})
}

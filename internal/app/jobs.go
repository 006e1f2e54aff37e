package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
)

// tokenRefreshAhead is how long before expiry the schedule renews tokens, so
// a bulk run never waits on a refresh.
const tokenRefreshAhead = 20 * time.Minute

// newJobs builds the queue client with its schedules; its workers call the
// traffic service for each account of a run. They run in App.Background
// (serve, dev) or alone (worker).
func newJobs(cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, instanceID string, attempter core.Attempter, schedules []jobs.Schedule, now func() time.Time, pulls jobs.RevenuePulls, collector jobs.RevenueCollector) (*jobs.Client, error) {
	return jobs.New(jobs.Config{
		ID: instanceID, Pool: pool, Log: log, Attempter: attempter,
		RatePerSecond: cfg.RatePerSecond, Concurrency: cfg.Concurrency, RetryWait: cfg.RetryBackoff, Now: now,
		Schedules: schedules, RevenuePulls: pulls, Revenue: collector,
	})
}

func (a *App) schedules() []jobs.Schedule {
	s := []jobs.Schedule{jobs.RetryBelowThreshold(24 * time.Hour)}
	if a.Platform != nil {
		s = append(s, jobs.Schedule{
			Name: "authorizer_sync", Description: "Read every authorizer from WeChat", Every: a.Config.SyncInterval, RunOnStart: true,
			Do: func(ctx context.Context, _ *jobs.Client) (string, error) {
				r, err := a.Platform.Sync(ctx)
				return r.String(), err
			},
		})
	}
	if a.TokenManager != nil {
		s = append(s, jobs.Schedule{
			Name: "token_refresh", Description: "Refresh access tokens ahead of expiry", Every: 5 * time.Minute, RunOnStart: true,
			Do: func(ctx context.Context, _ *jobs.Client) (string, error) {
				tm := *a.TokenManager
				tm.MinLife += tokenRefreshAhead
				rows, err := a.Pool.Query(ctx, `
					SELECT t.appid FROM authorizer_tokens t JOIN authorizers a USING (appid)
					WHERE a.revoked_at IS NULL AND t.expires_at < now() + $1::interval`, tm.MinLife.String())
				if err != nil {
					return "", err
				}
				ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return "", err
				}
				failed := 0
				for _, id := range ids {
					if _, err := tm.AuthorizerAccessToken(ctx, id); err != nil {
						failed++
						a.Log.Warn("refresh authorizer token ahead of expiry", "appid", id, "err", err)
					}
				}
				if failed > 0 {
					return "", fmt.Errorf("%d of %d authorizer tokens could not be refreshed", failed, len(ids))
				}
				return fmt.Sprintf("%d authorizer tokens refreshed", len(ids)), nil
			},
		})
	}
	return s
}

// RunBackground runs the background work and the queue's workers without
// the HTTP server: the worker-only process.
func (a *App) RunBackground(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, bg := range a.Background {
		g.Go(func() error { return bg(gctx) })
	}
	return g.Wait()
}
